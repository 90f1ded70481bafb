package io.sparknas.jobs.data;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.artifact.Sample;
import org.apache.spark.sql.Encoders;
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
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bucket files, shards read from them, the epochs' block orders and stratified subsets, on a small real ingest run. */
class ImageSplitsTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static RunStore store;

    @BeforeAll
    static void ingest() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "d", false, Map.of("nas.ingest.train-per-class", "30",
                "nas.ingest.val-per-class", "10", "nas.ingest.test-per-class", "10", "nas.ingest.buckets", "4")), spark);
        store = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
    }

    @Test
    void aShardIsItsBucketsInPositionOrderReadWithoutAShuffle() {
        ImageTable table = ImageTable.open(spark, store, "train");
        assertEquals(4, table.buckets());
        List<Row> rows = ImageSplits.rows(spark, store, "train").select("bucket", "pos", "class_index", "pixels")
                .orderBy("bucket", "pos").collectAsList();
        assertEquals(300, rows.size());
        List<List<Sample>> shards = ImageSplits.sharded(spark, store, "train", 2, 0, 0).glom().collect();
        assertEquals(2, shards.size());
        int total = 0;
        for (int w = 0; w < 2; w++) {
            int ww = w;
            List<Row> expected = rows.stream().filter(r -> r.getInt(0) % 2 == ww).toList();
            assertEquals(expected.size(), shards.get(w).size(), "worker " + w + " holds the buckets b mod 2 = " + w);
            for (int i = 0; i < expected.size(); i++) {
                assertEquals(expected.get(i).getInt(2), shards.get(w).get(i).label());
                assertArrayEquals((byte[]) expected.get(i).get(3), shards.get(w).get(i).pixels(), "(bucket, position) order");
            }
            assertTrue(expected.size() > 100 && expected.size() < 200, "about half of 300 images: " + expected.size());
            total += expected.size();
        }
        assertEquals(300, total);
        for (int b = 0; b < 4; b++) {
            int bb = b;
            List<Integer> pos = rows.stream().filter(r -> r.getInt(0) == bb).map(r -> r.getInt(1)).toList();
            for (int i = 0; i < pos.size(); i++) {
                assertEquals(i, pos.get(i), "bucket " + b + "'s positions are 0, 1, ...");
            }
            // a bucket mixes the classes in position order: its first 20 positions hold several classes
            assertTrue(rows.stream().filter(r -> r.getInt(0) == bb && r.getInt(1) < 20).map(r -> r.getInt(2)).distinct().count() >= 5);
        }
        InputDataException e = assertThrows(InputDataException.class, () -> ImageSplits.sharded(spark, store, "train", 5, 0, 0));
        assertTrue(e.getMessage().contains("nas.ingest.buckets >= 5"), e.getMessage());
        // a limited shard holds exactly the stratified subset
        List<Sample> limited = ImageSplits.sharded(spark, store, "train", 2, 40, 3).collect();
        assertEquals(40, limited.size());
        for (int c = 0; c < 10; c++) {
            int cc = c;
            assertEquals(4, limited.stream().filter(x -> x.label() == cc).count(), "4 of class " + c);
        }
    }

    @Test
    void anEpochVisitsEveryImageOfItsViewOnceReadingOnlyTheBlocksItUses() {
        ImageTable table = ImageTable.open(spark, store, "train");
        List<Sample> shard = ImageSplits.sharded(spark, store, "train", 2, 0, 0).glom().collect().get(1);
        BlockOrder.Filter all = (label, part) -> true;
        BlockOrder order = new BlockOrder(table, 1, 2, all, 32, 7, 0);
        assertEquals(shard.size(), order.size());
        List<String> visited = new ArrayList<>();
        for (long i = 0; i < order.size(); i++) {
            visited.add(key(order.get(i)));
        }
        List<String> expected = new ArrayList<>(shard.stream().map(ImageSplitsTest::key).toList());
        assertNotEquals(expected, visited, "a shuffled order");
        Collections.sort(expected);
        List<String> sorted = new ArrayList<>(visited);
        Collections.sort(sorted);
        assertEquals(expected, sorted, "every image of the shard exactly once");
        assertEquals(shard.size(), order.rowsRead(), "a whole epoch reads each block once");
        List<String> again = new ArrayList<>();
        BlockOrder same = new BlockOrder(table, 1, 2, all, 32, 7, 0);
        for (long i = 0; i < same.size(); i++) {
            again.add(key(same.get(i)));
        }
        assertEquals(visited, again, "same seed and epoch, same order");
        BlockOrder next = new BlockOrder(table, 1, 2, all, 32, 7, 1);
        List<String> nextEpoch = new ArrayList<>();
        for (long i = 0; i < next.size(); i++) {
            nextEpoch.add(key(next.get(i)));
        }
        assertNotEquals(visited, nextEpoch, "another epoch, another order");

        // a round of 2 steps x 5 images from the middle of the epoch: the shard is > 10x the round, the reads are not
        BlockOrder round = new BlockOrder(table, 1, 2, all, 32, 7, 3);
        for (long i = 60; i < 70; i++) {
            round.get(i);
        }
        assertTrue(round.rowsRead() <= 10 + 32, "a round of 10 images reads at most its blocks: " + round.rowsRead());
        assertTrue(shard.size() >= 100, "the shard is at least 10x the round: " + shard.size());

        // a class view: only its classes, all of them
        BlockOrder two = new BlockOrder(table, 1, 2, (label, part) -> label == 2 || label == 7, 32, 7, 0);
        assertEquals(shard.stream().filter(x -> x.label() == 2 || x.label() == 7).count(), two.size());
        for (long i = 0; i < two.size(); i++) {
            int label = two.get(i).label();
            assertTrue(label == 2 || label == 7);
        }
    }

    private static String key(Sample s) {
        return s.label() + ":" + Arrays.hashCode(s.pixels());
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
