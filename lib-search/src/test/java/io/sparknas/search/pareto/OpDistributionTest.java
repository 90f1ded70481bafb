package io.sparknas.search.pareto;

import java.util.Arrays;
import io.sparknas.search.EvaluatedArch;
import io.sparknas.search.prune.OperationPruning;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpDistributionTest {

    static final SearchSpace SPACE = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.5, 28, 1, 1, 10, 1));

    static EvaluatedArch arch(double acc, double cost, boolean feasible, int... idx) {
        return new EvaluatedArch(Arch.ofIndices(SPACE, idx), acc, cost, feasible, 0);
    }

    static int[] all(int k) {
        int[] idx = new int[SPACE.size()];
        for (int l = 0; l < idx.length; l++) {
            idx[l] = Math.min(k, SPACE.layer(l).candidates().size() - 1);
        }
        return idx;
    }

    @Test
    void ranksFollowDominance() {
        List<EvaluatedArch> archs = List.of(
                arch(0.9, 10, true, all(0)),   // front
                arch(0.8, 5, true, all(1)),    // front
                arch(0.7, 6, true, all(2)),    // dominated by (0.8, 5): rank 2
                arch(0.6, 7, true, all(3)),    // dominated by rank-2 member: rank 3
                arch(0.95, 1, false, all(4))); // infeasible: after every feasible one
        NondominatedRanks r = NondominatedRanks.of(archs);
        assertEquals(1, r.rank(0));
        assertEquals(1, r.rank(1));
        assertEquals(2, r.rank(2));
        assertEquals(3, r.rank(3));
        assertTrue(r.rank(4) > 3, "infeasible ranked last: " + r.rank(4));
        assertTrue(Double.isInfinite(r.crowding(0)), "front ends have infinite crowding");
    }

    @Test
    void countsOpsOfFeasibleArchitecturesBelowTheRankBound() {
        // a chain of mutually dominated architectures: rank i for the i-th; each uses op index (i % 3) everywhere
        List<EvaluatedArch> archs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            archs.add(arch(0.9 - 0.01 * i, 1 + i, true, all(i % 3)));
        }
        archs.add(arch(0.99, 0.5, false, all(0))); // infeasible: never counted
        NondominatedRanks r = NondominatedRanks.of(archs);
        OpDistribution d = OpDistribution.of(SPACE, archs, r, 10);
        // ranks 1..9 counted: indices 0,1,2 three times each
        assertEquals(9, d.architectures());
        for (int l = 0; l < SPACE.size(); l++) {
            assertEquals(3, d.counts()[l][0]);
            assertEquals(3, d.counts()[l][1]);
            assertEquals(3, d.counts()[l][2]);
            for (int k = 3; k < d.counts()[l].length; k++) {
                assertEquals(0, d.counts()[l][k]);
            }
            assertEquals(1.0 / 3, d.probabilities()[l][0], 1e-12);
            double sum = 0;
            for (double p : d.probabilities()[l]) {
                sum += p;
            }
            assertEquals(1.0, sum, 1e-12);
        }
    }

    @Test
    void pruningDropsRareOpsAndNeverEmptiesALayer() {
        List<EvaluatedArch> archs = new ArrayList<>();
        // 200 front-like archs (equal accuracy and cost: all rank 1): layer 0 uses op 0 in 199 and op 1 in 1 (0.5% <= 1%);
        // the other layers use op 2 everywhere except layer 1, which uses ops 2 and 3 half and half
        for (int i = 0; i < 200; i++) {
            int[] idx = all(2);
            idx[0] = i == 0 ? 1 : 0;
            idx[1] = i % 2 == 0 ? 2 : 3;
            archs.add(arch(0.8, 10, true, idx));
        }
        OpDistribution d = OpDistribution.of(SPACE, archs, NondominatedRanks.of(archs), 10);
        OperationPruning.Result res = OperationPruning.prune(d, 0.01);
        assertEquals(List.of(SPACE.layer(0).candidates().get(0)), res.after().layer(0).candidates());
        assertEquals(List.of(SPACE.layer(1).candidates().get(2), SPACE.layer(1).candidates().get(3)), res.after().layer(1).candidates());
        for (int l = 2; l < SPACE.size(); l++) {
            assertEquals(List.of(SPACE.layer(l).candidates().get(2)), res.after().layer(l).candidates());
        }
        assertTrue(res.after().log10Size() < res.before().log10Size());
        int before = SPACE.layers().stream().mapToInt(l -> l.candidates().size()).sum();
        int after = res.after().layers().stream().mapToInt(l -> l.candidates().size()).sum();
        assertEquals(before - after, res.droppedCount());

        // a layer where every op is at or below the threshold keeps its most frequent op
        double[][] p = new double[SPACE.size()][];
        int[][] c = new int[SPACE.size()][];
        for (int l = 0; l < SPACE.size(); l++) {
            p[l] = new double[SPACE.layer(l).candidates().size()];
            c[l] = new int[p[l].length];
            Arrays.fill(p[l], 1.0 / p[l].length);
        }
        OperationPruning.Result flat = OperationPruning.prune(new OpDistribution(SPACE, c, p, 1), 0.5);
        for (Layer l : flat.after().layers()) {
            assertEquals(1, l.candidates().size(), "one op left at layer " + l.index());
        }
    }

    @Test
    void pruningRejectsBadInput() {
        // each bad input on its own, so each refusal is for the reason named
        List<EvaluatedArch> none = List.of(arch(0.5, 1, false, all(0)));
        OpDistribution empty = OpDistribution.of(SPACE, none, NondominatedRanks.of(none), 10);
        assertArrayEquals(new int[SPACE.layer(0).candidates().size()], empty.counts()[0]);
        IllegalArgumentException noArchs = assertThrows(IllegalArgumentException.class, () -> OperationPruning.prune(empty, 0.01));
        assertTrue(noArchs.getMessage().contains("counted no architecture"), noArchs.getMessage());
        List<EvaluatedArch> one = List.of(arch(0.5, 1, true, all(0)));
        OpDistribution counted = OpDistribution.of(SPACE, one, NondominatedRanks.of(one), 10);
        assertEquals(1, counted.architectures());
        for (double bad : new double[]{1.5, 1.0, -0.1, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OperationPruning.prune(counted, bad));
            assertTrue(e.getMessage().contains("P_th must be in [0, 1)"), bad + ": " + e.getMessage());
        }
        assertEquals(1, OperationPruning.prune(counted, 0.99).after().layer(0).candidates().size(), "a threshold just below 1 is taken");
        IllegalArgumentException rankBound = assertThrows(IllegalArgumentException.class, () -> OpDistribution.of(SPACE, one, NondominatedRanks.of(one), 1));
        assertTrue(rankBound.getMessage().contains("rank bound must be >= 2"), rankBound.getMessage());
    }
}
