package io.sparknas.search.strategy;

import org.nd4j.linalg.api.buffer.DataType;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.step.StepResult;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaNasStrategyTest {

    /** shuffle-mobile, 12 candidates per layer, one layer per stage (7 layers), 10 classes. */
    static final SearchSpace SPACE = SearchSpaces.build(new SearchSpaces.Options("shuffle-mobile", 0.25, 28, 1, 1, 10, 1));

    static DaNasStrategy.Settings settings(String schedule, boolean prune, double beta, double gamma) {
        return new DaNasStrategy.Settings(schedule, List.of(0.2, 0.4, 0.7, 1.0), 2, 3, 0.4, prune, 1.0,
                new CostAwareLoss(beta, gamma), "adam", 0.1, 0.0, 0.999, true);
    }

    static double[][] costs(SearchSpace space, long seed) {
        Random r = new Random(seed);
        double[][] c = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            c[l] = new double[space.layer(l).candidates().size()];
            for (int i = 0; i < c[l].length; i++) {
                c[l][i] = space.layer(l).candidates().get(i) instanceof Op.Identity ? 0 : 0.1 + r.nextDouble();
            }
        }
        return c;
    }

    static final int[] EASY_FIRST = {7, 1, 5, 9, 0, 3, 2, 8, 6, 4};

    static DaNasStrategy strategy(String schedule, boolean prune) {
        return new DaNasStrategy(SPACE, settings(schedule, prune, 3.0, 0.6), EASY_FIRST, costs(SPACE, 1), 0.5);
    }

    /** A smooth stand-in for L_cls(p): sum_l sum_i q_li p_li^2 + 0.3 sum_l p_l0, with its gradient. */
    static double fakeLoss(double[][] p, double[][] q) {
        double s = 0;
        for (int l = 0; l < p.length; l++) {
            for (int i = 0; i < p[l].length; i++) {
                s += q[l][i] * p[l][i] * p[l][i] + (i == 0 ? 0.3 * p[l][i] : 0);
            }
        }
        return 1 + s;
    }

    static double[][] fakeLossGradient(double[][] p, double[][] q) {
        double[][] g = new double[p.length][];
        for (int l = 0; l < p.length; l++) {
            g[l] = new double[p[l].length];
            for (int i = 0; i < p[l].length; i++) {
                g[l][i] = 2 * q[l][i] * p[l][i] + (i == 0 ? 0.3 : 0);
            }
        }
        return g;
    }

    @Test
    void logitGradientThroughGumbelSoftmaxAndCostFactorEqualsFiniteDifferences() {
        Random r = new Random(4);
        int layers = 3;
        double[][] a = new double[layers][];
        double[][] cost = new double[layers][];
        double[][] q = new double[layers][];
        List<List<Op>> ops = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            int n = 2 + l;
            a[l] = r.doubles(n, -1, 1).toArray();
            cost[l] = r.doubles(n, 0.2, 2).toArray();
            q[l] = r.doubles(n, 0, 1).toArray();
            ops.add(SPACE.layer(l).candidates().subList(0, n));
        }
        CostAwareLoss loss = new CostAwareLoss(2.5, 0.6);
        double fixed = 0.4;
        double tau = 0.7;
        DaNasStrategy.GumbelPlan plan = new DaNasStrategy.GumbelPlan(Arch.multi(ops), a, cost, fixed, tau, loss);
        StepPlan step = plan.step(0, 0, new Random(99));
        double[][] p = step.weights();
        double[][] g = plan.parameterGradient(step, new StepResult(fakeLoss(p, q), 0, 1, fakeLossGradient(p, q)));
        double h = 1e-6;
        double worst = 0;
        for (int l = 0; l < layers; l++) {
            for (int i = 0; i < a[l].length; i++) {
                double[][] plus = copy(a);
                double[][] minus = copy(a);
                plus[l][i] += h;
                minus[l][i] -= h;
                double fd = (total(plus, cost, fixed, tau, loss, q) - total(minus, cost, fixed, tau, loss, q)) / (2 * h);
                worst = Math.max(worst, Math.abs(fd - g[l][i]));
                assertEquals(fd, g[l][i], 1e-6, "dL/da at layer " + l + " op " + i);
            }
        }
        assertTrue(worst > 0 || Arrays.stream(g).flatMapToDouble(Arrays::stream).anyMatch(v -> v != 0), "the gradient is not all zero");
    }

    /** L(a) = L_cls(p) * F(C(p)) with p the Gumbel-softmax sample of a under the same noise (the same seeded generator). */
    private static double total(double[][] a, double[][] cost, double fixed, double tau, CostAwareLoss loss, double[][] q) {
        DaNasStrategy.GumbelPlan plan = new DaNasStrategy.GumbelPlan(null, a, cost, fixed, tau, loss);
        double[][] p = plan.step(0, 0, new Random(99)).weights();
        return fakeLoss(p, q) * loss.factor(plan.expectedCost(p));
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /**
     * Eq. 10's strength does not depend on the cost's unit: the factor is a function of C / beta, the same for MFLOPs and
     * FLOPs, and at beta = 300 it is ProxylessNAS's mul#log factor (ln C / ln 300)^gamma.
     */
    @Test
    void costFactorDependsOnlyOnTheRatioToTheTargetAndIsProxylessNasAtItsReference() {
        CostAwareLoss mflops = new CostAwareLoss(3.0, 0.6);
        CostAwareLoss flops = new CostAwareLoss(3.0e6, 0.6);
        for (double c : new double[]{1.5, 2.9, 3.0, 4.2, 9.0}) {
            assertEquals(mflops.factor(c), flops.factor(c * 1e6), 1e-12, "factor at " + c + " MFLOPs");
            assertEquals(mflops.factorDerivative(c), flops.factorDerivative(c * 1e6) * 1e6, 1e-9, "dF/dC at " + c + " MFLOPs");
            double h = 1e-6;
            assertEquals((mflops.factor(c + h) - mflops.factor(c - h)) / (2 * h), mflops.factorDerivative(c), 1e-6, "dF/dC by finite differences");
        }
        CostAwareLoss proxyless = new CostAwareLoss(300, 0.6);
        assertEquals(Math.pow(Math.log(360) / Math.log(300), 0.6), proxyless.factor(360), 1e-12);
        // 20% over the target costs the same whatever the target: 1.0190 at gamma 0.6
        assertEquals(proxyless.factor(360), mflops.factor(3.6), 1e-12);
        assertEquals(1.0190, mflops.factor(3.6), 1e-4);
    }

    /**
     * The gradient's two extra rows are the L1 norms of its classification and cost parts, which add up to it; when every
     * candidate of a layer gives the same dL_cls/dp (aligned initialisation: every candidate the same function), the
     * classification part is exactly 0. The strategy reports the share and how far the logits moved since the step began.
     */
    @Test
    void theGradientSplitsIntoClassificationAndCostPartsAndTheEpochReportsTheirShareAndTheLogitMovement() {
        Random r = new Random(5);
        int layers = 2;
        double[][] a = {r.doubles(3, -1, 1).toArray(), r.doubles(4, -1, 1).toArray()};
        double[][] cost = {{0.3, 0.6, 0.9}, {0.2, 0.4, 0.8, 1.6}};
        List<List<Op>> ops = List.of(SPACE.layer(0).candidates().subList(0, 3), SPACE.layer(1).candidates().subList(0, 4));
        DaNasStrategy.GumbelPlan plan = new DaNasStrategy.GumbelPlan(Arch.multi(ops), a, cost, 0.5, 1.0, new CostAwareLoss(2.0, 0.6));
        StepPlan step = plan.step(0, 0, new Random(3));
        double[][] equal = {{0.7, 0.7, 0.7}, {-0.2, -0.2, -0.2, -0.2}};
        double[][] g = plan.parameterGradient(step, new StepResult(1.3, 0, 1, equal));
        assertEquals(layers + 2, g.length);
        for (int l = 0; l < layers; l++) {
            assertEquals(0, g[layers][l], 1e-15, "equal dL_cls/dp: no classification part at layer " + l);
            assertEquals(Arrays.stream(g[l]).map(Math::abs).sum(), g[layers + 1][l], 1e-12, "the cost part is all of it");
            assertTrue(g[layers + 1][l] > 0);
        }
        double[][] q = {{0.1, 0.9, 0.4}, {0.3, 0.2, 0.8, 0.5}};
        g = plan.parameterGradient(step, new StepResult(1.3, 0, 1, q));
        for (int l = 0; l < layers; l++) {
            assertTrue(g[layers][l] > 0, "different dL_cls/dp: a classification part");
            assertTrue(Arrays.stream(g[l]).map(Math::abs).sum() <= g[layers][l] + g[layers + 1][l] + 1e-12, "triangle inequality");
        }

        DaNasStrategy s = strategy("easy-first", true);
        for (int e = 0; e < 2; e++) {
            assertTrue(s.endEpoch(e).stream().noneMatch(p -> p.kind().equals("classification-share")), "warm-up: no logit steps");
        }
        double[][] before = s.logits();
        double[][] grad = new double[SPACE.size() + 2][];
        for (int l = 0; l < SPACE.size(); l++) {
            grad[l] = new double[SPACE.layer(l).candidates().size()];
            grad[l][0] = 1;
        }
        grad[SPACE.size()] = new double[SPACE.size()];
        grad[SPACE.size() + 1] = new double[SPACE.size()];
        Arrays.fill(grad[SPACE.size()], 1);
        Arrays.fill(grad[SPACE.size() + 1], 3);
        s.observe(2, grad, 1);
        s.observe(2, grad, 1);
        assertEquals(0.25, s.classificationShare(), 1e-12);
        double moved = before[0][0] - s.logits()[0][0];
        assertTrue(moved > 0.1, "two Adam steps at rate 0.1 against a positive gradient: " + moved);
        assertEquals(moved, s.logitMovement(), 1e-12);
        List<TrainingStrategy.ArchParam> rows = s.endEpoch(2);
        assertEquals(SPACE.size(), rows.stream().filter(p -> p.kind().equals("classification-share") && p.value() == 0.25).count());
        assertTrue(rows.stream().anyMatch(p -> p.kind().equals("logit-movement") && p.layer() == 0 && Math.abs(p.value() + moved) < 1e-12));
        assertTrue(s.epochSummary().startsWith("2 logit updates, classification share of |dL/da| 0.250"), s.epochSummary());
        assertTrue(Double.isNaN(s.classificationShare()), "the next epoch starts from zero");
    }

    @Test
    void costFactorIsOneAtTheTargetAndGrowsWithCost() {
        CostAwareLoss loss = new CostAwareLoss(3.0, 0.6);
        assertEquals(1.0, loss.factor(3.0), 1e-12);
        assertTrue(loss.factor(6.0) > 1 && loss.factor(1.5) < 1 && loss.factor(1.5) > 0);
        assertTrue(loss.factorDerivative(3.0) > 0);
        assertEquals(1.0, new CostAwareLoss(3.0, 0).factor(100), 0);
    }

    @Test
    void scheduleFeedsTheEasiestClassesOfEachStepAndArchitectureStepsAfterTheWarmUp() {
        DaNasStrategy s = strategy("easy-first", true);
        assertEquals(2 + 3 * 3, s.epochs());
        // 10 classes, delta = 0.2 / 0.4 / 0.7 / 1.0 -> 2, 4, 7, 10 classes
        for (int e = 0; e < s.epochs(); e++) {
            TrainingStrategy.EpochPlan p = s.epochPlan(e);
            assertEquals(e >= 2, p.architectureSteps(), "epoch " + e);
            assertTrue(p.interleaved(), "a logit update per architecture minibatch, alternating with the weight rounds");
            assertEquals("val", p.architectureSplit());
            int n = e < 2 ? 2 : e < 5 ? 4 : e < 8 ? 7 : 10;
            assertEquals(n, p.classes().length, "epoch " + e);
            int[] want = Arrays.copyOf(EASY_FIRST, n);
            Arrays.sort(want);
            assertArrayEquals(want, p.classes(), "epoch " + e);
        }
        assertArrayEquals(new int[]{4, 6}, strategy("hard-first", true).epochPlan(0).classes());
        assertEquals(10, strategy("all", true).epochPlan(0).classes().length);
    }

    @Test
    void pruningDropsRoundPiOfTheLiveCandidatesWithTheLowestLogitsAndNeverEmptiesALayer() {
        DaNasStrategy s = strategy("easy-first", true);
        Random r = new Random(8);
        int[] liveAfterStep = {12 - 5, 7 - 3, 4 - 2};
        int e = 0;
        for (int step = 1; step <= 3; step++) {
            for (int k = 0; k < (step == 1 ? 2 + 3 : 3); k++, e++) {
                SearchSpace before = s.space();
                double[][] g = new double[SPACE.size()][];
                for (int l = 0; l < SPACE.size(); l++) {
                    g[l] = r.doubles(before.layer(l).candidates().size(), -1, 1).toArray();
                }
                if (s.epochPlan(e).architectureSteps()) {
                    s.observe(e, g, 4);
                }
                double[][] logits = s.logits();
                s.endEpoch(e);
                SearchSpace after = s.space();
                boolean stepEnd = e == 4 || e == 7 || e == 10;
                for (int l = 0; l < SPACE.size(); l++) {
                    int n = after.layer(l).candidates().size();
                    assertEquals(stepEnd ? liveAfterStep[step - 1] : before.layer(l).candidates().size(), n, "epoch " + e + " layer " + l);
                    // every survivor's logit is at least every pruned op's
                    double minLive = Double.POSITIVE_INFINITY;
                    for (Op op : after.layer(l).candidates()) {
                        minLive = Math.min(minLive, logits[l][SPACE.layer(l).candidates().indexOf(op)]);
                    }
                    for (Op op : before.layer(l).candidates()) {
                        if (!after.layer(l).candidates().contains(op)) {
                            assertTrue(logits[l][SPACE.layer(l).candidates().indexOf(op)] <= minLive);
                        }
                    }
                }
            }
        }
        assertEquals(0, s.dropCount(1));
        assertEquals(1, s.dropCount(2));
        Arch best = s.readOff().orElseThrow();
        best.requireIn(s.space());
        assertTrue(best.isSinglePath());
        assertEquals(12, strategy("easy-first", false).space().layer(0).candidates().size());
    }

    @Test
    void readOffTakesTheLiveCandidateOfHighestLogitInEveryLayer() {
        // by hand, on the space's first three layers (the others: decreasing logits, all live -> op 0): layer 0 all live ->
        // op 1 (0.5); layer 1 op 2 pruned, ops 0 and 1 tie at 0.3 -> the first, op 0; layer 2 only its last op live, the
        // lowest logit of all -> that op
        double[][] logits = new double[SPACE.size()][];
        boolean[][] live = new boolean[SPACE.size()][];
        for (int layer = 0; layer < SPACE.size(); layer++) {
            int n = SPACE.layer(layer).candidates().size();
            logits[layer] = new double[n];
            live[layer] = new boolean[n];
            for (int i = 0; i < n; i++) {
                logits[layer][i] = -0.1 * i;
                live[layer][i] = true;
            }
        }
        logits[0][0] = 0.1;
        logits[0][1] = 0.5;
        logits[0][2] = -0.2;
        logits[1][0] = 0.3;
        logits[1][1] = 0.3;
        logits[1][2] = 0.9;
        live[1][2] = false;
        Arrays.fill(live[2], false);
        int last = live[2].length - 1;
        live[2][last] = true;
        logits[2][last] = -5;
        Arch a = DaNasStrategy.argmax(SPACE, logits, live);
        assertEquals(SPACE.layer(0).candidates().get(1), a.op(0));
        assertEquals(SPACE.layer(1).candidates().get(0), a.op(1));
        assertEquals(SPACE.layer(2).candidates().get(last), a.op(2));
        for (int layer = 3; layer < SPACE.size(); layer++) {
            assertEquals(SPACE.layer(layer).candidates().get(0), a.op(layer));
        }

        // a whole search without pruning: every layer keeps all its candidates, and the read-off is each layer's argmax
        DaNasStrategy s = strategy("easy-first", false);
        Random r = new Random(21);
        for (int e = 0; e < 5; e++) {
            drive(s, e, r);
        }
        double[][] l = s.logits();
        Arch best = s.readOff().orElseThrow();
        int notFirst = 0;
        for (int layer = 0; layer < SPACE.size(); layer++) {
            List<Op> cands = SPACE.layer(layer).candidates();
            assertTrue(s.space().layer(layer).candidates().size() >= 2, "layer " + layer + " keeps several live candidates");
            int want = 0;
            for (int i = 1; i < cands.size(); i++) {
                want = l[layer][i] > l[layer][want] ? i : want;
            }
            assertEquals(cands.get(want), best.op(layer), "layer " + layer + ": the live candidate of highest logit");
            notFirst += want != 0 ? 1 : 0;
        }
        assertTrue(notFirst >= 3, "the logits moved apart: " + notFirst + " layers pick another than their first op");
    }

    @Test
    void restoredStateContinuesExactly() {
        DaNasStrategy a = strategy("easy-first", true);
        Random r = new Random(2);
        for (int e = 0; e < 6; e++) {
            drive(a, e, r);
        }
        DaNasStrategy b = strategy("easy-first", true);
        b.restore(a.state());
        assertEquals(a.state(), b.state());
        Random ra = new Random(5);
        Random rb = new Random(5);
        for (int e = 6; e < a.epochs(); e++) {
            drive(a, e, ra);
            drive(b, e, rb);
        }
        assertEquals(a.state(), b.state());
        assertEquals(a.readOff(), b.readOff());
        assertNotEquals(strategy("easy-first", true).state(), a.state());
    }

    private static void drive(DaNasStrategy s, int e, Random r) {
        if (s.epochPlan(e).architectureSteps()) {
            double[][] g = new double[SPACE.size() + 2][];
            for (int l = 0; l < SPACE.size(); l++) {
                g[l] = r.doubles(s.space().layer(l).candidates().size(), -1, 1).toArray();
            }
            g[SPACE.size()] = r.doubles(SPACE.size(), 0, 1).toArray();
            g[SPACE.size() + 1] = r.doubles(SPACE.size(), 0, 1).toArray();
            s.observe(e, g, 3);
        }
        s.endEpoch(e);
    }

    @Test
    void withOneLogitFarAboveTheOthersTheWeightedStepEqualsThatSinglePath() {
        SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("shuffle-mobile", 0.25, 28, 1, 1, 10, 1));
        OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 4e-5, "cosine", 1000, 0, 0.0);
        int[] chosen = new int[space.size()];
        double[][] a = new double[space.size()][];
        double[][] cost = costs(space, 3);
        List<List<Op>> all = new ArrayList<>();
        Random r = new Random(6);
        for (int l = 0; l < space.size(); l++) {
            int n = space.layer(l).candidates().size();
            chosen[l] = r.nextInt(n);
            a[l] = new double[n];
            a[l][chosen[l]] = 60;
            all.add(space.layer(l).candidates());
        }
        DaNasStrategy.GumbelPlan plan = new DaNasStrategy.GumbelPlan(Arch.multi(all), a, cost, 0.5, 1.0, new CostAwareLoss(3, 0.6));
        StepPlan step = plan.step(0, 0, new Random(1));
        Nd4j.getRandom().setSeed(12);
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 1, 28, 28);
        int[] y = r.ints(16, 0, 10).toArray();
        Supernet weighted = new Supernet(space, opt, 3);
        Supernet single = new Supernet(space, opt, 3);
        Arch path = Arch.ofIndices(space, chosen);
        StepResult w = weighted.weightedTrainStep(step.arch(), step.weights(), x, y, 0, 0);
        StepResult p = single.trainStep(path, x, y, 0, 0);
        assertEquals(p.loss(), w.loss(), 1e-5);
        assertEquals(p.correct(), w.correct());
        // after the step, the chosen path's parameters agree
        SupernetState sw = SupernetState.capture(weighted, weighted.partKeys(path));
        SupernetState ss = SupernetState.capture(single, single.partKeys(path));
        double worst = 0;
        for (String k : ss.params().keySet()) {
            float[] u = ss.params().get(k);
            float[] v = sw.params().get(k);
            for (int i = 0; i < u.length; i++) {
                worst = Math.max(worst, Math.abs(u[i] - v[i]));
            }
        }
        assertTrue(worst < 1e-5, "weighted vs single-path parameters after one step: max difference " + worst);
    }
}
