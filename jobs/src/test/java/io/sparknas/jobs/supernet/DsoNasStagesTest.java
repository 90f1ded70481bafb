package io.sparknas.jobs.supernet;

import org.junit.jupiter.api.Assertions;
import java.util.stream.IntStream;
import java.util.Arrays;
import java.time.Instant;
import java.time.Duration;
import io.sparknas.jobs.testing.CancelAt;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.search.SearchSettings;
import io.sparknas.jobs.search.SearchStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.WidthForBudget;
import io.sparknas.supernet.space.SearchSpaces;
import io.sparknas.jobs.retrain.RetrainSettings;
import io.sparknas.jobs.retrain.RetrainStage;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DSO-NAS supernet training (pre-training, interleaved APG-NAG lambda rounds) and its read-off on a small real Fashion-MNIST run. */
class DsoNasStagesTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static SupernetTrainResult dsonas;

    /**
     * 600 train images: D_w 480 (15 weight steps of 16 per worker, 4 rounds), D_lambda 120 (3 lambda rounds per search epoch).
     * The adaptive MAC budget (Eq. 18) with gamma 1.0: gamma differs 10x and more between ops, so the costliest ops reach
     * exact zeros in 6 steps while cheap ones keep most of their lambda, whatever the weights' training does (measured
     * with a constant learning rate: zeros in 4 layers, every op of layer 3 above 0.45; the FLOPs budget scales every op
     * of a layer alike, and its 6-step outcome flipped between one op everywhere and several with the data order and the
     * learning-rate schedule).
     */
    static final Map<String, String> SMALL = Map.ofEntries(Map.entry("nas.ingest.train-per-class", "60"), Map.entry("nas.ingest.val-per-class", "20"),
            Map.entry("nas.ingest.test-per-class", "20"),
            Map.entry("nas.run.method", "dsonas"), Map.entry("nas.space.max-layers-per-stage", "1"),
            Map.entry("nas.dsonas.pretrain-epochs", "1"), Map.entry("nas.dsonas.search-epochs", "2"), Map.entry("nas.dsonas.until-one-op", "false"),
            Map.entry("nas.dsonas.learning-rate", "0.2"), Map.entry("nas.dsonas.sparsity", "1.0"), Map.entry("nas.dsonas.budget", "mac"),
            Map.entry("nas.supernet.batch-size", "16"), Map.entry("nas.supernet.steps-per-round", "4"), Map.entry("nas.supernet.workers", "2"),
            Map.entry("nas.supernet.eval.paths", "1"), Map.entry("nas.supernet.eval.recalibration-batches", "1"),
            Map.entry("nas.supernet.eval.batch-size", "100"), Map.entry("nas.run.checkpoint-interval", "0s"),
            Map.entry("nas.search.eval.recalibration-batches", "1"), Map.entry("nas.search.eval.batch-size", "100"));

    static StageArgs args(String runId, boolean resume) {
        return args(runId, resume, Map.of());
    }

    static StageArgs args(String runId, boolean resume, Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(SMALL);
        o.putAll(extra);
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, runId, false, o);
        return new StageArgs(a.configFile(), a.overrides(), false, resume, a.options(), a.positional());
    }

    static SupernetSettings supernet(String runId, boolean resume) {
        return supernet(runId, resume, Map.of());
    }

    static SupernetSettings supernet(String runId, boolean resume, Map<String, String> extra) {
        StageArgs a = args(runId, resume, extra);
        return SupernetSettings.from(a.loadConfig(), a);
    }

    static Map<String, String> properties(String runId) {
        return new RunStore(root.toUri(), runId, spark.sparkContext().hadoopConfiguration()).committed("supernet-train").orElseThrow().properties();
    }

    static List<Row> table(SupernetTrainResult r, String table, String... order) {
        return spark.read().parquet(r.stageUri() + "/" + table).orderBy(order[0], Arrays.copyOfRange(order, 1, order.length)).collectAsList();
    }

    @BeforeAll
    static void runStages() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "d", false, SMALL), spark);
        dsonas = SupernetTrainStage.run(supernet("d", false), spark);
    }

    static SearchSpace space() {
        RunStore store = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
        return SpaceTable.read(spark, dsonas.stageUri() + "/space", RunSpace.of(store, "d", supernet("d", false).space()).space());
    }

    static List<Row> params(String kind) {
        return spark.read().parquet(dsonas.stageUri() + "/arch_params").where("kind = '" + kind + "'").orderBy("epoch", "layer", "op").collectAsList();
    }

    @Test
    void lambdasStartAtOneReachExactZerosAndZeroedOpsStayPruned() {
        List<Row> lambda = params("lambda");
        SearchSpace space = space();
        long weighted = space.layers().stream().mapToLong(l -> l.candidates().stream().filter(o -> !(o instanceof Op.Identity)).count()).sum();
        for (int e = 1; e <= 3; e++) {
            int epoch = e;
            assertEquals(weighted, lambda.stream().filter(r -> r.getInt(1) == epoch).count(), "a lambda row per weighted op, epoch " + e);
        }
        // pre-training: every lambda stays 1, nothing pruned
        assertTrue(lambda.stream().filter(r -> r.getInt(1) == 1).allMatch(r -> r.getDouble(4) == 1.0));
        long zeros = lambda.stream().filter(r -> r.getInt(1) == 3 && r.getDouble(4) == 0.0).count();
        assertTrue(zeros > 0, "strong gamma: some lambdas exactly 0 after the search");
        assertTrue(lambda.stream().filter(r -> r.getInt(1) == 3).anyMatch(r -> r.getDouble(4) > 0), "and some not");
        List<Row> pruned = params("pruned");
        assertEquals(zeros, pruned.stream().filter(r -> r.getInt(1) == 3).count(), "every zero lambda is pruned at the epoch's end");
        for (Row p : pruned) {
            // pruned at the end of epoch p.value; from then on its lambda is exactly 0
            assertTrue(lambda.stream().filter(r -> r.getInt(1) >= (int) p.getDouble(4) && r.getInt(2) == p.getInt(2) && r.getString(3).equals(p.getString(3)))
                    .allMatch(r -> r.getDouble(4) == 0.0), "pruned op " + p);
        }
        // a layer that changes the feature map's shape keeps an op
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            if (!space.layer(l).keepsShape()) {
                assertTrue(lambda.stream().anyMatch(r -> r.getInt(1) == 3 && r.getInt(2) == layer && r.getDouble(4) > 0), "layer " + l);
            }
        }
    }

    @Test
    void lambdaRoundsAreSingleStepsOnDLambdaInterleavedWithTheWeightRounds() {
        List<Row> metrics = spark.read().parquet(dsonas.stageUri() + "/train_metrics").orderBy("epoch", "round").collectAsList();
        // epoch 1 pre-trains: weight rounds only, on D_w (480 of the 600 train images; the smallest worker shard sets the steps)
        List<Row> first = metrics.stream().filter(r -> r.getInt(0) == 1).toList();
        assertTrue(first.stream().allMatch(r -> r.getString(11).equals("weights") && r.getLong(3) == r.getLong(2) * 16));
        long images = first.stream().mapToLong(r -> r.getLong(3)).sum();
        assertTrue(images > 380 && images <= 480, images + " images of D_w in the pre-training epoch");
        for (int e = 2; e <= 3; e++) {
            int epoch = e;
            List<String> phases = metrics.stream().filter(r -> r.getInt(0) == epoch).map(r -> r.getString(11)).toList();
            int wr = (int) phases.stream().filter(p -> p.equals("weights")).count();
            int ar = phases.size() - wr;
            assertTrue(wr >= 3 && ar >= 2, phases.toString());
            RoundOrder order = new RoundOrder(wr, ar, true);
            for (int r = 0; r < phases.size(); r++) {
                assertEquals(order.architecture(r) ? "architecture" : "weights", phases.get(r), "epoch " + e + " round " + (r + 1) + " of " + phases);
            }
            assertTrue(phases.indexOf("architecture") < phases.lastIndexOf("weights"), "interleaved, not appended: " + phases);
            // every lambda round is one minibatch of every worker, of D_lambda (120 images: at most 3 steps of 16 per worker)
            assertTrue(metrics.stream().filter(r -> r.getInt(0) == epoch && r.getString(11).equals("architecture"))
                    .allMatch(r -> r.getLong(2) == 2 && r.getLong(3) == 2 * 16), "epoch " + e);
            assertTrue(ar <= 3, ar + " lambda rounds");
        }
    }

    @Test
    void theReadOffKeepsEveryOpWithNonZeroLambdaAsAMultiOpArchitecture() {
        StageArgs a = args("d", false);
        SearchStage.run(SearchSettings.from(a.loadConfig(), a), spark);
        List<Row> generated = spark.read().parquet(root.resolve("d/search/generated_archs").toString()).collectAsList();
        assertEquals(1, generated.size());
        Arch arch = Arch.parse(generated.get(0).getString(0));
        SearchSpace space = space();
        List<Row> lambda = params("lambda");
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            List<String> nonZero = new ArrayList<>();
            for (Op o : space.layer(l).candidates()) {
                lambda.stream().filter(r -> r.getInt(1) == 3 && r.getInt(2) == layer && r.getString(3).equals(o.name()) && r.getDouble(4) != 0)
                        .findFirst().ifPresent(r -> nonZero.add(o.name()));
            }
            assertEquals(nonZero, arch.ops(l).stream().map(Op::name).toList(), "layer " + l);
        }
        assertTrue(IntStream.range(0, space.size()).anyMatch(l -> arch.ops(l).size() >= 2),
                "lambdas only partly zeroed: some layer keeps several ops: " + arch.id());
        assertEquals(new FlopsCostModel().cost(space, arch), generated.get(0).getDouble(3), 1e-9);
        assertTrue(generated.get(0).getString(7).contains("lambda != 0"), generated.get(0).getString(7));
    }

    /**
     * Section 4.1: with {@code nas.dsonas.target-mflops} the read-off's architecture gets the largest global width multiplier
     * within the budget (written as generated_archs.width, its costs at that width), and retrain builds it there. On a copy
     * of run d's ingest and supernet-train, with a budget of 90% of what the architecture costs at the searched width (channels stop shrinking at 8, so
     * the tiny space's costs fall only to about 75% at width 0.05).
     */
    @Test
    void aFlopsTargetGivesTheReadOffTheWidthThatMeetsItAndRetrainBuildsItThere() throws Exception {
        Path w = root.resolve("w");
        Stages.copyCommitted(root, "d", "w", "ingest", "supernet-train");
        StageArgs plain = args("w", false);
        SearchStage.run(SearchSettings.from(plain.loadConfig(), plain), spark);
        Row searched = spark.read().parquet(w.resolve("search/generated_archs").toString()).first();
        assertEquals(0.25, searched.getDouble(searched.fieldIndex("width")), 0, "no target: the space's width");
        Arch arch = Arch.parse(searched.getString(0));
        double target = Math.round(0.9 * searched.getDouble(3) * 1000) / 1000.0;
        Map<String, String> budget = Map.of("nas.dsonas.target-mflops", String.valueOf(target), "nas.retrain.epochs", "1",
                "nas.retrain.train-images", "64", "nas.retrain.batch-size", "32", "nas.retrain.epoch-val-images", "50",
                "nas.retrain.recalibration-batches", "1");
        Map<String, String> o = new HashMap<>(SMALL);
        o.putAll(budget);
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, "w", true, o);
        SearchStage.run(SearchSettings.from(a.loadConfig(), a), spark);
        Row g = spark.read().parquet(w.resolve("search/generated_archs").toString()).first();
        assertEquals(arch.id(), g.getString(0), "the same architecture, only narrower");
        double width = g.getDouble(g.fieldIndex("width"));
        assertTrue(width < 0.25 && width >= 0.05, "width " + width);
        SearchSpace base = space();
        SearchSpaces.Options at = new SearchSpaces.Options("mobilenetv2", width, base.resolution(), base.inChannels(), 1, base.classes(), 1);
        FlopsCostModel flops = new FlopsCostModel();
        assertEquals(flops.cost(SearchSpaces.build(at), arch), g.getDouble(3), 1e-9, "MFLOPs at the chosen width");
        assertTrue(g.getDouble(3) <= target, g.getDouble(3) + " within " + target);
        assertTrue(flops.cost(SearchSpaces.build(WidthForBudget.at(at, width + 0.01)), arch) > target, "the largest width within the target");
        assertEquals("flops <= " + target, g.getString(6));
        assertTrue(g.getString(7).contains("global width multiplier"), g.getString(7));
        RetrainStage.run(RetrainSettings.from(a.loadConfig(), a), spark);
        Row m = spark.read().parquet(w.resolve("retrain/final_models").toString()).first();
        // a target below what the narrowest width costs: refused, naming the key and that width's cost; the search stays
        o.put("nas.dsonas.target-mflops", "0.5");
        StageArgs low = Stages.args("fashion-mnist-tiny.conf", root, "w", true, o);
        InputDataException refused = Assertions.assertThrows(InputDataException.class, () -> SearchStage.run(SearchSettings.from(low.loadConfig(), low), spark));
        assertTrue(refused.getMessage().contains("nas.dsonas.target-mflops = 0.5") && refused.getMessage().contains("narrowest width multiplier, 0.05"),
                refused.getMessage());
        // what StageLauncher does after a failed stage: the committed search --force had set aside comes back
        StageCommit.abortOpen(refused);
        assertEquals(width, spark.read().parquet(w.resolve("search/generated_archs").toString()).first().getDouble(g.fieldIndex("width")), 0,
                "the committed search is kept");
        assertEquals(g.getDouble(3), m.getDouble(m.fieldIndex("mflops")), 1e-9, "retrained at the chosen width");
        assertEquals(g.getDouble(4), m.getDouble(m.fieldIndex("mparams")), 1e-9);
    }

    /** Another gamma and budget than d's: the search differs from d's, the pre-training does not. */
    static final Map<String, String> GAMMA = Map.of("nas.dsonas.sparsity", "0.1", "nas.dsonas.budget", "none");
    /** Run "k": GAMMA with its own pre-training, killed in its first search epoch and resumed. */
    static SupernetTrainResult killed;
    /** Run "shared": GAMMA uninterrupted, its pre-training taken from run d. */
    static SupernetTrainResult shared;

    /**
     * Runs "k" and "shared" once for the two tests that compare them: k's resume is checked against an uninterrupted run of
     * the same configuration (shared), and shared's borrowed pre-training against a run that pre-trained itself (k); one
     * comparison serves both, where an uninterrupted run of its own would cost another supernet-train.
     */
    static synchronized void killedAndShared() throws Exception {
        if (killed != null) {
            return;
        }
        // the same images as d (the same ingest settings): d's committed ingest, copied
        Stages.copyCommitted(root, "d", "k", "ingest");
        Stages.copyCommitted(root, "d", "shared", "ingest");
        // cancelled in the first search epoch once two rounds are done (one weight and one lambda round)
        CancelAt.checkpoint(spark, root.resolve("k/supernet-train/_checkpoint"), "1 2",
                () -> SupernetTrainStage.run(supernet("k", false, GAMMA), spark));
        assertFalse(Files.exists(root.resolve("k/supernet-train/_stage.json")));
        killed = SupernetTrainStage.run(supernet("k", true, GAMMA), spark);
        Map<String, String> fromD = new HashMap<>(GAMMA);
        fromD.put("nas.dsonas.pretrained-run", "d");
        shared = SupernetTrainStage.run(supernet("shared", false, fromD), spark);
    }

    @Test
    void aKilledDsoNasRunResumesWithTheSameLambdasAndOptimiserState() throws Exception {
        killedAndShared();
        RunStore ref = new RunStore(root.toUri(), "shared", spark.sparkContext().hadoopConfiguration());
        RunStore res = new RunStore(root.toUri(), "k", spark.sparkContext().hadoopConfiguration());
        Map<String, String> r = ref.committed("supernet-train").orElseThrow().properties();
        Map<String, String> k = res.committed("supernet-train").orElseThrow().properties();
        // a resume, not a restart: the second attempt began after the cancelled attempt's last checkpoint
        assertEquals("epoch 2 round 3", k.get("resumed_at"), "where the resumed attempt started");
        assertEquals(null, r.get("resumed_at"), "the uninterrupted run did not resume");
        assertTrue(k.get("strategy_state").contains("lambda") && k.get("strategy_state").contains("optimizer"));
        assertEquals(r.get("strategy_state"), k.get("strategy_state"), "lambdas, pruning and APG-NAG's step count and momentum");
        assertEquals(r.get("state_sha256"), k.get("state_sha256"), "supernet weights");
        assertEquals(spark.read().parquet(shared.stageUri() + "/arch_params").orderBy("epoch", "layer", "op", "kind").collectAsList(),
                spark.read().parquet(killed.stageUri() + "/arch_params").orderBy("epoch", "layer", "op", "kind").collectAsList());
        // the pre-training was kept before the kill and survived the failed attempt: the same as d's, which shared took
        String pretraining = properties("d").get(DsoNasPretraining.FINGERPRINT);
        assertTrue(pretraining != null && !pretraining.isEmpty(), "d records its pre-training");
        assertEquals(pretraining, k.get(DsoNasPretraining.FINGERPRINT));
        // the stage's time counts the killed attempt's work up to its checkpoint (the pre-training epoch and two rounds)
        StageRecord kr = res.committed("supernet-train").orElseThrow();
        double attempt = Duration.between(Instant.parse(kr.startedAt()), Instant.parse(kr.endedAt())).toMillis() / 1e3;
        double elapsed = Double.parseDouble(k.get(StageCommit.ELAPSED_SECONDS));
        assertTrue(elapsed > attempt + 5, "elapsed " + elapsed + " s, the resumed attempt alone " + attempt + " s");
    }

    @Test
    void aSearchStartedFromAnotherRunsPreTrainingEqualsPreTrainingItself() throws Exception {
        // k pre-trained itself (and was killed and resumed: its equality to an uninterrupted run is the test above); shared
        // took d's pre-training; both search with GAMMA
        killedAndShared();
        SupernetTrainResult own = killed;
        Map<String, String> d = properties("d");
        Map<String, String> o = properties("k");
        Map<String, String> sh = properties("shared");
        assertTrue(d.get(DsoNasPretraining.FINGERPRINT).equals(o.get(DsoNasPretraining.FINGERPRINT)), "same pre-training: " + d + " / " + o);
        assertTrue(Files.isDirectory(root.resolve("d/supernet-train/" + DsoNasPretraining.DIR)), "the committed stage keeps its pre-training");
        assertFalse(Files.exists(root.resolve("d/supernet-train/_checkpoint")), "and drops its checkpoints");
        assertEquals("d", sh.get(DsoNasPretraining.FROM));
        assertEquals("", o.get(DsoNasPretraining.FROM));
        assertFalse(d.get("state_sha256").equals(o.get("state_sha256")), "gamma changes the searched supernet, so the comparison below means something");
        assertEquals(o.get("state_sha256"), sh.get("state_sha256"), "supernet weights, bit for bit");
        assertEquals(o.get("strategy_state"), sh.get("strategy_state"), "lambdas, pruning and APG-NAG's state");
        assertEquals(table(own, "arch_params", "epoch", "layer", "op", "kind"), table(shared, "arch_params", "epoch", "layer", "op", "kind"),
                "arch_params, the pre-training epochs' gamma rows included (this run's gamma, not d's)");
        String[] cols = {"epoch", "round", "steps", "images", "loss", "train_accuracy", "learning_rate", "phase"};
        assertEquals(spark.read().parquet(own.stageUri() + "/train_metrics").selectExpr(cols).orderBy("epoch", "round").collectAsList(),
                spark.read().parquet(shared.stageUri() + "/train_metrics").selectExpr(cols).orderBy("epoch", "round").collectAsList(),
                "every round, the pre-training's (taken from d) included");

        // a pre-training of another schedule is refused, naming the key
        Map<String, String> fromD = new HashMap<>(GAMMA);
        fromD.put("nas.dsonas.pretrained-run", "d");
        Map<String, String> longer = new HashMap<>(fromD);
        longer.put("nas.dsonas.search-epochs", "3");
        InputDataException e = Assertions.assertThrows(InputDataException.class,
                () -> SupernetTrainStage.run(supernet("shared", false, longer), spark));
        assertTrue(e.getMessage().contains("nas.dsonas.search-epochs is 2 there, 3 here"), e.getMessage());

        // "shared" kept no pre-training of its own: naming it takes the one it took, d's (checked, so refused the same way)
        Map<String, String> chained = new HashMap<>(longer);
        chained.put("nas.dsonas.pretrained-run", "shared");
        e = Assertions.assertThrows(InputDataException.class,
                () -> SupernetTrainStage.run(supernet("k", false, chained), spark));
        assertTrue(e.getMessage().contains("run d pre-trained with another configuration") && e.getMessage().contains("search-epochs is 2 there, 3 here"),
                e.getMessage());
    }
}
