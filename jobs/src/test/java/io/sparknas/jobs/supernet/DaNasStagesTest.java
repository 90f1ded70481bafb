package io.sparknas.jobs.supernet;

import org.apache.spark.sql.types.DataTypes;
import java.util.TreeSet;
import java.util.Set;
import java.util.Comparator;
import java.net.URI;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.testing.CancelAt;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.easiness.EasinessResult;
import io.sparknas.jobs.easiness.EasinessSettings;
import io.sparknas.jobs.easiness.EasinessStage;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.search.SearchSettings;
import io.sparknas.jobs.search.SearchStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import io.sparknas.supernet.space.Arch;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The easiness stage and DA-NAS supernet training on a small real Fashion-MNIST run in which class 4 (Coat, one of the
 * hardest) is made trivially easy: every image of it is replaced by a blank white one.
 */
class DaNasStagesTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static EasinessResult easiness;
    static SupernetTrainResult danas;
    static final int EASY = 4;

    static final Map<String, String> SMALL = Map.ofEntries(Map.entry("nas.ingest.train-per-class", "100"), Map.entry("nas.ingest.val-per-class", "20"),
            Map.entry("nas.ingest.test-per-class", "30"),
            Map.entry("nas.easiness.epochs", "3"), Map.entry("nas.easiness.learning-rate", "0.1"), Map.entry("nas.easiness.batch-size", "32"),
            Map.entry("nas.easiness.recalibration-batches", "4"), Map.entry("nas.easiness.bins", "10"),
            Map.entry("nas.run.method", "danas"), Map.entry("nas.space.max-layers-per-stage", "1"),
            Map.entry("nas.supernet.batch-size", "32"), Map.entry("nas.supernet.steps-per-round", "2"), Map.entry("nas.supernet.workers", "2"),
            Map.entry("nas.supernet.eval.paths", "2"), Map.entry("nas.supernet.eval.recalibration-batches", "1"),
            Map.entry("nas.supernet.eval.batch-size", "50"), Map.entry("nas.run.checkpoint-interval", "0s"),
            Map.entry("nas.search.eval.recalibration-batches", "1"), Map.entry("nas.search.eval.batch-size", "50"));

    static StageArgs args(String runId, boolean resume, Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(SMALL);
        o.putAll(extra);
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, runId, false, o);
        return new StageArgs(a.configFile(), a.overrides(), false, resume, a.options(), a.positional());
    }

    static SupernetSettings supernet(String runId, boolean resume, Map<String, String> extra) {
        StageArgs a = args(runId, resume, extra);
        return SupernetSettings.from(a.loadConfig(), a);
    }

    @BeforeAll
    static void runStages() throws Exception {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "d", false, SMALL), spark);
        blankClass("d", EASY);
        StageArgs a = args("d", false, Map.of());
        easiness = EasinessStage.run(EasinessSettings.from(a.loadConfig(), a), spark);
        danas = SupernetTrainStage.run(supernet("d", false, Map.of()), spark);
    }

    /** Replaces every image of class {@code c} in the committed images table by a white one (the fixture: a trivially easy class). */
    static void blankClass(String runId, int c) throws Exception {
        RunStore store = new RunStore(root.toUri(), runId, spark.sparkContext().hadoopConfiguration());
        String uri = store.tableUri(IngestOutputs.STAGE, IngestOutputs.IMAGES);
        Dataset<Row> images = spark.read().parquet(uri);
        spark.udf().register("white", (byte[] px) -> {
            byte[] w = new byte[px.length];
            Arrays.fill(w, (byte) 255);
            return w;
        }, DataTypes.BinaryType);
        Path tmp = root.resolve("blank-" + c);
        images.withColumn("pixels", functions.when(functions.col("class_index").equalTo(c), functions.callUDF("white", functions.col("pixels")))
                .otherwise(functions.col("pixels"))).repartition(functions.col("split"), functions.col("bucket"))
                .sortWithinPartitions("split", "bucket", "pos").write().partitionBy("split", "bucket").parquet(tmp.toUri().toString());
        Path dir = Path.of(URI.create(uri));
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        Files.move(tmp, dir);
    }

    @Test
    void easinessRanksTheBlankedClassFirstAndTheNetworksAgree() {
        List<Row> ranked = spark.read().parquet(easiness.stageUri() + "/class_easiness").orderBy("rank").collectAsList();
        assertEquals(10, ranked.size());
        assertEquals(EASY, ranked.get(0).getInt(0), "the blanked class is the easiest: " + ranked);
        for (int i = 1; i < ranked.size(); i++) {
            assertTrue(ranked.get(i).getDouble(1) >= ranked.get(i - 1).getDouble(1), "ranks follow the score");
        }
        List<Double> hist = ranked.get(0).getList(3);
        assertEquals(10, hist.size());
        assertEquals(1.0, hist.stream().mapToDouble(Double::doubleValue).sum(), 1e-9, "a histogram holds shares");
        assertEquals(3, ranked.get(0).getJavaMap(4).size(), "one histogram per network");
        // every train image scored by every network
        long trainImages = spark.read().parquet(root.resolve("d/ingest/images").toString()).where("split = 'train'").count();
        assertEquals(3 * trainImages, spark.read().parquet(easiness.stageUri() + "/sample_entropy").count());
        List<Row> agreement = spark.read().parquet(easiness.stageUri() + "/network_agreement").collectAsList();
        assertEquals(3, agreement.size(), "3 pairs of networks");
        for (Row r : agreement) {
            assertTrue(r.getDouble(2) > 0, "the networks' class rankings agree (Observation 3): " + r);
        }
        assertTrue(easiness.easinessAccuracySpearman() > 0, "easier classes are recognised better: " + easiness.easinessAccuracySpearman());
        List<Row> acc = spark.read().parquet(easiness.stageUri() + "/network_accuracy").where("class_index = " + EASY).collectAsList();
        for (Row r : acc) {
            assertEquals(1.0, r.getDouble(2), 1e-9, "a blank class is recognised by every network: " + r);
        }
    }

    /** Classes with images in a round, from the executors' count. */
    private static List<Integer> seen(Row metrics) {
        List<Long> counts = metrics.getList(metrics.fieldIndex("class_images"));
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < counts.size(); c++) {
            if (counts.get(c) > 0) {
                out.add(c);
            }
        }
        return out;
    }

    @Test
    void theScheduleFeedsExactlyTheEasiestClassesOfEachStep() {
        int[] easiestFirst = Arrays.stream(easiness.easiestFirst().replaceAll("[\\[\\] ]", "").split(",")).mapToInt(Integer::parseInt).toArray();
        assertEquals(EASY, easiestFirst[0]);
        List<Row> metrics = spark.read().parquet(danas.stageUri() + "/train_metrics").orderBy("epoch", "round").collectAsList();
        int[] classesPerEpoch = {2, 4, 7, 10};
        Map<Integer, Set<Integer>> seenPerEpoch = new TreeMap<>();
        Map<Integer, Set<String>> phases = new TreeMap<>();
        for (Row m : metrics) {
            int e = m.getInt(0);
            seenPerEpoch.computeIfAbsent(e, k -> new TreeSet<>()).addAll(seen(m));
            phases.computeIfAbsent(e, k -> new TreeSet<>()).add(m.getString(m.fieldIndex("phase")));
            assertEquals(classesPerEpoch[e - 1], m.getInt(m.fieldIndex("classes")));
            long sum = m.<Long>getList(m.fieldIndex("class_images")).stream().mapToLong(Long::longValue).sum();
            assertEquals(m.getLong(3), sum, "every image read is counted");
        }
        assertEquals(4, seenPerEpoch.size());
        for (Map.Entry<Integer, Set<Integer>> e : seenPerEpoch.entrySet()) {
            int n = classesPerEpoch[e.getKey() - 1];
            Set<Integer> want = new TreeSet<>();
            for (int i = 0; i < n; i++) {
                want.add(easiestFirst[i]);
            }
            assertEquals(want, e.getValue(), "epoch " + e.getKey() + " reads exactly the " + n + " easiest classes");
        }
        assertEquals(Set.of("weights"), phases.get(1), "the warm-up trains weights only");
        for (int e = 2; e <= 4; e++) {
            assertEquals(Set.of("weights", "architecture"), phases.get(e), "epoch " + e);
        }
        // alternation: every architecture round is one val minibatch per worker (2 workers), a logit update each
        assertTrue(metrics.stream().filter(m -> m.getString(m.fieldIndex("phase")).equals("architecture")).allMatch(m -> m.getLong(2) == 2),
                "one step per worker in every architecture round");
        // and each step epoch reports its classification share of |dL/da| per layer, and how far each live logit moved
        List<Row> params = spark.read().parquet(danas.stageUri() + "/arch_params").collectAsList();
        for (int e = 1; e <= 4; e++) {
            int epoch = e;
            List<Row> shares = params.stream().filter(r -> r.getInt(1) == epoch && r.getString(5).equals("classification-share")).toList();
            assertTrue(shares.stream().allMatch(r -> r.getDouble(4) >= 0 && r.getDouble(4) <= 1 && r.getString(3).equals("*")), "shares " + shares);
            // a share per layer with two or more live candidates in the epoch (7 -> 4 -> 2 -> 1, 3 -> 2 -> 1 -> 1)
            assertEquals(e == 1 ? 0 : e == 4 ? 6 : 7, shares.size(), "epoch " + e + ": shares " + shares);
            assertEquals(e > 1, params.stream().anyMatch(r -> r.getInt(1) == epoch && r.getString(5).equals("logit-movement") && r.getDouble(4) != 0),
                    "epoch " + e + ": the logits moved");
        }
    }

    @Test
    void candidateSetsShrinkStepByStepAndTheReadOffIsTheArgmaxOfTheLiveLogits() {
        List<Row> params = spark.read().parquet(danas.stageUri() + "/arch_params").collectAsList();
        // pi = 0.4, n - round(0.4 n) live after each step: 7 -> 4 -> 2 -> 1 (stride-1 layers), 6 -> 4 -> 2 -> 1 (no identity on
        // stride-2 layers), 3 -> 2 -> 1 -> 1 (the first layer's expansion-1 ops)
        Map<Integer, int[]> liveAfter = Map.of(7, new int[]{7, 4, 2, 1}, 6, new int[]{6, 4, 2, 1}, 3, new int[]{3, 2, 1, 1});
        int layers = params.stream().mapToInt(r -> r.getInt(2)).max().orElseThrow() + 1;
        assertEquals(7, layers);
        for (int l = 0; l < layers; l++) {
            int layer = l;
            int n = (int) params.stream().filter(r -> r.getInt(1) == 1 && r.getInt(2) == layer && r.getString(5).equals("logit")).count();
            int[] live = liveAfter.get(n);
            assertTrue(live != null, "layer " + l + " has " + n + " candidates");
            for (int e = 1; e <= 4; e++) {
                int epoch = e;
                long pruned = params.stream().filter(r -> r.getInt(1) == epoch && r.getInt(2) == layer && r.getString(5).equals("pruned")).count();
                assertEquals(n - live[e - 1], pruned, "epoch " + e + " layer " + l);
                double p = params.stream().filter(r -> r.getInt(1) == epoch && r.getInt(2) == layer && r.getString(5).equals("probability"))
                        .mapToDouble(r -> r.getDouble(4)).sum();
                assertEquals(1.0, p, 1e-9, "softmax over the live candidates");
            }
        }
        RunStore store = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
        StageRecord rec = store.committed("supernet-train").orElseThrow();
        assertEquals("danas", rec.properties().get("method"));
        Arch readOff = Arch.parse(rec.properties().get("read_off"));
        // the survivors of the last step: one per layer, which is the read-off
        for (int l = 0; l < layers; l++) {
            int layer = l;
            String survivor = params.stream().filter(r -> r.getInt(1) == 4 && r.getInt(2) == layer && r.getString(5).equals("probability")
                    && r.getDouble(4) > 0).findFirst().orElseThrow().getString(3);
            assertEquals(survivor, readOff.op(l).name(), "layer " + l);
        }
        // the search stage's read-off writes the same architecture to generated_archs
        StageArgs a = args("d", false, Map.of());
        SearchStage.run(SearchSettings.from(a.loadConfig(), a), spark);
        List<Row> generated = spark.read().parquet(root.resolve("d/search/generated_archs").toString()).collectAsList();
        assertEquals(1, generated.size());
        assertEquals(readOff.id(), generated.get(0).getString(0));
        assertTrue(generated.get(0).getDouble(2) > 0.1, "the found path is above chance on val: " + generated.get(0));
    }

    @Test
    void aKilledDaNasRunResumesWithTheSameLogitsAndWeights() throws Exception {
        // d's committed ingest (class 4 blanked) and easiness, copied: the same inputs without training the three
        // reference networks again (easiness's own determinism is ClassEasinessTest's and the stage's inputs are fixed)
        Stages.copyCommitted(root, "d", "k", IngestOutputs.STAGE, EasinessOutputs.STAGE);
        // the driver's jobs are cancelled once epoch 3 has one round done (checkpoint after every round)
        CancelAt.checkpoint(spark, root.resolve("k/supernet-train/_checkpoint"), "2 1", () -> SupernetTrainStage.run(supernet("k", false, Map.of()), spark));
        assertFalse(Files.exists(root.resolve("k/supernet-train/_stage.json")));
        SupernetTrainResult resumed = SupernetTrainStage.run(supernet("k", true, Map.of()), spark);
        RunStore ref = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
        RunStore res = new RunStore(root.toUri(), "k", spark.sparkContext().hadoopConfiguration());
        Map<String, String> r = ref.committed("supernet-train").orElseThrow().properties();
        Map<String, String> k = res.committed("supernet-train").orElseThrow().properties();
        // a resume, not a restart: the second attempt began after the cancelled attempt's last checkpoint
        assertEquals("epoch 3 round 2", k.get("resumed_at"), "where the resumed attempt started");
        assertEquals(null, r.get("resumed_at"), "the uninterrupted run did not resume");
        assertEquals(r.get("strategy_state"), k.get("strategy_state"), "logits, pruning and optimiser moments");
        assertEquals(r.get("state_sha256"), k.get("state_sha256"), "supernet weights");
        assertEquals(spark.read().parquet(danas.stageUri() + "/arch_params").count(), spark.read().parquet(resumed.stageUri() + "/arch_params").count());
        assertNotEquals("", k.get("strategy_state"));
    }

    @Test
    void badDaNasAndEasinessSettingsAreRefusedNamingTheKeyAndTheFix() {
        Map<String, String> cases = Map.of(
                "nas.danas.class-fractions", "[0.5, 0.3, 1.0]",
                "nas.danas.target-cost", "0");
        Map<String, String> expected = Map.of(
                "nas.danas.class-fractions", "decreases at entry 1",
                "nas.danas.target-cost", "needs a positive target cost");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                    () -> supernet("bad", false, Map.of(c.getKey(), c.getValue())));
            assertTrue(e.getMessage().contains(c.getKey()) && e.getMessage().contains(expected.get(c.getKey())), e.getMessage());
        }
        InvalidSettingsException end = assertThrows(InvalidSettingsException.class,
                () -> supernet("bad", false, Map.of("nas.danas.class-fractions", "[0.2, 0.5]")));
        assertTrue(end.getMessage().contains("does not end at 1.0"), end.getMessage());
        StageArgs a = args("bad", false, Map.of("nas.easiness.networks", "[resnet, alexnet]"));
        InvalidSettingsException net = assertThrows(InvalidSettingsException.class,
                () -> EasinessSettings.from(a.loadConfig(), a));
        assertTrue(net.getMessage().contains("'alexnet'") && net.getMessage().contains("nas.easiness.model-zips"), net.getMessage());
        // DA-NAS's easy-first schedule without an easiness stage: a clear error naming the stage to run and the alternative
        InputDataException noEasiness = assertThrows(InputDataException.class, () -> {
            Stages.copyCommitted(root, "d", "noeasy", IngestOutputs.STAGE);
            SupernetTrainStage.run(supernet("noeasy", false, Map.of()), spark);
        });
        assertTrue(noEasiness.getMessage().contains("submit/easiness.sh") && noEasiness.getMessage().contains("nas.danas.schedule = all"),
                noEasiness.getMessage());
        // the latency cost (Eq. 8 from the run's latency table) without a latency-profile stage
        InputDataException noLatency = assertThrows(InputDataException.class,
                () -> SupernetTrainStage.run(supernet("noeasy", false, Map.of("nas.danas.cost", "latency", "nas.danas.schedule", "all")), spark));
        assertTrue(noLatency.getMessage().contains("submit/latency-profile.sh") && noLatency.getMessage().contains("nas.danas.cost = flops"),
                noLatency.getMessage());
    }
}
