package io.sparknas.jobs.supernet;

import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.testing.CancelAt;
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
import io.sparknas.supernet.cost.ParamsCostModel;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DDPNAS supernet training and constrained generation (ENG) on a small real Fashion-MNIST run. */
class DdpnasStagesTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static SupernetTrainResult ddpnas;

    static final Map<String, String> SMALL = Map.ofEntries(Map.entry("nas.ingest.train-per-class", "60"), Map.entry("nas.ingest.val-per-class", "20"),
            Map.entry("nas.ingest.test-per-class", "20"),
            Map.entry("nas.run.method", "ddpnas"), Map.entry("nas.space.max-layers-per-stage", "2"),
            Map.entry("nas.ddpnas.epochs-per-update", "1"),
            Map.entry("nas.ddpnas.generation.constraints", "[\"flops <= 1.39\", \"params <= 0.12\", \"flops <= 100\"]"),
            Map.entry("nas.supernet.batch-size", "16"), Map.entry("nas.supernet.steps-per-round", "4"), Map.entry("nas.supernet.workers", "2"),
            Map.entry("nas.supernet.max-steps-per-epoch", "3"),
            Map.entry("nas.supernet.eval.paths", "2"), Map.entry("nas.supernet.eval.recalibration-batches", "1"),
            Map.entry("nas.supernet.eval.batch-size", "100"), Map.entry("nas.run.checkpoint-interval", "0s"),
            Map.entry("nas.search.eval.recalibration-batches", "1"), Map.entry("nas.search.eval.batch-size", "100"));

    static StageArgs args(String runId, boolean resume, Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(SMALL);
        o.putAll(extra);
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, runId, false, o);
        return new StageArgs(a.configFile(), a.overrides(), false, resume, a.options(), a.positional());
    }

    static SupernetSettings supernet(String runId, boolean resume) {
        StageArgs a = args(runId, resume, Map.of());
        return SupernetSettings.from(a.loadConfig(), a);
    }

    @BeforeAll
    static void runStages() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "d", false, SMALL), spark);
        ddpnas = SupernetTrainStage.run(supernet("d", false), spark);
    }

    static SearchSpace space() {
        RunStore store = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
        return SpaceTable.read(spark, ddpnas.stageUri() + "/space", RunSpace.of(store, "d", supernet("d", false).space()).space());
    }

    static List<Row> params() {
        return spark.read().parquet(ddpnas.stageUri() + "/arch_params").collectAsList();
    }

    @Test
    void everyEpochTrainsTheDisjointArchitecturesAndPrunesOneOpPerLayerUntilOnePerSection() {
        List<Row> p = params();
        SearchSpace space = space();
        int epochs = p.stream().mapToInt(r -> r.getInt(1)).max().orElseThrow();
        assertEquals(5, epochs, "7 ops (6 + identity) down to 2 sections, one prune per epoch");
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            List<Op> ops = space.layer(l).candidates();
            boolean identity = ops.stream().anyMatch(o -> o instanceof Op.Identity);
            int sections = identity ? 2 : 1;
            for (int e = 1; e <= epochs; e++) {
                int epoch = e;
                long pruned = p.stream().filter(r -> r.getInt(1) == epoch && r.getInt(2) == layer && r.getString(5).equals("pruned")).count();
                assertEquals(Math.min(e, ops.size() - sections), pruned, "epoch " + e + " layer " + l + " (" + ops.size() + " ops)");
                double theta = p.stream().filter(r -> r.getInt(1) == epoch && r.getInt(2) == layer && r.getString(5).equals("theta"))
                        .mapToDouble(r -> r.getDouble(4)).sum();
                assertEquals(1.0, theta, 1e-9, "theta normalised over every op, pruned ones included");
                // Eq. 2: every op remaining at the epoch's start has the val accuracy of an architecture that trained it
                long performed = p.stream().filter(r -> r.getInt(1) == epoch && r.getInt(2) == layer && r.getString(5).equals("performance")).count();
                assertEquals(ops.size() - Math.min(e - 1, ops.size() - sections), performed, "epoch " + e + " layer " + l);
            }
            // a section never empties: identity survives where the layer has it, and one parameter op always
            List<String> left = new ArrayList<>();
            for (Op o : ops) {
                boolean gone = p.stream().anyMatch(r -> r.getInt(2) == layer && r.getString(3).equals(o.name()) && r.getString(5).equals("pruned"));
                if (!gone) {
                    left.add(o.name());
                }
            }
            assertEquals(sections, left.size(), "layer " + l + " keeps " + left);
            assertTrue(left.stream().anyMatch(o -> !o.equals("identity")), "layer " + l + " keeps a parameter op");
        }
        // every weight round trained images; architecture rounds: none (DDPNAS follows val accuracy, not gradients)
        List<Row> metrics = spark.read().parquet(ddpnas.stageUri() + "/train_metrics").collectAsList();
        assertTrue(metrics.stream().allMatch(r -> r.getString(11).equals("weights") && r.getLong(3) > 0));
        // Eq. 19, a pass each: epoch e is K passes of 3 steps (the cap) per worker, one round each (no round spans two passes),
        // K = 7, 6, 5, 4, 3; 2 workers x batch 16
        for (int e = 1; e <= epochs; e++) {
            int epoch = e;
            int k = 8 - e;
            List<Row> rounds = metrics.stream().filter(r -> r.getInt(0) == epoch).toList();
            assertEquals(k, rounds.size(), "epoch " + e + ": a round per pass");
            assertEquals((long) k * 3 * 2 * 16, rounds.stream().mapToLong(r -> r.getLong(3)).sum(), "epoch " + e + ": images trained");
        }
    }

    @Test
    void engReturnsTheBestArchitectureWithinEachBoundAsBruteForceOverThePrunedSpaceDoesAndOverEveryOpNoWorse() {
        List<Row> p = params();
        SearchSpace space = space();
        int last = p.stream().mapToInt(r -> r.getInt(1)).max().orElseThrow();
        // the pruned space and its theta, from arch_params
        List<List<Op>> left = new ArrayList<>();
        List<double[]> theta = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            List<Op> ops = new ArrayList<>();
            List<Double> t = new ArrayList<>();
            for (Op o : space.layer(l).candidates()) {
                boolean gone = p.stream().anyMatch(r -> r.getInt(2) == layer && r.getString(3).equals(o.name()) && r.getString(5).equals("pruned"));
                if (!gone) {
                    ops.add(o);
                    t.add(p.stream().filter(r -> r.getInt(1) == last && r.getInt(2) == layer && r.getString(3).equals(o.name())
                            && r.getString(5).equals("theta")).findFirst().orElseThrow().getDouble(4));
                }
            }
            left.add(ops);
            theta.add(t.stream().mapToDouble(Double::doubleValue).toArray());
        }
        FlopsCostModel flops = new FlopsCostModel();
        ParamsCostModel params = new ParamsCostModel();
        // bounds that bind whatever the training gave: halfway between the pruned space's cheapest architecture and its
        // unconstrained optimum (every layer's op of highest theta), in FLOPs and in params; and one that does not bind
        double minFlops = Double.POSITIVE_INFINITY;
        double minParams = Double.POSITIVE_INFINITY;
        List<Op> highest = new ArrayList<>();
        long combos = 1;
        for (int l = 0; l < space.size(); l++) {
            combos *= left.get(l).size();
            int best = 0;
            for (int i = 1; i < theta.get(l).length; i++) {
                best = theta.get(l)[i] > theta.get(l)[best] ? i : best;
            }
            highest.add(left.get(l).get(best));
        }
        assertTrue(combos <= 1 << 16, combos + " architectures in the pruned space");
        for (long c = 0; c < combos; c++) {
            Arch cand = pick(left, c);
            minFlops = Math.min(minFlops, flops.cost(space, cand));
            minParams = Math.min(minParams, params.cost(space, cand));
        }
        double topFlops = flops.cost(space, Arch.single(highest));
        double topParams = params.cost(space, Arch.single(highest));
        assertTrue(topFlops > minFlops + 0.01 && topParams > minParams + 0.001, "the pruned space leaves a choice: " + minFlops + " .. "
                + topFlops + " MFLOPs, " + minParams + " .. " + topParams + " M params");
        String[] bounds = {"flops <= " + decimal((minFlops + topFlops) / 2, 4), "params <= " + decimal((minParams + topParams) / 2, 5), "flops <= 100"};
        String constraints = "[\"" + String.join("\", \"", bounds) + "\"]";
        StageArgs a = args("d", false, Map.of("nas.ddpnas.generation.ops", "pruned", "nas.ddpnas.generation.constraints", constraints));
        SearchStage.run(SearchSettings.from(a.loadConfig(), a), spark);
        List<Row> generated = spark.read().parquet(root.resolve("d/search/generated_archs").toString()).collectAsList();
        assertEquals(3, generated.size(), "one architecture per constraint");
        double[] prunedBest = new double[3];
        for (int k = 0; k < bounds.length; k++) {
            Row g = generated.get(k);
            assertEquals(bounds[k], g.getString(6));
            boolean isFlops = bounds[k].startsWith("flops");
            double bound = Double.parseDouble(bounds[k].split("<=")[1].trim());
            Arch arch = Arch.parse(g.getString(0));
            double cost = isFlops ? flops.cost(space, arch) : params.cost(space, arch);
            assertTrue(cost <= bound, arch.id() + " costs " + cost + " above " + bounds[k]);
            assertEquals(isFlops ? g.getDouble(3) : g.getDouble(4), cost, 1e-9);
            // brute force over the pruned space (at most 2 ops per layer)
            double best = Double.NEGATIVE_INFINITY;
            int layers = space.size();
            double got = 0;
            for (int l = 0; l < layers; l++) {
                assertTrue(left.get(l).contains(arch.op(l)), "layer " + l + ": " + arch.op(l) + " was pruned");
                got += theta.get(l)[left.get(l).indexOf(arch.op(l))] / layers;
            }
            for (long c = 0; c < combos; c++) {
                long rest = c;
                List<Op> ops = new ArrayList<>();
                double v = 0;
                for (int l = 0; l < layers; l++) {
                    int i = (int) (rest % left.get(l).size());
                    rest /= left.get(l).size();
                    ops.add(left.get(l).get(i));
                    v += theta.get(l)[i] / layers;
                }
                Arch cand = Arch.single(ops);
                double cc = isFlops ? flops.cost(space, cand) : params.cost(space, cand);
                if (cc <= bound) {
                    best = Math.max(best, v);
                }
            }
            assertEquals(best, got, 1e-12, "E[alpha] of the ENG answer for " + bounds[k]);
            prunedBest[k] = got;
            assertTrue(g.getString(7).contains("proven optimal"), g.getString(7));
            assertTrue(g.getDouble(2) >= 0 && g.getDouble(2) <= 1, "supernet val accuracy: " + g);
        }
        // ENG over every op (the default, ops = all): pruned ops keep their last theta; a superset of the pruned space, so
        // never a lower E[alpha]; the bound that does not bind (flops <= 100) gives every layer's op of highest theta
        StageArgs all = args("d", false, Map.of("nas.ddpnas.generation.constraints", constraints));
        SearchStage.run(SearchSettings.from(all.loadConfig(), new StageArgs(all.configFile(), all.overrides(), true, false, all.options(),
                all.positional())), spark);
        List<Row> overAll = spark.read().parquet(root.resolve("d/search/generated_archs").toString()).collectAsList();
        for (int k = 0; k < bounds.length; k++) {
            Row g = overAll.get(k);
            Arch arch = Arch.parse(g.getString(0));
            boolean isFlops = bounds[k].startsWith("flops");
            double cost = isFlops ? flops.cost(space, arch) : params.cost(space, arch);
            assertTrue(cost <= Double.parseDouble(bounds[k].split("<=")[1].trim()), arch.id() + " costs " + cost + " above " + bounds[k]);
            assertTrue(g.getString(7).contains("over every op") && g.getString(7).contains("proven optimal"), g.getString(7));
            double v = 0;
            for (int l = 0; l < space.size(); l++) {
                v += thetaAt(p, last, l, arch.op(l)) / space.size();
            }
            assertTrue(v >= prunedBest[k] - 1e-12, bounds[k] + ": E[alpha] over every op " + v + " below the pruned space's " + prunedBest[k]);
            if (k == 2) {
                for (int l = 0; l < space.size(); l++) {
                    int layer = l;
                    double top = space.layer(l).candidates().stream().mapToDouble(o -> thetaAt(p, last, layer, o)).max().orElseThrow();
                    assertEquals(top, thetaAt(p, last, l, arch.op(l)), 1e-15, "unbound: layer " + l + " takes its op of highest theta");
                }
            }
        }
        // a bound below the cheapest architecture: a clear error naming the constraint and the cheapest cost
        StageArgs tooLow = args("d", false, Map.of("nas.ddpnas.generation.constraints", "[\"flops <= 0.01\"]"));
        Exception e = assertThrows(InputDataException.class, () -> SearchStage.run(SearchSettings.from(tooLow.loadConfig(),
                new StageArgs(tooLow.configFile(), tooLow.overrides(), true, false, tooLow.options(), tooLow.positional())), spark));
        assertTrue(e.getMessage().contains("'flops <= 0.01' cannot be met") && e.getMessage().contains("cheapest"), e.getMessage());
        StageArgs bad = args("d", false, Map.of("nas.ddpnas.generation.constraints", "[\"flops < 3\"]"));
        Exception form = assertThrows(InvalidSettingsException.class, () -> SearchSettings.from(bad.loadConfig(), bad));
        assertTrue(form.getMessage().contains("nas.ddpnas.generation.constraints") && form.getMessage().contains("flops <= 400"), form.getMessage());
    }

    /** Architecture number c of the pruned space {@code left} (mixed radix, layer 0 fastest). */
    static Arch pick(List<List<Op>> left, long c) {
        List<Op> ops = new ArrayList<>();
        for (List<Op> l : left) {
            ops.add(l.get((int) (c % l.size())));
            c /= l.size();
        }
        return Arch.single(ops);
    }

    /** x to the given decimals, as a constraint writes it (no trailing zeros). */
    static String decimal(double x, int decimals) {
        return java.math.BigDecimal.valueOf(x).setScale(decimals, java.math.RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
    }

    /** theta of op o at layer l in epoch e, pruned or not. */
    static double thetaAt(List<Row> p, int e, int l, Op o) {
        return p.stream().filter(r -> r.getInt(1) == e && r.getInt(2) == l && r.getString(3).equals(o.name()) && r.getString(5).equals("theta"))
                .findFirst().orElseThrow(() -> new AssertionError("no theta for " + o.name() + " at layer " + l + " in epoch " + e)).getDouble(4);
    }

    @Test
    void aKilledDdpnasRunResumesWithTheSameThetaMomentumAndPruning() throws Exception {
        // the same images as d (the same ingest settings): d's committed ingest, copied
        Stages.copyCommitted(root, "d", "k", "ingest");
        // the driver's jobs are cancelled once epoch 3 has one round done (checkpoint after every round)
        CancelAt.checkpoint(spark, root.resolve("k/supernet-train/_checkpoint"), "2 1", () -> SupernetTrainStage.run(supernet("k", false), spark));
        assertFalse(Files.exists(root.resolve("k/supernet-train/_stage.json")));
        SupernetTrainResult resumed = SupernetTrainStage.run(supernet("k", true), spark);
        RunStore ref = new RunStore(root.toUri(), "d", spark.sparkContext().hadoopConfiguration());
        RunStore res = new RunStore(root.toUri(), "k", spark.sparkContext().hadoopConfiguration());
        Map<String, String> r = ref.committed("supernet-train").orElseThrow().properties();
        Map<String, String> k = res.committed("supernet-train").orElseThrow().properties();
        // a resume, not a restart: the second attempt began after the cancelled attempt's last checkpoint
        assertEquals("epoch 3 round 2", k.get("resumed_at"), "where the resumed attempt started");
        assertEquals(null, r.get("resumed_at"), "the uninterrupted run did not resume");
        assertTrue(k.get("strategy_state").contains("velocity") && k.get("strategy_state").contains("pruned"));
        assertEquals(r.get("strategy_state"), k.get("strategy_state"), "theta, momentum, window and pruning history");
        assertEquals(r.get("state_sha256"), k.get("state_sha256"), "supernet weights");
        assertEquals(spark.read().parquet(ddpnas.stageUri() + "/arch_params").orderBy("epoch", "layer", "op", "kind").collectAsList(),
                spark.read().parquet(resumed.stageUri() + "/arch_params").orderBy("epoch", "layer", "op", "kind").collectAsList());
    }
}
