package io.sparknas.search.evolution;

import java.util.Arrays;
import io.sparknas.search.ArchEvaluator;
import io.sparknas.search.EvaluatedArch;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConstrainedNsga2Test {

    /** MobileNetV2 basic space, one layer per stage: 7 layers of 6-7 candidates (about 10^5.7 architectures). */
    static final SearchSpace SPACE = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.5, 28, 1, 1, 10, 1));
    static final FlopsCostModel FLOPS = new FlopsCostModel();

    /**
     * An additive, conflicting bi-objective problem on the real space: each op scores log(1 + its MFLOPs) times a per-layer
     * weight plus a fixed per-(layer, op) perturbation, so more compute buys accuracy with diminishing returns, unevenly.
     */
    static final class AnalyticEvaluator implements ArchEvaluator {
        final double[][] score;
        final double total;
        final Map<String, Integer> calls = new HashMap<>();
        int batches;

        AnalyticEvaluator(long seed) {
            Random r = new Random(seed);
            score = new double[SPACE.size()][];
            double t = 0;
            for (int l = 0; l < SPACE.size(); l++) {
                List<Op> c = SPACE.layer(l).candidates();
                score[l] = new double[c.size()];
                double w = 0.5 + r.nextDouble();
                double max = 0;
                for (int k = 0; k < c.size(); k++) {
                    score[l][k] = w * Math.log1p(FLOPS.opCost(SPACE, l, c.get(k))) + 0.3 * r.nextDouble();
                    max = Math.max(max, score[l][k]);
                }
                t += max;
            }
            total = t;
        }

        double value(int[] idx) {
            double s = 0;
            for (int l = 0; l < idx.length; l++) {
                s += score[l][idx[l]];
            }
            return 0.2 + 0.7 * s / total;
        }

        @Override
        public double[] accuracy(List<Arch> archs) {
            batches++;
            double[] out = new double[archs.size()];
            for (int i = 0; i < out.length; i++) {
                calls.merge(archs.get(i).id(), 1, Integer::sum);
                out[i] = value(archs.get(i).indices(SPACE));
            }
            return out;
        }
    }

    /** The exact Pareto front (accuracy, cost) of the analytic problem within [min, max], by enumerating the space. */
    static List<double[]> trueFront(AnalyticEvaluator ev, double min, double max) {
        List<double[]> pts = new ArrayList<>();
        int[] idx = new int[SPACE.size()];
        while (true) {
            Arch a = Arch.ofIndices(SPACE, idx);
            double c = FLOPS.cost(SPACE, a);
            if (c >= min && c <= max) {
                pts.add(new double[]{ev.value(idx), c});
            }
            int l = 0;
            while (l < idx.length && ++idx[l] == SPACE.layer(l).candidates().size()) {
                idx[l++] = 0;
            }
            if (l == idx.length) {
                break;
            }
        }
        pts.sort((p, q) -> p[1] != q[1] ? Double.compare(p[1], q[1]) : Double.compare(q[0], p[0]));
        List<double[]> front = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (double[] p : pts) {
            if (p[0] > best) {
                front.add(p);
                best = p[0];
            }
        }
        return front;
    }

    /** 2-D hypervolume of (maximise accuracy, minimise cost) points against the reference (accRef, costRef). */
    static double hypervolume(List<double[]> points, double accRef, double costRef) {
        List<double[]> pts = new ArrayList<>(points);
        pts.sort((p, q) -> Double.compare(p[1], q[1]));
        double hv = 0;
        double bestAcc = accRef;
        for (int i = 0; i < pts.size(); i++) {
            bestAcc = Math.max(bestAcc, pts.get(i)[0]);
            double nextCost = i + 1 < pts.size() ? Math.min(costRef, pts.get(i + 1)[1]) : costRef;
            hv += Math.max(0, nextCost - pts.get(i)[1]) * (bestAcc - accRef);
        }
        return hv;
    }

    static List<double[]> points(List<ConstrainedNsga2.Member> members) {
        List<double[]> out = new ArrayList<>();
        for (ConstrainedNsga2.Member m : members) {
            out.add(new double[]{m.arch().accuracy(), m.arch().cost()});
        }
        return out;
    }

    @Test
    void reachesTheExactParetoFrontOfAnAnalyticProblem() {
        AnalyticEvaluator ev = new AnalyticEvaluator(3);
        ConstrainedNsga2 ces = ConstrainedNsga2.builder(SPACE, FLOPS, ev).seed(11).build();
        ces.run();
        List<double[]> exact = trueFront(ev, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        double accRef = exact.get(0)[0] - 0.01;
        double costRef = exact.get(exact.size() - 1)[1] * 1.01;
        double ratio = hypervolume(points(ces.paretoFront()), accRef, costRef) / hypervolume(exact, accRef, costRef);
        System.out.printf("CES on the analytic problem: hypervolume %.4f of the exact front's, %d evaluations, %d front members (exact %d)%n",
                ratio, ces.evaluations(), ces.paretoFront().size(), exact.size());
        assertTrue(ratio >= 0.98, "hypervolume ratio " + ratio);
        assertTrue(ratio <= 1 + 1e-9, "cannot beat the exact front: " + ratio);
        assertEquals(40, ces.generation());
    }

    @Test
    void neverEvaluatesAnArchitectureTwiceAndBatchesGenerations() {
        AnalyticEvaluator ev = new AnalyticEvaluator(5);
        ConstrainedNsga2 ces = ConstrainedNsga2.builder(SPACE, FLOPS, ev).populationSize(16).generations(10).seed(2).build();
        ces.run();
        assertTrue(ev.calls.values().stream().allMatch(c -> c == 1), "each architecture evaluated once");
        assertEquals(ev.calls.size(), ces.evaluations());
        assertTrue(ev.batches <= 11, "one evaluator call per generation at most: " + ev.batches);
        assertTrue(ces.evaluations() > 16 + 10 * 4, "offspring were new architectures: " + ces.evaluations());
    }

    @Test
    void constraintHoldsForEveryOffspringAndTheFinalFront() {
        AnalyticEvaluator ev = new AnalyticEvaluator(7);
        double lo = FLOPS.cost(SPACE, Arch.ofIndices(SPACE, extremeIndices(-1)));
        double hi = FLOPS.cost(SPACE, Arch.ofIndices(SPACE, extremeIndices(1)));
        double min = lo + 0.35 * (hi - lo);
        double max = lo + 0.55 * (hi - lo);
        ConstrainedNsga2 ces = ConstrainedNsga2.builder(SPACE, FLOPS, ev).populationSize(32).generations(15).costBounds(min, max).seed(4).build();
        ces.run();
        for (EvaluatedArch e : ces.evaluated()) {
            assertTrue(e.feasible() && e.cost() >= min && e.cost() <= max, "evaluated " + e.arch().id() + " at cost " + e.cost());
        }
        assertTrue(!ces.paretoFront().isEmpty());
        for (ConstrainedNsga2.Member m : ces.paretoFront()) {
            assertTrue(m.arch().cost() >= min && m.arch().cost() <= max);
        }
        List<double[]> exact = trueFront(ev, min, max);
        double accRef = exact.get(0)[0] - 0.01;
        double ratio = hypervolume(points(ces.paretoFront()), accRef, max) / hypervolume(exact, accRef, max);
        System.out.printf("CES within [%.2f, %.2f] MFLOPs: hypervolume %.4f of the exact constrained front, %d fallbacks%n", min, max, ratio,
                ces.fallbacks());
        assertTrue(ratio >= 0.9, "constrained hypervolume ratio " + ratio);
    }

    @Test
    void anEmptyFeasibleRegionIsAClearError() {
        double hi = FLOPS.cost(SPACE, Arch.ofIndices(SPACE, extremeIndices(1)));
        ConstrainedNsga2 ces = ConstrainedNsga2.builder(SPACE, FLOPS, new AnalyticEvaluator(1)).populationSize(8).costBounds(hi + 1, hi + 2)
                .maxRetries(20).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ces::step);
        assertTrue(e.getMessage().contains("feasible region looks empty") && e.getMessage().contains("nas.search.cost-max")
                && e.getMessage().contains("mflops"), e.getMessage());
    }

    @Test
    void aNarrowFeasibleRegionStillFillsTheInitialPopulationWithTheDefaultRetries() {
        // a bound that 0.7% of uniform draws meet (the full Fashion-MNIST space under 6.5 MFLOPs: 22 of 3,200): 100 draws
        // per member found about 22 of 32 and failed; the default must fill the population with feasible members
        Random rnd = new Random(7);
        double[] costs = new double[20_000];
        for (int i = 0; i < costs.length; i++) {
            int[] idx = new int[SPACE.size()];
            for (int l = 0; l < idx.length; l++) {
                idx[l] = rnd.nextInt(SPACE.layer(l).candidates().size());
            }
            costs[i] = FLOPS.cost(SPACE, Arch.ofIndices(SPACE, idx));
        }
        Arrays.sort(costs);
        double max = costs[(int) (0.007 * costs.length)];
        ConstrainedNsga2 ces = ConstrainedNsga2.builder(SPACE, FLOPS, new AnalyticEvaluator(1)).populationSize(32).generations(1)
                .costBounds(0, max).seed(3).build();
        ces.step();
        assertEquals(32, ces.population().size());
        for (ConstrainedNsga2.Member m : ces.population()) {
            assertTrue(m.arch().cost() <= max, m.arch().arch().id() + " at " + m.arch().cost() + " > " + max);
        }
    }

    @Test
    void findsTheOptimumOfAToyScore() {
        // a small space (3 candidates per layer, 3^7 architectures); accuracy falls with the distance (in candidate index)
        // from a target architecture, which scores 1: each of 10 runs of the default search (population 64, 40 generations) must
        // end with the target at the front's accurate end
        SearchSpace small = SPACE;
        for (int l = 0; l < SPACE.size(); l++) {
            small = small.withCandidates(l, SPACE.layer(l).candidates().subList(0, 3));
        }
        SearchSpace space = small;
        int[] target = new int[space.size()];
        Random r = new Random(9);
        int worst = 0;
        for (int l = 0; l < target.length; l++) {
            target[l] = r.nextInt(space.layer(l).candidates().size());
            worst += Math.max(target[l], space.layer(l).candidates().size() - 1 - target[l]);
        }
        int norm = worst;
        ArchEvaluator ev = archs -> archs.stream().mapToDouble(a -> {
            int[] idx = a.indices(space);
            int d = 0;
            for (int l = 0; l < idx.length; l++) {
                d += Math.abs(idx[l] - target[l]);
            }
            return 1.0 - (double) d / norm;
        }).toArray();
        int found = 0;
        for (int seed = 0; seed < 10; seed++) {
            ConstrainedNsga2 ces = ConstrainedNsga2.builder(space, FLOPS, ev).seed(seed).build();
            ces.run();
            EvaluatedArch best = ces.paretoFront().stream().map(ConstrainedNsga2.Member::arch)
                    .max((a, b) -> Double.compare(a.accuracy(), b.accuracy())).orElseThrow();
            found += best.arch().id().equals(Arch.ofIndices(space, target).id()) && best.accuracy() == 1.0 ? 1 : 0;
        }
        assertEquals(10, found, "runs that found the optimum");
    }

    @Test
    void aRestoredSearchContinuesExactlyAsOneThatRanThrough() {
        AnalyticEvaluator straightEv = new AnalyticEvaluator(5);
        ConstrainedNsga2 straight = ConstrainedNsga2.builder(SPACE, FLOPS, straightEv).populationSize(16).generations(6).seed(21).build();
        straight.run();

        AnalyticEvaluator ev = new AnalyticEvaluator(5);
        ConstrainedNsga2.Builder b = ConstrainedNsga2.builder(SPACE, FLOPS, ev).populationSize(16).generations(6).seed(21);
        ConstrainedNsga2 first = b.build();
        for (int g = 0; g < 3; g++) {
            first.step();
        }
        ConstrainedNsga2.State state = first.state();
        int batchesBefore = ev.batches;
        ConstrainedNsga2 resumed = b.restore(state);
        assertEquals(batchesBefore, ev.batches, "restoring evaluates nothing");
        assertEquals(2, resumed.generation());
        resumed.run();
        assertEquals(ids(straight), ids(resumed));
        assertEquals(straight.evaluations(), resumed.evaluations());
    }

    @Test
    void frontMembersAreMutuallyNonDominated() {
        ConstrainedNsga2 ces = ConstrainedNsga2.builder(SPACE, FLOPS, new AnalyticEvaluator(13)).populationSize(24).generations(8).seed(3).build();
        ces.run();
        List<ConstrainedNsga2.Member> front = ces.paretoFront();
        Set<String> seen = new HashSet<>();
        for (ConstrainedNsga2.Member a : front) {
            assertTrue(seen.add(a.arch().arch().id()), "no duplicate in the front");
            for (ConstrainedNsga2.Member b : front) {
                boolean dominates = b.arch().accuracy() >= a.arch().accuracy() && b.arch().cost() <= a.arch().cost()
                        && (b.arch().accuracy() > a.arch().accuracy() || b.arch().cost() < a.arch().cost());
                assertTrue(!dominates, b.arch().arch().id() + " dominates " + a.arch().arch().id());
            }
        }
    }

    static List<String> ids(ConstrainedNsga2 ces) {
        return ces.state().population();
    }

    static int[] extremeIndices(int sign) {
        int[] idx = new int[SPACE.size()];
        for (int l = 0; l < idx.length; l++) {
            List<Op> c = SPACE.layer(l).candidates();
            int best = 0;
            for (int k = 1; k < c.size(); k++) {
                if (sign * (FLOPS.opCost(SPACE, l, c.get(k)) - FLOPS.opCost(SPACE, l, c.get(best))) > 0) {
                    best = k;
                }
            }
            idx[l] = best;
        }
        return idx;
    }
}
