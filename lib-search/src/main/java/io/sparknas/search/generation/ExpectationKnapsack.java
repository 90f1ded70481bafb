package io.sparknas.search.generation;

import java.util.Arrays;
import java.util.Optional;

/**
 * DDPNAS efficient network generation (Wang et al., DDPNAS section 3.3, Eq. 9-10): the architecture of highest expectation
 * {@code E[alpha] = 1/|E| sum_l theta_l(alpha_l)} with {@code cost(alpha) = fixed + sum_l cost_l(alpha_l) <= nu}, over the
 * layers' remaining ops: a group knapsack (one item per group = layer) solved by dynamic programming over layers on a
 * discretised budget.
 *
 * <p><b>Feasibility, proof.</b> With {@code B = nu - fixed} and the step {@code d = B / R}, every op's cost is rounded up,
 * {@code q = ceil(c / d)} (checked: {@code q d >= c}). The programme only returns choices with {@code sum q <= R}, so
 * {@code sum c <= sum q d = d sum q <= d R = B}: the returned architecture's true cost never exceeds {@code nu}, whatever
 * {@code R}. (The caller re-checks it with the cost model; {@code ExpectationKnapsackTest} checks it on thousands of random
 * cases.)
 *
 * <p><b>Optimality.</b> Rounding up may exclude an architecture whose true cost fits. So the same programme also runs with
 * costs rounded down, {@code floor(c / d)}: every truly feasible architecture is feasible there ({@code sum floor(c/d) <=
 * sum c / d <= R}), so its optimum {@code U} bounds the true optimum from above. If the rounded-up optimum reaches {@code U},
 * or the rounded-down optimum's own true cost fits, that architecture is the exact optimum of Eq. 10. Otherwise {@code R}
 * grows eightfold (up to {@link #MAX_RESOLUTION}) and the test repeats; a result that is still not proven says so, with the
 * gap to {@code U} (in practice the bound closes at the first or second resolution).
 *
 * <p>Ties (equal expectation) go to the lower true cost, then to the lower op index of the first differing layer, so the
 * answer depends on nothing but the inputs.
 */
public final class ExpectationKnapsack {

    /** Largest number of budget steps tried (memory: layers x (R + 1) bytes of back-pointers). */
    public static final int MAX_RESOLUTION = 1 << 21;

    /**
     * @param choice        per layer, the index of the chosen op in that layer's value / cost arrays
     * @param expectation   {@code E[alpha]} of Eq. 9 (mean over layers of the chosen ops' values)
     * @param cost          true cost, fixed part included
     * @param provenOptimal whether the rounded-down bound proves it the optimum of Eq. 10
     * @param upperBound    an upper bound of the optimum's expectation (equal to {@code expectation} when proven)
     * @param resolution    budget steps R of the last programme
     */
    public record Result(int[] choice, double expectation, double cost, boolean provenOptimal, double upperBound, int resolution) {
    }

    private ExpectationKnapsack() {
    }

    /**
     * @param value      {@code value[l][i]}: theta of op i of layer l; {@code NaN} marks an op that may not be chosen (pruned)
     * @param cost       {@code cost[l][i] >= 0}, same shape
     * @param fixedCost  cost every architecture has (stem, head)
     * @param budget     nu
     * @param resolution first R (budget steps), e.g. 4096
     * @return the best architecture within the budget, or empty when even the cheapest one exceeds it
     */
    public static Optional<Result> solve(double[][] value, double[][] cost, double fixedCost, double budget, int resolution) {
        int layers = value.length;
        if (cost.length != layers || resolution < 1) {
            throw new IllegalArgumentException("value and cost need the same layers, resolution >= 1");
        }
        double min = fixedCost;
        for (int l = 0; l < layers; l++) {
            if (cost[l].length != value[l].length) {
                throw new IllegalArgumentException("layer " + l + ": " + value[l].length + " values, " + cost[l].length + " costs");
            }
            double m = Double.POSITIVE_INFINITY;
            for (int i = 0; i < value[l].length; i++) {
                if (!Double.isNaN(value[l][i])) {
                    if (!(cost[l][i] >= 0) || Double.isInfinite(cost[l][i])) {
                        throw new IllegalArgumentException("layer " + l + " op " + i + ": cost " + cost[l][i]);
                    }
                    m = Math.min(m, cost[l][i]);
                }
            }
            if (m == Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("layer " + l + " has no op that may be chosen");
            }
            min += m;
        }
        if (min > budget) {
            return Optional.empty();
        }
        double room = budget - fixedCost;
        Result best;
        for (int r = resolution; ; r = (int) Math.min(MAX_RESOLUTION, 8L * r)) {
            double step = room / r;
            Result down = program(value, cost, fixedCost, room, r, step, false);
            double bound = down.expectation();
            if (down.cost() - fixedCost <= room) {
                return Optional.of(new Result(down.choice(), down.expectation(), down.cost(), true, bound, r));
            }
            Result up = program(value, cost, fixedCost, room, r, step, true);
            if (up == null) {
                // only architectures at (or within rounding of) the budget fit: a finer step may hold them; at the finest,
                // the cheapest architecture (of highest expectation among the cheapest), which fits since min <= budget
                if (r == MAX_RESOLUTION) {
                    Result c = cheapest(value, cost, fixedCost);
                    return Optional.of(new Result(c.choice(), c.expectation(), c.cost(), false, bound, r));
                }
                continue;
            }
            boolean proven = up.expectation() >= bound - 1e-12 * Math.max(1, Math.abs(bound));
            best = new Result(up.choice(), up.expectation(), up.cost(), proven, bound, r);
            if (proven || r == MAX_RESOLUTION) {
                return Optional.of(best);
            }
        }
    }

    /** Per layer the cheapest op (ties: higher value, then lower index). */
    private static Result cheapest(double[][] value, double[][] cost, double fixedCost) {
        int[] choice = new int[value.length];
        double v = 0;
        double c = fixedCost;
        for (int l = 0; l < value.length; l++) {
            int b = -1;
            for (int i = 0; i < value[l].length; i++) {
                if (!Double.isNaN(value[l][i]) && (b < 0 || cost[l][i] < cost[l][b] || cost[l][i] == cost[l][b] && value[l][i] > value[l][b])) {
                    b = i;
                }
            }
            choice[l] = b;
            v += value[l][b];
            c += cost[l][b];
        }
        return new Result(choice, v / value.length, c, false, Double.NaN, 0);
    }

    /** Largest expectation with sum of rounded costs <= R; null when nothing fits. Ties: lower true cost, then lower op index. */
    private static Result program(double[][] value, double[][] cost, double fixedCost, double room, int r, double step, boolean roundUp) {
        int layers = value.length;
        int[][] q = new int[layers][];
        for (int l = 0; l < layers; l++) {
            q[l] = new int[cost[l].length];
            for (int i = 0; i < q[l].length; i++) {
                if (Double.isNaN(value[l][i])) {
                    q[l][i] = -1;
                    continue;
                }
                double units = step > 0 ? cost[l][i] / step : (cost[l][i] > 0 ? Double.POSITIVE_INFINITY : 0);
                double rounded = roundUp ? Math.ceil(units) : Math.floor(units);
                if (roundUp && step > 0 && rounded * step < cost[l][i]) {
                    rounded += 1;
                }
                q[l][i] = rounded > r ? Integer.MAX_VALUE : (int) rounded;
            }
        }
        // best[b]: the best (value, true cost) of layers 0..l with rounded cost <= b; -inf where nothing fits
        double[] val = new double[r + 1];
        double[] tc = new double[r + 1];
        byte[][] pick = new byte[layers][r + 1];
        double[] nv = new double[r + 1];
        double[] nc = new double[r + 1];
        for (int l = 0; l < layers; l++) {
            Arrays.fill(nv, Double.NEGATIVE_INFINITY);
            Arrays.fill(nc, Double.POSITIVE_INFINITY);
            for (int b = 0; b <= r; b++) {
                for (int i = 0; i < q[l].length; i++) {
                    int qi = q[l][i];
                    if (qi < 0 || qi > b) {
                        continue;
                    }
                    double pv = l == 0 ? 0 : val[b - qi];
                    if (pv == Double.NEGATIVE_INFINITY) {
                        continue;
                    }
                    double v = pv + value[l][i];
                    double c = (l == 0 ? 0 : tc[b - qi]) + cost[l][i];
                    if (v > nv[b] || v == nv[b] && c < nc[b]) {
                        nv[b] = v;
                        nc[b] = c;
                        pick[l][b] = (byte) i;
                    }
                }
            }
            System.arraycopy(nv, 0, val, 0, r + 1);
            System.arraycopy(nc, 0, tc, 0, r + 1);
        }
        if (val[r] == Double.NEGATIVE_INFINITY) {
            return null;
        }
        int[] choice = new int[layers];
        int b = r;
        for (int l = layers - 1; l >= 0; l--) {
            choice[l] = pick[l][b];
            b -= q[l][choice[l]];
        }
        double v = 0;
        double c = fixedCost;
        for (int l = 0; l < layers; l++) {
            v += value[l][choice[l]];
            c += cost[l][choice[l]];
        }
        if (roundUp && c - fixedCost > room) {
            throw new IllegalStateException("ENG: rounded-up programme returned cost " + c + " above the budget " + (room + fixedCost));
        }
        return new Result(choice, v / layers, c, false, Double.NaN, r);
    }
}
