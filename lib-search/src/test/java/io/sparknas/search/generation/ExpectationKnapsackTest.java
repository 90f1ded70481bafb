package io.sparknas.search.generation;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpectationKnapsackTest {

    /** Best expectation by enumeration with true cost <= budget; -inf when nothing fits. */
    static double brute(double[][] v, double[][] c, double fixed, double budget) {
        return brute(v, c, 0, fixed, 0, budget);
    }

    private static double brute(double[][] v, double[][] c, int l, double cost, double val, double budget) {
        if (cost > budget) {
            return Double.NEGATIVE_INFINITY;
        }
        if (l == v.length) {
            return val / v.length;
        }
        double best = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < v[l].length; i++) {
            if (!Double.isNaN(v[l][i])) {
                best = Math.max(best, brute(v, c, l + 1, cost + c[l][i], val + v[l][i], budget));
            }
        }
        return best;
    }

    static double trueCost(double[][] c, double fixed, int[] choice) {
        double s = fixed;
        for (int l = 0; l < c.length; l++) {
            s += c[l][choice[l]];
        }
        return s;
    }

    @Test
    void matchesBruteForceAndNeverExceedsTheBound() {
        Random r = new Random(7);
        int cases = 0;
        int proven = 0;
        int feasible = 0;
        for (int t = 0; t < 400; t++) {
            int layers = 1 + r.nextInt(6);
            double[][] v = new double[layers][];
            double[][] c = new double[layers][];
            for (int l = 0; l < layers; l++) {
                int n = 1 + r.nextInt(4);
                v[l] = new double[n];
                c[l] = new double[n];
                for (int i = 0; i < n; i++) {
                    v[l][i] = r.nextDouble();
                    // identity-like zero costs, repeated costs and irrational-looking ones
                    c[l][i] = r.nextInt(5) == 0 ? 0 : r.nextInt(3) == 0 ? 1.0 : Math.sqrt(2 + r.nextDouble() * 10);
                }
                if (n > 1 && r.nextInt(3) == 0) {
                    v[l][r.nextInt(n)] = Double.NaN;
                }
            }
            double fixed = r.nextDouble();
            double maxCost = fixed;
            double minCost = fixed;
            for (int l = 0; l < layers; l++) {
                double mx = 0;
                double mn = Double.POSITIVE_INFINITY;
                for (int i = 0; i < v[l].length; i++) {
                    if (!Double.isNaN(v[l][i])) {
                        mx = Math.max(mx, c[l][i]);
                        mn = Math.min(mn, c[l][i]);
                    }
                }
                maxCost += mx;
                minCost += mn;
            }
            for (int k = 0; k < 10; k++) {
                // budgets below the cheapest, between, at exact sums of costs (boundary cases), above the dearest
                double budget = k == 0 ? minCost - 0.01 : k == 1 ? minCost : k == 2 ? maxCost + 1 : minCost + r.nextDouble() * (maxCost - minCost);
                int res = 16 << r.nextInt(4);
                Optional<ExpectationKnapsack.Result> got = ExpectationKnapsack.solve(v, c, fixed, budget, res);
                double want = brute(v, c, fixed, budget);
                cases++;
                if (want == Double.NEGATIVE_INFINITY) {
                    assertTrue(got.isEmpty(), "nothing fits budget " + budget + " but got " + got);
                    continue;
                }
                feasible++;
                assertTrue(got.isPresent(), "case " + t + "/" + k + ": an architecture fits budget " + budget);
                ExpectationKnapsack.Result g = got.get();
                double cost = trueCost(c, fixed, g.choice());
                assertTrue(cost <= budget, "true cost " + cost + " exceeds the bound " + budget);
                assertEquals(cost, g.cost(), 1e-9);
                for (int l = 0; l < layers; l++) {
                    assertFalse(Double.isNaN(v[l][g.choice()[l]]), "a pruned op was chosen");
                }
                assertTrue(g.expectation() <= want + 1e-9, "above the optimum?");
                assertTrue(g.upperBound() >= want - 1e-9, "the bound " + g.upperBound() + " is below the optimum " + want);
                if (g.provenOptimal()) {
                    proven++;
                    assertEquals(want, g.expectation(), 1e-9, "case " + t + "/" + k + " claims optimality");
                }
            }
        }
        // the bound closes almost always (an unproven result still never exceeds its bound and states its gap)
        assertTrue(proven >= 0.95 * feasible, proven + " of " + feasible + " feasible cases proven optimal");
    }

    @Test
    void aTightBudgetAtAnExactSumIsMetExactly() {
        // costs 0.1 + 0.2 + 0.3 = 0.6000000000000001 in floating point: a bound of 0.6 must not admit it, 0.61 must
        double[][] v = {{1, 0}, {1, 0}, {1, 0}};
        double[][] c = {{0.1, 0}, {0.2, 0}, {0.3, 0}};
        ExpectationKnapsack.Result at = ExpectationKnapsack.solve(v, c, 0, 0.61, 16).orElseThrow();
        assertEquals(1.0, at.expectation(), 1e-12);
        assertTrue(at.provenOptimal());
        ExpectationKnapsack.Result below = ExpectationKnapsack.solve(v, c, 0, 0.6, 16).orElseThrow();
        assertTrue(trueCost(c, 0, below.choice()) <= 0.6);
        assertEquals(brute(v, c, 0, 0.6), below.expectation(), 1e-12);
    }

    @Test
    void constraintsParseOrAreRefused() {
        assertEquals(new CostConstraint("flops", 6.5), CostConstraint.parse("flops <= 6.5"));
        assertEquals(new CostConstraint("latency", 80), CostConstraint.parse(" latency<=80 "));
        assertEquals(null, CostConstraint.parse("flops < 6.5"));
        assertEquals(null, CostConstraint.parse("energy <= 3"));
        assertEquals(null, CostConstraint.parse("params <= 0"));
        assertEquals("flops <= 100", CostConstraint.parse("flops <= 100.0").toString());
        assertEquals("params <= 0.12", CostConstraint.parse("params<=0.12").toString());
    }
}
