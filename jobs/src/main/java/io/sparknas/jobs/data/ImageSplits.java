package io.sparknas.jobs.data;

import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.artifact.Sample;
import io.sparknas.jobs.store.RunStore;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * The splits of a run's images table as the trainers and evaluators read them, the same on every run and every cluster:
 * which image lands in which partition, and in what order, is a function of the image ids and the configuration only
 * (never of Parquet splits, shuffle fetch order or the number of cores).
 *
 * <ul>
 *   <li>ingest puts every image in a hash bucket of its id ({@link #bucketOf}) at a seeded position ({@link #orderInBucket});</li>
 *   <li>{@link #sharded}: {@code shards} partitions; partition {@code w} reads the buckets {@code b mod shards = w} straight
 *   from their files, in (bucket, position) order - no shuffle;</li>
 *   <li>{@link #stratified}: a seeded class-stratified subset of a split (the first {@code limit} images in the order
 *   "round-robin over classes, within a class by xxhash64(seed, id)"), so a subset of 2,000 of ImageNet's 50,000 val
 *   images holds 2 of every class rather than the first 40 classes; chosen from the id columns, never the pixels.</li>
 * </ul>
 */
public final class ImageSplits {

    /** Seed of the bucket hash: an image's bucket is a function of its id alone. */
    private static final long BUCKET_SEED = 0x5EEDB0C3L;

    private ImageSplits() {
    }

    /** The rows of one split of the run's images table. */
    public static Dataset<Row> rows(SparkSession spark, RunStore store, String split) {
        return spark.read().parquet(store.tableUri(IngestOutputs.STAGE, IngestOutputs.IMAGES)).where(functions.col("split").equalTo(split));
    }

    /** An image's bucket: {@code pmod(xxhash64(BUCKET_SEED, id), buckets)}. */
    public static Column bucketOf(Column id, int buckets) {
        return functions.pmod(functions.xxhash64(functions.lit(BUCKET_SEED), id), functions.lit((long) buckets)).cast(DataTypes.IntegerType);
    }

    /** The order of a bucket's positions: {@code xxhash64(seed, 1, id)} (then the id), a mix of every class. */
    public static Column orderInBucket(Column id, long seed) {
        return functions.xxhash64(functions.lit(seed), functions.lit(1), id);
    }

    /** {@link #partOf} as a column. */
    public static Column partColumn(Column id) {
        return functions.udf((UDF1<String, Integer>) ImageSplits::partOf, DataTypes.IntegerType).apply(id);
    }

    /**
     * A split as samples in {@code shards} partitions (partition {@code w}: the buckets {@code b mod shards = w}, in bucket
     * and position order, read from their files); {@code limit > 0}: only its {@link #stratified} subset.
     */
    public static JavaRDD<Sample> sharded(SparkSession spark, RunStore store, String split, int shards, int limit, long seed) {
        ImageTable table = ImageTable.open(spark, store, split);
        table.checkWorkers(shards, "the number of shards");
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<Set<Long>> keep = null;
        if (limit > 0) {
            Set<Long> keys = new HashSet<>();
            for (Row r : stratified(rows(spark, store, split).select("id", "class_index", "bucket", "pos"), limit, seed)
                    .select("bucket", "pos").collectAsList()) {
                keys.add(key(r.getInt(0), ((Number) r.get(1)).longValue()));
            }
            keep = jsc.broadcast(keys);
        }
        Broadcast<Set<Long>> kept = keep;
        return jsc.parallelize(IntStream.range(0, shards).boxed().toList(), shards)
                .mapPartitionsWithIndex((w, it) -> shardRows(table, w, shards, kept == null ? null : kept.value()), false);
    }

    /** A (bucket, position) pair as one number. */
    static long key(int bucket, long pos) {
        return ((long) bucket << 40) | pos;
    }

    /** Worker w's buckets, streamed a row group at a time. */
    private static Iterator<Sample> shardRows(ImageTable table, int w, int shards, Set<Long> keep) {
        int[] buckets = table.bucketsOf(w, shards);
        return new Iterator<>() {
            private int b = -1;
            private long next;
            private int size;
            private List<Sample> chunk = List.of();
            private int at;

            @Override
            public boolean hasNext() {
                while (at >= chunk.size()) {
                    if (b >= 0 && next < size) {
                        String file = table.files()[buckets[b]];
                        long[] starts = BucketFile.index(file, table.conf()).rowGroupStarts();
                        long end = next;
                        for (long s : starts) {
                            if (s > next) {
                                end = s;
                                break;
                            }
                        }
                        List<Sample> rows = BucketFile.read(file, table.conf(), next, end);
                        chunk = keep == null ? rows : filter(rows, buckets[b], next, keep);
                        next = end;
                        at = 0;
                    } else if (b + 1 < buckets.length) {
                        b++;
                        next = 0;
                        size = BucketFile.index(table.files()[buckets[b]], table.conf()).size();
                    } else {
                        return false;
                    }
                }
                return true;
            }

            @Override
            public Sample next() {
                if (!hasNext()) {
                    throw new java.util.NoSuchElementException();
                }
                return chunk.get(at++);
            }
        };
    }

    private static List<Sample> filter(List<Sample> rows, int bucket, long from, Set<Long> keep) {
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            if (keep.contains(key(bucket, from + i))) {
                out.add(rows.get(i));
            }
        }
        return out;
    }

    /**
     * The part of an image id in [0, {@link Sample#PARTS}): a fixed mix of {@link String#hashCode}, so every worker's shard
     * holds each part in about the same share. Ingest writes it as the column {@code part}.
     */
    public static int partOf(String id) {
        long h = id.hashCode() * 0xC2B2AE3D27D4EB4FL;
        h ^= h >>> 31;
        h *= 0x165667B19E3779F9L;
        h ^= h >>> 29;
        return (int) Math.floorMod(h, (long) Sample.PARTS);
    }

    /** The first {@code limit} rows in the order: rank within class by xxhash64(seed, id), then class, then id. */
    public static Dataset<Row> stratified(Dataset<Row> rows, int limit, long seed) {
        Column h = functions.xxhash64(functions.lit(seed), functions.col("id"));
        Dataset<Row> ranked = rows.withColumn("_h", h)
                .withColumn("_rank", functions.row_number().over(Window.partitionBy("class_index").orderBy("_h", "id")));
        return ranked.orderBy("_rank", "class_index", "id").limit(limit).drop("_h", "_rank");
    }
}
