package io.sparknas.search.strategy;

import java.util.Arrays;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DdpnasStrategyTest {

    /** mobilenetv2, one layer per stage: 3 candidates on the first layer, 6 IBConv (+ identity on stride-1 layers) elsewhere. */
    static final SearchSpace SPACE = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 2));

    static DdpnasStrategy.Settings paper(int t) {
        return new DdpnasStrategy.Settings(t, 0.8, "softmax-of-mean", 1.0, "softmax", 1.0, "theta", true, 5);
    }

    static DdpnasStrategy.Settings code(int t) {
        return new DdpnasStrategy.Settings(t, 0.8, "mean-of-softmax", 0.01, "row-sum", 1.0, "uniform", true, 5);
    }

    /** Layers of the toy problem with a clearly better op: the second layer (6 IBConv ops) and the third (with identity). */
    static final int[] CLEAR = {1, 2};

    /** The op the toy problem favours at layer l: its last IBConv candidate (never identity). */
    static int best(int l) {
        List<Op> c = SPACE.layer(l).candidates();
        int b = 0;
        for (int i = 0; i < c.size(); i++) {
            if (!(c.get(i) instanceof Op.Identity)) {
                b = i;
            }
        }
        return b;
    }

    /**
     * Toy val accuracy: 0.4, + 0.2 for each clear layer at its best op, + a fixed effect in [0, 0.01) of every op of every
     * layer, + noise in [0, 0.01).
     */
    static double accuracy(Arch a, Random noise) {
        double acc = 0.4;
        for (int l = 0; l < SPACE.size(); l++) {
            int i = SPACE.layer(l).candidates().indexOf(a.op(l));
            for (int c : CLEAR) {
                acc += c == l && i == best(l) ? 0.2 : 0;
            }
            acc += 0.01 * new Random(l * 31L + i).nextDouble();
        }
        return acc + 0.01 * noise.nextDouble();
    }

    /** Runs a strategy over its epochs on the toy problem (from epoch {@code from}); returns the last epoch's rows. */
    static List<TrainingStrategy.ArchParam> run(DdpnasStrategy d, int from, int to, Random noise) {
        List<TrainingStrategy.ArchParam> rows = List.of();
        for (int e = from; e < to; e++) {
            List<Arch> archs = d.evaluations(e);
            double[] acc = archs.stream().mapToDouble(a -> accuracy(a, noise)).toArray();
            d.observeEvaluations(e, acc);
            rows = d.endEpoch(e);
        }
        return rows;
    }

    @Test
    void eq3to5GiveTheValuesComputedByHand() {
        // T = 2, g = 0.5, temperature 1, lr 1, softmax normalisation. The val accuracy depends only on layer 0's op (3 ops):
        // epochs 1-2: 0.3 / 0.5 / 0.7 then 0.5 / 0.5 / 0.9 -> P_bar = (0.4, 0.5, 0.8) (Eq. 3); V = 0.5 softmax(P_bar)
        // = (0.139005, 0.153624, 0.207371) (Eq. 4); theta = softmax(1/3 + V) (Eq. 5) -> op 0 lowest, pruned at epoch 2.
        // Epochs 3-4 (op 0 pruned): 0.6 / 0.6 then 0.4 / 0.8 -> P_bar = (0.5, 0.7) over the remaining ops; V keeps its
        // momentum; theta = softmax(theta + V) over all three ops (the pruned one keeps its probability) -> op 1 pruned.
        // (Numbers by a separate calculation, not by the class under test.)
        DdpnasStrategy d = new DdpnasStrategy(SPACE, new DdpnasStrategy.Settings(2, 0.5, "softmax-of-mean", 1.0, "softmax", 1.0, "theta", true, 5));
        assertEquals(3, SPACE.layer(0).candidates().size());
        double[][] accuracy = {{.3, .5, .7}, {.5, .5, .9}, {Double.NaN, .6, .6}, {Double.NaN, .4, .8}};
        for (int e = 0; e < 4; e++) {
            int epoch = e;
            List<Arch> archs = d.evaluations(e);
            d.observeEvaluations(e, archs.stream().mapToDouble(a -> accuracy[epoch][SPACE.layer(0).candidates().indexOf(a.op(0))]).toArray());
            List<TrainingStrategy.ArchParam> rows = d.endEpoch(e);
            if (e == 1) {
                assertArrayEquals(new double[]{0.2780097911797676, 0.30724833615216285, 0.4147418726680695}, rows.stream()
                        .filter(r -> r.layer() == 0 && r.kind().equals("utility")).mapToDouble(TrainingStrategy.ArchParam::value).toArray(), 1e-12,
                        "Eq. 3-4: softmax of the window's mean accuracy");
                assertArrayEquals(new double[]{0.32409827882144127, 0.32887116291236773, 0.347030558266191}, d.theta()[0], 1e-12, "Eq. 5");
                assertArrayEquals(new int[]{2, 0, 0}, d.prunedAt()[0]);
            }
        }
        assertArrayEquals(new double[]{0.2595376364707852, 0.3526830210390824, 0.3877793424901324}, d.theta()[0], 1e-12,
                "Eq. 4-5 with the first update's momentum, normalised over all ops");
        assertArrayEquals(new int[]{2, 4, 0}, d.prunedAt()[0]);
    }

    /** Every epoch's weight steps per worker for G steps per pass: all of the epoch's passes, as EpochSteps counts them. */
    static int[] steps(DdpnasStrategy d, int g) {
        int[] s = new int[d.epochs()];
        for (int e = 0; e < s.length; e++) {
            s[e] = g * d.epochPlan(e).weightPasses();
        }
        return s;
    }

    @Test
    void theStoppingRuleFixesTheEpochsAndTheClearlyBetterOpSurvives() {
        for (DdpnasStrategy.Settings s : List.of(paper(2), code(2))) {
            DdpnasStrategy d = new DdpnasStrategy(SPACE, s);
            // 7 ops (6 IBConv + identity) down to 2 sections: 5 prunes, every 2 epochs
            assertEquals(10, d.epochs(), s.toString());
            d.trainingShape(2, steps(d, 30));
            List<TrainingStrategy.ArchParam> last = run(d, 0, d.epochs(), new Random(3));
            assertTrue(d.stopped(), "one op per section at the end");
            SearchSpace live = d.space();
            assertTrue(SPACE.layer(2).candidates().stream().anyMatch(o -> o instanceof Op.Identity)
                    && SPACE.layer(1).candidates().stream().noneMatch(o -> o instanceof Op.Identity), "the toy's layers");
            for (int l : CLEAR) {
                List<Op> ops = live.layer(l).candidates();
                assertTrue(ops.contains(SPACE.layer(l).candidates().get(best(l))), s.utility() + ": layer " + l + " lost its best op: " + ops);
            }
            for (int l = 0; l < SPACE.size(); l++) {
                List<Op> ops = live.layer(l).candidates();
                boolean hasIdentity = SPACE.layer(l).candidates().stream().anyMatch(o -> o instanceof Op.Identity);
                assertEquals(hasIdentity ? 2 : 1, ops.size(), "layer " + l + " keeps one op per section: " + ops);
                int layer = l;
                double sum = last.stream().filter(p -> p.layer() == layer && p.kind().equals("theta"))
                        .mapToDouble(TrainingStrategy.ArchParam::value).sum();
                assertEquals(1.0, sum, 1e-9, "theta of layer " + l + " sums to 1, pruned ops included");
            }
            // pruned rows: exactly one op per prunable layer at every update epoch
            Map<Integer, Integer> prunedPerEpoch = new HashMap<>();
            for (TrainingStrategy.ArchParam p : last) {
                if (p.kind().equals("pruned")) {
                    prunedPerEpoch.merge((int) p.value(), 1, Integer::sum);
                }
            }
            for (int e = 2; e <= 10; e += 2) {
                int prunable = 0;
                for (int l = 0; l < SPACE.size(); l++) {
                    List<Op> c = SPACE.layer(l).candidates();
                    int sections = c.stream().anyMatch(o -> o instanceof Op.Identity) ? 2 : 1;
                    if (c.size() - sections >= e / 2) {
                        prunable++;
                    }
                }
                assertEquals(prunable, prunedPerEpoch.getOrDefault(e, 0), "ops pruned at the end of epoch " + e);
            }
        }
    }

    @Test
    void disjointSamplingTrainsEveryOpOncePerEpochAndTheLayoutSharesStepsEqually() {
        DdpnasStrategy.Settings p = paper(1);
        DdpnasStrategy d = new DdpnasStrategy(SPACE, new DdpnasStrategy.Settings(p.epochsPerUpdate(), p.momentum(), p.utility(),
                p.utilityTemperature(), p.normalisation(), p.learningRate(), p.sampling(), false, p.seed()));
        int workers = 2;
        int g = 35;
        d.trainingShape(workers, steps(d, g));
        for (int e = 0; e < d.epochs(); e++) {
            List<Arch> archs = d.sample(e);
            int k = d.k();
            assertEquals(k, archs.size());
            assertEquals(archs, d.sample(e), "the draw is a function of seed, epoch and theta");
            for (int l = 0; l < SPACE.size(); l++) {
                List<Op> rem = d.space().layer(l).candidates();
                Map<Op, Integer> uses = new HashMap<>();
                for (Arch a : archs) {
                    assertTrue(rem.contains(a.op(l)), "a pruned op was sampled");
                    uses.merge(a.op(l), 1, Integer::sum);
                }
                assertEquals(rem.size(), uses.size(), "every remaining op of layer " + l + " is trained in epoch " + (e + 1));
                for (int u : uses.values()) {
                    assertTrue(u == k / rem.size() || u == (k + rem.size() - 1) / rem.size(), "uses " + uses);
                }
            }
            assertEquals(1, d.epochPlan(e).weightPasses(), "a shared pass");
            DdpnasStrategy.DisjointPlan plan = (DdpnasStrategy.DisjointPlan) d.plan(e, TrainingStrategy.Phase.WEIGHTS);
            int[] stepsOf = new int[k];
            Map<Integer, Set<Integer>> workersOf = new HashMap<>();
            for (int s = 0; s < g; s++) {
                Set<Integer> atOnce = new HashSet<>();
                for (int w = 0; w < workers; w++) {
                    int a = plan.archOf(w, s);
                    assertEquals(archs.get(a), plan.step(w, s, new Random(1)).arch());
                    stepsOf[a]++;
                    workersOf.computeIfAbsent(a, x -> new HashSet<>()).add(w);
                    assertTrue(atOnce.add(a), "two workers train architecture " + a + " at step " + s);
                }
            }
            int split = 0;
            for (int a = 0; a < k; a++) {
                assertTrue(Math.abs(stepsOf[a] - (double) g * workers / k) <= 1, "architecture " + a + ": " + stepsOf[a] + " steps");
                split += workersOf.get(a).size() > 1 ? 1 : 0;
            }
            assertTrue(split <= workers - 1, split + " architectures split across workers");
            run(d, e, e + 1, new Random(e));
        }
    }

    /**
     * Eq. 19 (T x sum K): with a pass each (the default), epoch e is K passes of G steps per worker, K known before training,
     * and every architecture trains on every worker's shard for exactly one whole pass, never beside itself.
     */
    @Test
    void aPassEachGivesEveryArchitectureAWholePassOverEveryShard() {
        int g = 7;
        for (int workers : new int[]{2, 3}) {
            DdpnasStrategy d = new DdpnasStrategy(SPACE, paper(1));
            d.trainingShape(workers, steps(d, g));
            int[] expectedK = {7, 6, 5, 4, 3};
            assertEquals(expectedK.length, d.epochs());
            for (int e = 0; e < d.epochs(); e++) {
                int k = d.k();
                assertEquals(expectedK[e], k, "K of epoch " + (e + 1));
                assertEquals(k, d.epochPlan(e).weightPasses(), "the plan, made before training, has K passes");
                DdpnasStrategy.DisjointPlan plan = (DdpnasStrategy.DisjointPlan) d.plan(e, TrainingStrategy.Phase.WEIGHTS);
                int[][] stepsOn = new int[k][workers];
                for (int s = 0; s < k * g; s++) {
                    Set<Integer> atOnce = new HashSet<>();
                    for (int w = 0; w < workers; w++) {
                        int a = plan.archOf(w, s);
                        stepsOn[a][w]++;
                        assertTrue(atOnce.add(a), "two workers train architecture " + a + " at step " + s);
                        assertEquals(plan.archOf(w, s - s % g), a, "an architecture keeps its worker for the whole pass");
                    }
                }
                for (int a = 0; a < k; a++) {
                    for (int w = 0; w < workers; w++) {
                        assertEquals(g, stepsOn[a][w], "architecture " + a + " on worker " + w + "'s shard: one whole pass");
                    }
                }
                run(d, e, e + 1, new Random(e));
            }
        }
    }

    @Test
    void aRestoredStrategyContinuesExactly() {
        DdpnasStrategy a = new DdpnasStrategy(SPACE, paper(3));
        a.trainingShape(2, steps(a, 10));
        run(a, 0, 4, new Random(11));
        String mid = a.state();
        List<TrainingStrategy.ArchParam> endA = run(a, 4, a.epochs(), new Random(12));
        DdpnasStrategy b = new DdpnasStrategy(SPACE, paper(3));
        b.trainingShape(2, steps(b, 10));
        b.restore(mid);
        assertEquals(mid, b.state());
        List<TrainingStrategy.ArchParam> endB = run(b, 4, b.epochs(), new Random(12));
        assertEquals(endA, endB);
        assertEquals(a.state(), b.state());
        for (int l = 0; l < SPACE.size(); l++) {
            assertArrayEquals(a.theta()[l], b.theta()[l]);
        }
        assertFalse(mid.equals(a.state()));
    }
}
