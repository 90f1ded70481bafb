package io.sparknas.jobs.data;

import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.artifact.Sample;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import scala.Tuple2;

/**
 * The splits of a run's images table as the trainers and evaluators read them, the same on every run and every cluster:
 * which image lands in which partition, and in what order, is a function of the image ids and the configuration only
 * (never of Parquet splits, shuffle fetch order or the number of cores).
 *
 * <ul>
 *   <li>{@link #sharded}: {@code shards} partitions; an image goes to partition {@link IdPartitioner#shardOf} of its id and each
 *   partition is sorted by id, so partition {@code w} is worker {@code w}'s data shard on every run;</li>
 *   <li>{@link #stratified}: a seeded class-stratified subset of a split (the first {@code limit} images in the order
 *   "round-robin over classes, within a class by xxhash64(seed, id)"), so a subset of 2,000 of ImageNet's 50,000 val
 *   images holds 2 of every class rather than the first 40 classes.</li>
 * </ul>
 */
public final class ImageSplits {

    private ImageSplits() {
    }

    /** The rows of one split of the run's images table. */
    public static Dataset<Row> rows(SparkSession spark, RunStore store, String split) {
        return spark.read().parquet(store.tableUri(IngestOutputs.STAGE, IngestOutputs.IMAGES)).where(functions.col("split").equalTo(split));
    }

    /** A split as samples in {@code shards} id-determined partitions; {@code limit > 0}: its {@link #stratified} subset. */
    public static JavaRDD<Sample> sharded(SparkSession spark, RunStore store, String split, int shards, int limit, long seed) {
        Dataset<Row> rows = rows(spark, store, split);
        if (limit > 0) {
            rows = stratified(rows, limit, seed);
        }
        return shard(rows, shards);
    }

    /** Rows with {@code id}, {@code class_index} and {@code pixels} as samples in {@code shards} partitions by image id, each sorted by id. */
    public static JavaRDD<Sample> shard(Dataset<Row> rows, int shards) {
        IdPartitioner partitioner = new IdPartitioner(shards);
        return rows.select("id", "class_index", "pixels").javaRDD()
                .mapToPair(r -> new Tuple2<>(r.getString(0), new Sample(r.getInt(1), (byte[]) r.get(2), partOf(r.getString(0)))))
                .repartitionAndSortWithinPartitions(partitioner).values();
    }

    /**
     * The part of an image id in [0, {@link Sample#PARTS}): another fixed mix of {@link String#hashCode} than the shard's, so
     * every worker's shard holds each part in about the same share.
     */
    public static int partOf(String id) {
        long h = id.hashCode() * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 31;
        h *= 0x165667B19E3779F9L;
        h ^= h >>> 29;
        return (int) Math.floorMod(h, (long) Sample.PARTS);
    }

    /** Partition of an image id: a fixed mix of {@link String#hashCode} (defined by the Java language), modulo the shards. */
    static final class IdPartitioner extends Partitioner {
        private static final long serialVersionUID = 1L;
        private final int shards;

        IdPartitioner(int shards) {
            if (shards < 1) {
                throw new IllegalArgumentException("shards must be >= 1: " + shards);
            }
            this.shards = shards;
        }

        static int shardOf(String id, int shards) {
            long h = id.hashCode() * 0x9E3779B97F4A7C15L;
            h ^= h >>> 29;
            return (int) Math.floorMod(h, (long) shards);
        }

        @Override
        public int numPartitions() {
            return shards;
        }

        @Override
        public int getPartition(Object key) {
            return shardOf((String) key, shards);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof IdPartitioner p && p.shards == shards;
        }

        @Override
        public int hashCode() {
            return shards;
        }
    }

    /** The first {@code limit} rows in the order: rank within class by xxhash64(seed, id), then class, then id. */
    public static Dataset<Row> stratified(Dataset<Row> rows, int limit, long seed) {
        Column h = functions.xxhash64(functions.lit(seed), functions.col("id"));
        Dataset<Row> ranked = rows.withColumn("_h", h)
                .withColumn("_rank", functions.row_number().over(Window.partitionBy("class_index").orderBy("_h", "id")));
        return ranked.orderBy("_rank", "class_index", "id").limit(limit).drop("_h", "_rank");
    }
}
