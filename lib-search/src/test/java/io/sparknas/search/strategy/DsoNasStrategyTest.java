package io.sparknas.search.strategy;

import java.util.function.BiFunction;
import java.util.Arrays;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DsoNasStrategyTest {

    /** mobilenetv2, one layer per stage: shape-changing layers and stride-1 layers with identity. */
    static final SearchSpace SPACE = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 2));

    static DsoNasStrategy.Settings settings(double gamma, String budget, boolean untilOneOp) {
        return new DsoNasStrategy.Settings(0.8, 1, 4, untilOneOp, 0.1, 0.9, "constant", 2.0, gamma, budget, 0.5, true);
    }

    @Test
    void softThresholdAndApgNagStepsEqualHandComputedValues() {
        assertEquals(0.3, ApgNag.softThreshold(0.5, 0.2), 1e-15);
        assertEquals(-0.3, ApgNag.softThreshold(-0.5, 0.2), 1e-15);
        assertEquals(0.0, ApgNag.softThreshold(0.15, 0.2));
        assertEquals(0.0, ApgNag.softThreshold(-0.2, 0.2));
        ApgNag apg = new ApgNag(0.1, 0.9, false, 2.0, 3);
        double[] l = {1.0, 0.01, 1.0};
        double[] gamma = {0.2, 0.2, 0.2};
        boolean[] on = {true, true, true};
        // entry 0: z = 1 - 0.1 * 0.5 = 0.95, s = 0.93, v = 0.93 - 1 = -0.07, l = 0.93 + 0.9 * -0.07 = 0.867
        // entry 1: z = 0.01 - 0.05 = -0.04, s = -0.02, v = -0.03, l = max(0, -0.02 - 0.027) = 0 (exact)
        // entry 2: g = 5 clipped to 2: z = 0.8, s = 0.78, v = -0.22, l = 0.78 - 0.198 = 0.582
        apg.step(l, new double[]{0.5, 0.5, 5.0}, gamma, on);
        assertArrayEquals(new double[]{0.867, 0.0, 0.582}, l, 1e-12);
        assertEquals(-0.07, apg.velocity(0), 1e-12);
        // entry 0 again, g = -1: z = 0.967, s = 0.947, v = 0.947 - 0.867 + 0.9 * -0.07 = 0.017, l = 0.947 + 0.0153 = 0.9623
        apg.step(l, new double[]{-1.0, 0.0, 0.0}, gamma, new boolean[]{true, false, false});
        assertEquals(0.9623, l[0], 1e-12);
        assertEquals(0.0, l[1]);
        assertEquals(0.582, l[2], 1e-12);
        // the paper's momentum schedule: Eq. 13's mu_(t-1) = (t - 2) / (t + 1), so mu_(t) = (t - 1) / (t + 2); mu_0 = -1/2 as 0
        ApgNag scheduled = new ApgNag(0.1, 0.9, true, 0, 1);
        assertEquals(0.0, scheduled.momentumAt(0));
        assertEquals(0.0, scheduled.momentumAt(1));
        assertEquals(0.25, scheduled.momentumAt(2), 1e-15);
        assertEquals(0.4, scheduled.momentumAt(3), 1e-15);
        assertEquals(0.5, scheduled.momentumAt(4), 1e-15);
        // three steps of one entry, g = 0.5, eta 0.1, gamma 0.2 (threshold 0.02):
        // t = 1: mu_0 = 0, mu_1 = 0:    z = 0.95,   s = 0.93,   v = -0.07,                       l = 0.93
        // t = 2: mu_1 = 0, mu_2 = 1/4:  z = 0.88,   s = 0.86,   v = -0.07,                       l = 0.86 - 0.0175 = 0.8425
        // t = 3: mu_2 = 1/4, mu_3 = 2/5: z = 0.7925, s = 0.7725, v = -0.07 + 0.25 x -0.07 = -0.0875, l = 0.7725 - 0.035 = 0.7375
        // (one step late, with (t - 2) / (t + 1) as mu_t: 0.93, 0.86, 0.7725)
        double[] one = {1.0};
        double[] expected = {0.93, 0.8425, 0.7375};
        for (double e : expected) {
            scheduled.step(one, new double[]{0.5}, new double[]{0.2}, new boolean[]{true});
            assertEquals(e, one[0], 1e-12);
        }
        assertEquals(-0.0875, scheduled.velocity(0), 1e-12);
    }

    @Test
    void theOpKeptInALayerWithoutIdentityRestartsItsMomentumAndMovesOnTheNextStep() {
        // every target 0 and gamma 0.5: step until a lambda step would zero the whole first layer (no identity) and its
        // largest op skips the step (its lambda unchanged)
        DsoNasStrategy d = new DsoNasStrategy(SPACE, settings(0.5, "none", false), null);
        d.endEpoch(0);
        int kept = -1;
        for (int t = 0; t < 100 && kept < 0; t++) {
            double[] before = d.lambda()[0];
            d.observe(1, gradient(d, (l, i) -> 0.0), 1);
            double[] after = d.lambda()[0];
            for (int i = 0; i < after.length; i++) {
                if (after[i] > 0 && after[i] == before[i]) {
                    kept = i;
                }
            }
        }
        assertTrue(kept >= 0, "a step would have zeroed the first layer");
        double l0 = d.lambda()[0][kept];
        assertEquals(1, Arrays.stream(d.lambda()[0]).filter(v -> v > 0).count(), "one op kept");
        // the next step pulls it up (target l0 + 1: g = -1): with its momentum restarted (v = 0),
        // z = l0 + 0.1, s = l0 + 0.05, v = 0.05, l = s + 0.9 x 0.05 = l0 + 0.095; the stale velocity of the step it skipped
        // (negative: it drove the layer to 0) would have pulled it below l0
        double target = l0 + 1;
        d.observe(1, gradient(d, (l, i) -> target), 1);
        assertEquals(l0 + 0.095, d.lambda()[0][kept], 1e-12);
    }

    /** Quadratic toy G(lambda) = sum (lambda - target)^2 / 2: targets 0.05 for the first op of every layer, 1 for the others. */
    static void descend(DsoNasStrategy d, int epochs, int stepsPerEpoch) {
        for (int e = 0; e < epochs; e++) {
            if (d.epochPlan(e).architectureSteps()) {
                for (int t = 0; t < stepsPerEpoch; t++) {
                    d.observe(e, gradient(d), 1);
                }
            }
            d.endEpoch(e);
        }
    }

    static double[][] gradient(DsoNasStrategy d) {
        return gradient(d, (l, i) -> i == 0 ? 0.05 : 1.0);
    }

    /** The gradient of sum (lambda - target(l, i))^2 / 2 over the ops still computed. */
    static double[][] gradient(DsoNasStrategy d, BiFunction<Integer, Integer, Double> target) {
        double[][] lam = d.lambda();
        double[][] g = new double[SPACE.size()][];
        for (int l = 0; l < SPACE.size(); l++) {
            List<Op> live = d.plan(0, TrainingStrategy.Phase.ARCHITECTURE).step(0, 0, null).arch().ops(l);
            g[l] = new double[live.size()];
            int k = 0;
            for (int i = 0; i < lam[l].length; i++) {
                if (live.contains(d.weightedOps().get(l).get(i))) {
                    g[l][k++] = lam[l][i] - target.apply(l, i);
                }
            }
        }
        return g;
    }

    @Test
    void strongSparsityDrivesTheWeakOpsExactlyToZeroAndAWeakOneKeepsThem() {
        DsoNasStrategy strong = new DsoNasStrategy(SPACE, settings(0.3, "none", false), null);
        descend(strong, 5, 200);
        DsoNasStrategy weak = new DsoNasStrategy(SPACE, settings(0.01, "none", false), null);
        descend(weak, 5, 200);
        double[][] s = strong.lambda();
        double[][] w = weak.lambda();
        for (int l = 0; l < SPACE.size(); l++) {
            for (int i = 0; i < s[l].length; i++) {
                // the minimiser of (x - t)^2 / 2 + gamma x over x >= 0 is max(0, t - gamma)
                double t = i == 0 ? 0.05 : 1.0;
                if (i == 0) {
                    assertEquals(0.0, s[l][i], "strong gamma: exact zero at layer " + l);
                } else {
                    assertEquals(t - 0.3, s[l][i], 1e-6, "strong gamma at layer " + l + " op " + i);
                }
                assertEquals(t - 0.01, w[l][i], 1e-6, "weak gamma keeps layer " + l + " op " + i);
            }
        }
        Arch result = strong.readOff().orElseThrow();
        for (int l = 0; l < SPACE.size(); l++) {
            assertEquals(s[l].length - 1, result.ops(l).size(), "layer " + l + " keeps every op but the zeroed one");
            assertFalse(result.ops(l).contains(strong.weightedOps().get(l).get(0)));
        }
        for (int l = 0; l < SPACE.size(); l++) {
            assertEquals(w[l].length, weak.readOff().orElseThrow().ops(l).size(), "weak gamma keeps every op of layer " + l);
        }
        // zero lambdas stop being computed: the plan holds one op fewer per layer
        assertEquals(s[1].length - 1, strong.plan(5, TrainingStrategy.Phase.WEIGHTS).step(0, 0, null).arch().ops(1).size());
    }

    @Test
    void aLayerWithoutIdentityKeepsItsLargestOpAndOneWithIdentityBecomesTheIdentity() {
        // every target 0 and a strong gamma: every lambda wants to be 0
        DsoNasStrategy d = new DsoNasStrategy(SPACE, settings(0.5, "none", false), null);
        for (int e = 0; e < 5; e++) {
            if (d.epochPlan(e).architectureSteps()) {
                for (int t = 0; t < 100; t++) {
                    d.observe(e, gradient(d, (l, i) -> 0.0), 1);
                }
            }
            d.endEpoch(e);
        }
        Arch a = d.readOff().orElseThrow();
        int identities = 0;
        int keptWithoutIdentity = 0;
        for (int l = 0; l < SPACE.size(); l++) {
            if (SPACE.layer(l).candidates().contains(new Op.Identity())) {
                assertTrue(a.ops(l).isEmpty(), "layer " + l + " has the identity: skipped");
                identities++;
            } else {
                // shape-changing layers, and the first layer, which keeps its shape but has no identity in the space
                assertEquals(1, a.ops(l).size(), "layer " + l + " has no identity: one op kept");
                keptWithoutIdentity += SPACE.layer(l).keepsShape() ? 1 : 0;
            }
        }
        assertTrue(keptWithoutIdentity > 0, "the space has a shape-keeping layer without identity");
        assertTrue(identities > 0);
    }

    @Test
    void adaptiveBudgetsScaleGammaAsEq17To19Say() {
        double[][] cost = new double[SPACE.size()][];
        for (int l = 0; l < SPACE.size(); l++) {
            cost[l] = new double[SPACE.layer(l).candidates().size()];
            for (int i = 0; i < cost[l].length; i++) {
                cost[l][i] = SPACE.layer(l).candidates().get(i) instanceof Op.Identity ? 0 : 1 + i;
            }
        }
        // Eq. 17: gamma x FLOPs kept / FLOPs of the whole layer; all kept at first
        DsoNasStrategy flops = new DsoNasStrategy(SPACE, settings(0.3, "flops", false), cost);
        assertArrayEquals(new double[]{0.3, 0.3, 0.3, 0.3, 0.3, 0.3}, flops.sparsityWeights(1), 1e-12);
        descend(flops, 5, 200);
        double[] w = flops.sparsityWeights(1);
        double all = 1 + 2 + 3 + 4 + 5 + 6;
        double kept = all - (flops.lambda()[1][0] == 0 ? 1 : 0);
        assertEquals(0.3 * kept / all, w[1], 1e-12);
        // Eq. 18: gamma x the op's MAC over the largest MAC of the network
        DsoNasStrategy mac = new DsoNasStrategy(SPACE, settings(0.3, "mac", false), cost);
        double max = 6;
        assertEquals(0.3 * 1 / max, mac.sparsityWeights(1)[0], 1e-12);
        // Eq. 19 in the code's sense: the op saving most latency gets gamma, the one saving least 0.5 gamma
        DsoNasStrategy lat = new DsoNasStrategy(SPACE, settings(0.3, "latency", false), cost);
        double lo = Double.MAX_VALUE, hi = 0;
        for (int l = 0; l < SPACE.size(); l++) {
            for (double g : lat.sparsityWeights(l)) {
                lo = Math.min(lo, g);
                hi = Math.max(hi, g);
            }
        }
        assertEquals(0.15, lo, 1e-12);
        assertEquals(0.3, hi, 1e-12);
        double[] layer1 = lat.sparsityWeights(1);
        for (int i = 1; i < layer1.length; i++) {
            assertTrue(layer1[i] > layer1[i - 1], "a costlier op is penalised more");
        }
        assertThrows(IllegalArgumentException.class, () -> new DsoNasStrategy(SPACE, settings(0.3, "flops", false), null));
    }

    @Test
    void convergesWhenOneOpPerLayerIsLeftWithUntilOneOp() {
        DsoNasStrategy d = new DsoNasStrategy(SPACE, settings(0.3, "none", true), null);
        assertFalse(d.converged());
        // targets: 1 for the last op of every layer, 0 for the others
        int epochs = 0;
        for (int e = 0; e < 5 && !d.converged(); e++, epochs++) {
            if (d.epochPlan(e).architectureSteps()) {
                for (int t = 0; t < 200; t++) {
                    d.observe(e, gradient(d, (l, i) -> i == SPACE.layer(l).candidates().stream().filter(op -> !(op instanceof Op.Identity)).count() - 1
                            ? 1.0 : 0.0), 1);
                }
            }
            d.endEpoch(e);
        }
        assertEquals(2, epochs, "one pre-training epoch, then one search epoch zeroes all but one op per layer");
        assertTrue(d.converged(), Arrays.toString(d.liveCounts()));
        assertFalse(new DsoNasStrategy(SPACE, settings(0.3, "none", false), null).converged());
    }

    @Test
    void restoreContinuesExactly() {
        DsoNasStrategy a = new DsoNasStrategy(SPACE, settings(0.3, "latency", false), latencyCosts());
        descend(a, 2, 37);
        DsoNasStrategy b = new DsoNasStrategy(SPACE, settings(0.3, "latency", false), latencyCosts());
        b.restore(a.state());
        assertEquals(a.state(), b.state());
        for (int e = 2; e < 5; e++) {
            for (int t = 0; t < 25; t++) {
                a.observe(e, gradient(a), 1);
                b.observe(e, gradient(b), 1);
            }
            assertEquals(a.endEpoch(e), b.endEpoch(e));
        }
        assertEquals(a.state(), b.state());
        assertThrows(IllegalArgumentException.class, () -> b.restore("lambda 0 1.0\n"));
    }

    private static double[][] latencyCosts() {
        double[][] cost = new double[SPACE.size()][];
        for (int l = 0; l < SPACE.size(); l++) {
            cost[l] = new double[SPACE.layer(l).candidates().size()];
            for (int i = 0; i < cost[l].length; i++) {
                cost[l][i] = 0.1 * (l + 1) + 0.01 * i;
            }
        }
        return cost;
    }
}
