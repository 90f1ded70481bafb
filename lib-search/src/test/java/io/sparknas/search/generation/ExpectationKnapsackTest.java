package io.sparknas.search.generation;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExpectationKnapsackTest {

    /** Best expectation by enumeration with cost <= budget in whole quanta (the definition); -inf when nothing fits. */
    static double brute(double[][] v, double[][] c, double fixed, double budget) {
        return brute(v, c, fixed, budget, ExpectationKnapsack.DEFAULT_QUANTUM);
    }

    static double brute(double[][] v, double[][] c, double fixed, double budget, double quantum) {
        long[][] u = new long[c.length][];
        for (int l = 0; l < c.length; l++) {
            u[l] = new long[c[l].length];
            for (int i = 0; i < c[l].length; i++) {
                u[l][i] = ExpectationKnapsack.units(c[l][i], quantum);
            }
        }
        return brute(v, u, 0, ExpectationKnapsack.units(fixed, quantum), 0, ExpectationKnapsack.boundUnits(budget, quantum));
    }

    private static double brute(double[][] v, long[][] c, int l, long cost, double val, long budget) {
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
                assertTrue(ExpectationKnapsack.fits(c, fixed, g.choice(), budget, ExpectationKnapsack.DEFAULT_QUANTUM),
                        "cost " + cost + " exceeds the bound " + budget);
                assertEquals(cost, g.cost(), 1e-8);
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
    void aBudgetAtAnExactDecimalSumIsMetExactlyWhateverTheFloatingPointSum() {
        // 0.1 + 0.2 + 0.3 = 0.6000000000000001 in floating point, exactly 0.6 in whole quanta: a bound of 0.6 admits it
        double[][] v = {{1, 0}, {1, 0}, {1, 0}};
        double[][] c = {{0.1, 0}, {0.2, 0}, {0.3, 0}};
        ExpectationKnapsack.Result at = ExpectationKnapsack.solve(v, c, 0, 0.6, 16).orElseThrow();
        assertEquals(1.0, at.expectation(), 1e-12);
        assertTrue(at.provenOptimal());
        assertEquals(600_000_000L, at.costUnits());
        // one quantum less and the dearest layer must go
        ExpectationKnapsack.Result below = ExpectationKnapsack.solve(v, c, 0, 0.599999999, 16).orElseThrow();
        assertEquals(2.0 / 3, below.expectation(), 1e-12);
        assertEquals(brute(v, c, 0, 0.599999999), below.expectation(), 1e-12);
    }

    @Test
    void aFloatSumOneUlpAboveTheBoundNoLongerCrashesAtAnyResolution() {
        // found in review: fixed 0.1 + 0.2 + 0.3 + 0.3 = 0.9000000000000001 > 0.9 in floating point; the discretised check let
        // it through and the final guard threw ("returned cost 0.9000000000000001 above the budget 0.9") at every resolution
        double[][] v = {{.66, .437}, {.350}, {.071, .908}};
        double[][] c = {{.7, .2}, {.3}, {0, .3}};
        for (int res = 4; res <= 4096; res *= 2) {
            ExpectationKnapsack.Result r = ExpectationKnapsack.solve(v, c, .1, .9, res).orElseThrow();
            // by hand: {.2, .3, .3} + .1 = .9 fits (value .437 + .350 + .908); {.7, .3, *} + .1 >= 1.1 does not
            assertEquals(List.of(1, 0, 1), Arrays.stream(r.choice()).boxed().toList(), "resolution " + res);
            assertEquals((.437 + .350 + .908) / 3, r.expectation(), 1e-12);
            assertEquals(900_000_000L, r.costUnits());
            assertTrue(r.provenOptimal());
            assertTrue(ExpectationKnapsack.fits(c, .1, r.choice(), .9, ExpectationKnapsack.DEFAULT_QUANTUM));
        }
        // one quantum below the bound the same architecture no longer fits, and the next best ({.2, .3, 0}) is returned
        ExpectationKnapsack.Result r = ExpectationKnapsack.solve(v, c, .1, .899999999, 64).orElseThrow();
        assertEquals(List.of(1, 0, 0), Arrays.stream(r.choice()).boxed().toList());
    }

    @Test
    void integerFlopsAndRoundBoundsLikeTheCostModelsNeverCrashAndMatchBruteForce() {
        // costs of whole multiply-adds in millions (FlopsCostModel: quantum 1e-6), bounds of round numbers and bounds at an
        // architecture's exact sum: the float sum of such costs is often a few ulps off the bound either way
        Random r = new Random(11);
        int atBound = 0;
        for (int t = 0; t < 300; t++) {
            int layers = 1 + r.nextInt(6);
            double[][] v = new double[layers][];
            double[][] c = new double[layers][];
            long[] pick = new long[layers];
            for (int l = 0; l < layers; l++) {
                int n = 1 + r.nextInt(4);
                v[l] = new double[n];
                c[l] = new double[n];
                for (int i = 0; i < n; i++) {
                    v[l][i] = r.nextInt(4) == 0 ? 0.25 : r.nextDouble();
                    c[l][i] = r.nextInt(5) == 0 ? 0 : (100_000 + r.nextInt(2_000_000)) / 1e6;
                }
                pick[l] = r.nextInt(n);
            }
            double fixed = r.nextInt(1_000_000) / 1e6;
            long exact = Math.round(fixed * 1e6);
            for (int l = 0; l < layers; l++) {
                exact += Math.round(c[l][(int) pick[l]] * 1e6);
            }
            double[] bounds = {Math.round(exact / 1e5) / 10.0, Math.floor(exact / 1e5) / 10.0, Math.ceil(exact / 1e5) / 10.0, exact / 1e6,
                    (exact - 1) / 1e6, 6.5, 8.0, 10.0};
            for (double bound : bounds) {
                Optional<ExpectationKnapsack.Result> got = ExpectationKnapsack.solve(v, c, fixed, bound, 16 << r.nextInt(6), 1e-6);
                double want = brute(v, c, fixed, bound, 1e-6);
                if (want == Double.NEGATIVE_INFINITY) {
                    assertTrue(got.isEmpty(), "nothing fits " + bound);
                    continue;
                }
                ExpectationKnapsack.Result g = got.orElseThrow();
                assertTrue(ExpectationKnapsack.fits(c, fixed, g.choice(), bound, 1e-6), g.cost() + " above " + bound);
                assertTrue(g.costUnits() <= Math.round(bound * 1e6), g.costUnits() + " quanta above " + bound);
                if (g.provenOptimal()) {
                    assertEquals(want, g.expectation(), 1e-12);
                }
                atBound += g.costUnits() == Math.round(bound * 1e6) ? 1 : 0;
            }
        }
        assertTrue(atBound >= 100, "the bound was met exactly in " + atBound + " cases (the boundary is what is tested)");
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
