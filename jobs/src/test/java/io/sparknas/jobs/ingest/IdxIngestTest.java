package io.sparknas.jobs.ingest;

import java.util.TreeMap;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sparknas.jobs.store.StageConflictException;
import io.sparknas.jobs.testing.FashionMnist;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ingest of the real Fashion-MNIST IDX files (the full preset: val-per-class 1000). */
class IdxIngestTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static IngestResult full;

    @BeforeAll
    static void ingestFull() {
        spark = SharedSpark.session();
        FashionMnist.dir();
        full = IngestStage.run(Stages.ingest("fashion-mnist.conf", root, "full", false, Map.of()), spark);
    }

    private static Dataset<Row> images() {
        return spark.read().parquet(root.resolve("full/ingest/images").toString());
    }

    @Test
    void splitCountsMatchTheConfig() {
        assertFalse(full.skipped());
        assertEquals(50_000, full.train());
        assertEquals(10_000, full.val());
        assertEquals(10_000, full.test());
        assertEquals(10, full.classes());
        assertEquals(0, full.rejects());
        Map<String, Long> bySplit = new TreeMap<>();
        for (Row r : images().groupBy("split").count().collectAsList()) {
            bySplit.put(r.getString(0), r.getLong(1));
        }
        assertEquals(Map.of("train", 50_000L, "val", 10_000L, "test", 10_000L), bySplit);
    }

    @Test
    void valHoldOutIsExactPerClassAndClassesTableAgrees() {
        List<Row> perClass = images().where("split = 'val'").groupBy("class_index").count().collectAsList();
        assertEquals(10, perClass.size());
        for (Row r : perClass) {
            assertEquals(1000L, r.getLong(1), "val images of class " + r.get(0));
        }
        List<Row> classes = spark.read().parquet(root.resolve("full/ingest/classes").toString()).orderBy("index").collectAsList();
        assertEquals("T-shirt/top", classes.get(0).getAs("name"));
        assertEquals("Ankle boot", classes.get(9).getAs("name"));
        for (Row c : classes) {
            assertEquals(5000L, (long) c.getAs("train"));
            assertEquals(1000L, (long) c.getAs("val"));
            assertEquals(1000L, (long) c.getAs("test"));
        }
        assertEquals(0, images().groupBy("id").count().where("count > 1").count(), "ids are unique");
    }

    @Test
    void pixelBytesAndLabelsEqualTheIdxSource() {
        byte[][] train = FashionMnist.images("train");
        int[] trainLabels = FashionMnist.labels("train");
        byte[][] test = FashionMnist.images("t10k");
        int[] testLabels = FashionMnist.labels("t10k");
        List<Row> sample = images().sample(0.002, 7).collectAsList();
        assertTrue(sample.size() > 80, "sampled " + sample.size());
        for (Row r : sample) {
            String id = r.getAs("id");
            int idx = Integer.parseInt(id.substring(id.indexOf('-') + 1));
            boolean fromTest = id.startsWith("test-");
            assertEquals(fromTest, "test".equals(r.getAs("split")), id);
            assertEquals(fromTest ? testLabels[idx] : trainLabels[idx], (int) r.getAs("class_index"), id);
            assertEquals(28, (int) r.getAs("height"));
            assertEquals(1, (int) r.getAs("channels"));
            assertArrayEquals(fromTest ? test[idx] : train[idx], (byte[]) r.getAs("pixels"), id);
        }
    }

    @Test
    void stageRecordDescribesTheRun() throws IOException {
        JsonNode j = new ObjectMapper().readTree(new File(root.resolve("full/ingest/_stage.json").toString()));
        assertEquals("ingest", j.get("stage").asText());
        assertEquals("full", j.get("run_id").asText());
        assertEquals("committed", j.get("status").asText());
        assertEquals(1, j.get("seed").asLong());
        assertEquals(64, j.get("config_hash").asText().length());
        assertEquals(1000, j.at("/config/ingest/val-per-class").asInt());
        assertEquals(70_000, j.at("/tables/images/rows").asLong());
        assertEquals("split", j.at("/tables/images/partitioned_by/0").asText());
        assertEquals(10, j.at("/tables/classes/rows").asLong());
        Set<String> inputs = new HashSet<>();
        j.get("inputs").forEach(i -> inputs.add(i.get("id").asText()));
        assertEquals(Set.of("source:train-images", "source:train-labels", "source:test-images", "source:test-labels"), inputs);
        assertTrue(j.at("/spark/master").asText().startsWith("local"));
        assertTrue(j.get("backend").asText().contains("oneDNN yes"));
        assertTrue(j.get("started_at").asText().compareTo(j.get("ended_at").asText()) <= 0);
    }

    @Test
    void rerunWithSameConfigIsSkippedAndChangedConfigIsRefused() {
        IngestResult again = IngestStage.run(Stages.ingest("fashion-mnist.conf", root, "full", false, Map.of()), spark);
        assertTrue(again.skipped());
        assertEquals(full.record().fingerprint(), again.record().fingerprint());
        StageConflictException e = assertThrows(StageConflictException.class,
                () -> IngestStage.run(Stages.ingest("fashion-mnist.conf", root, "full", false, Map.of("nas.ingest.seed", "2")), spark));
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
        assertTrue(root.resolve("full/ingest/_stage.json").toFile().isFile(), "a refused re-run leaves the committed stage");
    }

    @Test
    void holdOutIsDeterministicPerSeedAndForceReplaces() {
        Set<String> a = valIds(IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "tiny-a", false, Map.of()), spark));
        Set<String> b = valIds(IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "tiny-b", false, Map.of()), spark));
        assertEquals(500, a.size());
        assertEquals(a, b, "same seed, same val split");
        IngestResult forced = IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "tiny-a", true, Map.of("nas.ingest.seed", "9")), spark);
        assertFalse(forced.skipped());
        Set<String> c = valIds(forced);
        assertEquals(500, c.size());
        assertNotEquals(a, c, "another seed, another val split");
        assertEquals(2000, forced.train());
        assertEquals(1000, forced.test());
    }

    /**
     * The split of every image is its rank rule (per source split and class, ranked by {@code xxhash64(seed, id)} then id:
     * val-per-class val, the next train-per-class train, test-per-class test), computed here with a window over every
     * source id, although ingest applies it to the pixel rows through per-class cut-off keys; every bucket's positions
     * are 0, 1, ... in {@code orderInBucket} order. The tiny preset limits all three splits, so every cut-off is used.
     */
    @Test
    void splitsAndPositionsFollowTheRankRuleAppliedThroughCutOffKeys() {
        long seed = 7;
        IngestResult r = IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "tiny-rule", false,
                Map.of("nas.ingest.seed", String.valueOf(seed), "nas.ingest.buckets", "8")), spark);
        List<Row> source = new java.util.ArrayList<>();
        for (String split : List.of("train", "test")) {
            int[] labels = FashionMnist.labels(split.equals("train") ? "train" : "t10k");
            for (int i = 0; i < labels.length; i++) {
                source.add(org.apache.spark.sql.RowFactory.create(split, labels[i], String.format("%s-%05d", split, i)));
            }
        }
        org.apache.spark.sql.types.StructType schema = new org.apache.spark.sql.types.StructType()
                .add("src_split", "string").add("class_index", "int").add("id", "string");
        org.apache.spark.sql.Column rank = org.apache.spark.sql.functions.row_number().over(org.apache.spark.sql.expressions.Window
                .partitionBy("src_split", "class_index").orderBy(org.apache.spark.sql.functions.xxhash64(org.apache.spark.sql.functions.lit(seed),
                        org.apache.spark.sql.functions.col("id")), org.apache.spark.sql.functions.col("id")));
        Dataset<Row> expected = spark.createDataFrame(source, schema).withColumn("rank", rank)
                .selectExpr("id", "class_index", "CASE WHEN src_split = 'test' THEN (CASE WHEN rank <= 100 THEN 'test' END) "
                        + "WHEN rank <= 50 THEN 'val' WHEN rank <= 250 THEN 'train' END AS split")
                .where("split IS NOT NULL");
        Dataset<Row> written = spark.read().parquet(r.stageUri() + "/images").select("id", "class_index", "split", "bucket", "pos");
        assertEquals(3500, written.count());
        Dataset<Row> got = written.select("id", "class_index", "split");
        assertEquals(3500, expected.count());
        assertEquals(0, expected.except(got).count() + got.except(expected).count(),
                "every image in its split by the rank rule, and no other image");
        Dataset<Row> positions = written
                .withColumn("want_bucket", io.sparknas.jobs.data.ImageSplits.bucketOf(org.apache.spark.sql.functions.col("id"), 8))
                .withColumn("want_pos", org.apache.spark.sql.functions.row_number().over(org.apache.spark.sql.expressions.Window
                        .partitionBy("split", "bucket").orderBy(io.sparknas.jobs.data.ImageSplits.orderInBucket(
                                org.apache.spark.sql.functions.col("id"), seed), org.apache.spark.sql.functions.col("id"))).minus(1));
        assertEquals(0, positions.where("bucket != want_bucket OR pos != want_pos").count());
        assertEquals(3 * 8, written.select("split", "bucket").distinct().count());
    }

    private static Set<String> valIds(IngestResult r) {
        Set<String> ids = new HashSet<>();
        for (Row row : spark.read().parquet(r.stageUri() + "/images").where("split = 'val'").select("id").collectAsList()) {
            ids.add(row.getString(0));
        }
        return ids;
    }
}
