package io.sparknas.jobs.data;

import org.apache.spark.sql.Encoders;
import java.util.Collections;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deterministic shards and stratified subsets on a small real ingest run. */
class ImageSplitsTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static RunStore store;

    @BeforeAll
    static void ingest() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "d", false, Map.of("nas.ingest.train-per-class", "30",
                "nas.ingest.val-per-class", "10", "nas.ingest.test-per-class", "10")), spark);
        store = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
    }

    /** Partition contents (ids in order) of the train split in {@code shards} shards, read from rows in {@code inputPartitions}. */
    static List<List<String>> shards(int shards, int inputPartitions) {
        Dataset<Row> rows = ImageSplits.rows(spark, store, "train").repartition(inputPartitions);
        return rows.select("id").javaRDD().map(r -> r.getString(0)).mapToPair(id -> new scala.Tuple2<>(id, id))
                .repartitionAndSortWithinPartitions(new ImageSplits.IdPartitioner(shards)).values().glom().collect();
    }

    @Test
    void shardsDependOnIdsOnlyNotOnHowTheInputIsPartitioned() {
        List<List<String>> a = shards(3, 1);
        List<List<String>> b = shards(3, 7);
        assertEquals(a, b, "same shards whatever the input partitioning");
        assertEquals(3, a.size());
        int total = 0;
        for (int w = 0; w < a.size(); w++) {
            List<String> sorted = new ArrayList<>(a.get(w));
            Collections.sort(sorted);
            assertEquals(sorted, a.get(w), "shard " + w + " in id order");
            for (String id : a.get(w)) {
                assertEquals(w, ImageSplits.IdPartitioner.shardOf(id, 3));
            }
            assertTrue(a.get(w).size() > 60 && a.get(w).size() < 140, "about a third of 300 images: " + a.get(w).size());
            total += a.get(w).size();
        }
        assertEquals(300, total);
        // the samples of ImageSplits.sharded are in the same partitions and order
        List<List<Integer>> labels = ImageSplits.sharded(spark, store, "train", 3, 0, 0).map(x -> x.label()).glom().collect();
        assertEquals(a.stream().map(List::size).toList(), labels.stream().map(List::size).toList());
    }

    @Test
    void stratifiedSubsetsTakeEveryClassAndFollowTheSeed() {
        Dataset<Row> val = ImageSplits.rows(spark, store, "val");
        List<Row> perClass = ImageSplits.stratified(val, 20, 1).groupBy("class_index").count().collectAsList();
        assertEquals(10, perClass.size(), "every class, not the first classes by id");
        for (Row r : perClass) {
            assertEquals(2L, r.getLong(1), "2 of each of the 10 classes");
        }
        List<String> s1 = ImageSplits.stratified(val, 20, 1).select("id").orderBy("id").as(Encoders.STRING()).collectAsList();
        List<String> again = ImageSplits.stratified(val.repartition(5), 20, 1).select("id").orderBy("id").as(Encoders.STRING())
                .collectAsList();
        List<String> s2 = ImageSplits.stratified(val, 20, 2).select("id").orderBy("id").as(Encoders.STRING()).collectAsList();
        assertEquals(s1, again, "same seed, same subset");
        assertNotEquals(s1, s2, "another seed, another subset");
        assertEquals(25, ImageSplits.stratified(val, 25, 1).count(), "limits that are not a multiple of the classes");
    }
}
