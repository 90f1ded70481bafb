package io.sparknas.search.generation;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.Optional;

/**
 * DDPNAS efficient network generation (Zheng et al., DDPNAS section 3.3, Eq. 9-10): the architecture of highest expectation
 * {@code E[alpha] = 1/|E| sum_l theta_l(alpha_l)} with {@code cost(alpha) = fixed + sum_l cost_l(alpha_l) <= nu}, over the
 * layers' remaining ops: a group knapsack (one item per group = layer) solved by dynamic programming over layers on a
 * discretised budget.
 *
 * <p><b>Costs are compared in integer units.</b> Every cost is rounded to a whole number of {@code quantum}s (the cost
 * model's, {@link io.sparknas.supernet.cost.CostModel#quantum()}: one multiply-add for MFLOPs) and the bound is the
 * largest whole number of quanta not above {@code nu} (read as the decimal the user wrote). Feasibility is then an exact
 * integer comparison, the same here, in the brute-force tests and in the caller's check ({@link #fits}): a sum of floating
 * point costs one ulp above {@code nu} (0.1 + 0.2 + 0.3 + 0.3 against 0.9) can no longer be judged feasible by one and
 * infeasible by the other.
 *
 * <p><b>Feasibility, proof.</b> With {@code B = nu - fixed} (units) and R budget steps, every op's cost {@code c} is rounded
 * up to {@code q = ceil(c R / B)} steps (exact integer arithmetic). The programme only returns choices with
 * {@code sum q <= R}, so {@code sum c <= (B / R) sum q <= B}: the returned architecture's cost never exceeds {@code nu},
 * whatever {@code R}.
 *
 * <p><b>Optimality.</b> Rounding up may exclude an architecture whose cost fits. So the same programme also runs with costs
 * rounded down, {@code floor(c R / B)}: every feasible architecture is feasible there ({@code sum floor(c R/B) <= R}), so its
 * optimum {@code U} bounds the true optimum from above. If the rounded-up optimum reaches {@code U}, or the rounded-down
 * optimum's own cost fits, that architecture is the exact optimum of Eq. 10. Otherwise {@code R} grows eightfold (up to
 * {@link #MAX_RESOLUTION}) and the test repeats; a result that is still not proven says so, with the gap to {@code U} (in
 * practice the bound closes at the first or second resolution).
 *
 * <p>Ties (equal expectation) go to the lower cost, then to the lower op index of the first differing layer, so the answer
 * depends on nothing but the inputs.
 */
public final class ExpectationKnapsack {

    /** Largest number of budget steps tried (memory: layers x (R + 1) bytes of back-pointers). */
    public static final int MAX_RESOLUTION = 1 << 21;

    /** The quantum of {@link #solve(double[][], double[][], double, double, int)}: 1e-9 of the cost's unit. */
    public static final double DEFAULT_QUANTUM = 1e-9;

    /**
     * @param choice        per layer, the index of the chosen op in that layer's value / cost arrays
     * @param expectation   {@code E[alpha]} of Eq. 9 (mean over layers of the chosen ops' values)
     * @param cost          cost, fixed part included: {@code costUnits} quanta, in the cost's unit
     * @param provenOptimal whether the rounded-down bound proves it the optimum of Eq. 10
     * @param upperBound    an upper bound of the optimum's expectation (equal to {@code expectation} when proven)
     * @param resolution    budget steps R of the last programme
     * @param costUnits     cost in whole quanta, compared exactly with the bound's
     */
    public record Result(int[] choice, double expectation, double cost, boolean provenOptimal, double upperBound, int resolution,
                         long costUnits) {
    }

    private ExpectationKnapsack() {
    }

    /** A cost in whole quanta (rounded to the nearest). */
    public static long units(double cost, double quantum) {
        double u = Math.rint(cost / quantum);
        if (!(Math.abs(u) < 0x1p62)) {
            throw new IllegalArgumentException("cost " + cost + " is " + u + " quanta of " + quantum + ": too large to compare exactly");
        }
        return (long) u;
    }

    /** A bound in whole quanta: the largest number of quanta not above it, the bound read as its shortest decimal. */
    public static long boundUnits(double bound, double quantum) {
        BigDecimal q = BigDecimal.valueOf(bound).divide(BigDecimal.valueOf(quantum), 0, RoundingMode.FLOOR);
        if (q.abs().compareTo(BigDecimal.valueOf(1L << 62)) >= 0) {
            throw new IllegalArgumentException("bound " + bound + " is too large for quanta of " + quantum);
        }
        return q.longValueExact();
    }

    /** Whether the architecture {@code choice} fits the bound, exactly as {@link #solve} judges it. */
    public static boolean fits(double[][] cost, double fixedCost, int[] choice, double budget, double quantum) {
        long c = units(fixedCost, quantum);
        for (int l = 0; l < choice.length; l++) {
            c = Math.addExact(c, units(cost[l][choice[l]], quantum));
        }
        return c <= boundUnits(budget, quantum);
    }

    /** {@link #solve(double[][], double[][], double, double, int, double)} with {@link #DEFAULT_QUANTUM}. */
    public static Optional<Result> solve(double[][] value, double[][] cost, double fixedCost, double budget, int resolution) {
        return solve(value, cost, fixedCost, budget, resolution, DEFAULT_QUANTUM);
    }

    /**
     * @param value      {@code value[l][i]}: theta of op i of layer l; {@code NaN} marks an op that may not be chosen (pruned)
     * @param cost       {@code cost[l][i] >= 0}, same shape
     * @param fixedCost  cost every architecture has (stem, head)
     * @param budget     nu
     * @param resolution first R (budget steps), e.g. 4096
     * @param quantum    the smallest cost difference that counts: costs and bound are compared in whole quanta
     * @return the best architecture within the budget, or empty when even the cheapest one exceeds it
     */
    public static Optional<Result> solve(double[][] value, double[][] cost, double fixedCost, double budget, int resolution, double quantum) {
        int layers = value.length;
        if (cost.length != layers || resolution < 1 || !(quantum > 0)) {
            throw new IllegalArgumentException("value and cost need the same layers, resolution >= 1, quantum > 0");
        }
        long[][] units = new long[layers][];
        long fixed = units(fixedCost, quantum);
        long min = fixed;
        for (int l = 0; l < layers; l++) {
            if (cost[l].length != value[l].length) {
                throw new IllegalArgumentException("layer " + l + ": " + value[l].length + " values, " + cost[l].length + " costs");
            }
            units[l] = new long[cost[l].length];
            long m = Long.MAX_VALUE;
            for (int i = 0; i < value[l].length; i++) {
                if (!Double.isNaN(value[l][i])) {
                    if (!(cost[l][i] >= 0) || Double.isInfinite(cost[l][i])) {
                        throw new IllegalArgumentException("layer " + l + " op " + i + ": cost " + cost[l][i]);
                    }
                    units[l][i] = units(cost[l][i], quantum);
                    m = Math.min(m, units[l][i]);
                }
            }
            if (m == Long.MAX_VALUE) {
                throw new IllegalArgumentException("layer " + l + " has no op that may be chosen");
            }
            min = Math.addExact(min, m);
        }
        long bound = boundUnits(budget, quantum);
        if (min > bound) {
            return Optional.empty();
        }
        long room = bound - fixed;
        for (int r = resolution; ; r = (int) Math.min(MAX_RESOLUTION, 8L * r)) {
            Result down = program(value, units, fixed, room, r, false, quantum);
            double upper = down.expectation();
            if (down.costUnits() - fixed <= room) {
                return Optional.of(withProof(down, true, upper, r));
            }
            Result up = program(value, units, fixed, room, r, true, quantum);
            if (up == null) {
                // only architectures at (or within rounding of) the budget fit: a finer step may hold them; at the finest,
                // the cheapest architecture (of highest expectation among the cheapest), which fits since min <= budget
                if (r == MAX_RESOLUTION) {
                    return Optional.of(withProof(cheapest(value, units, fixed, quantum), false, upper, r));
                }
                continue;
            }
            boolean proven = up.expectation() >= upper - 1e-12 * Math.max(1, Math.abs(upper));
            if (proven || r == MAX_RESOLUTION) {
                return Optional.of(withProof(up, proven, upper, r));
            }
        }
    }

    private static Result withProof(Result r, boolean proven, double upper, int resolution) {
        return new Result(r.choice(), r.expectation(), r.cost(), proven, upper, resolution, r.costUnits());
    }

    /** Per layer the cheapest op (ties: higher value, then lower index). */
    private static Result cheapest(double[][] value, long[][] cost, long fixed, double quantum) {
        int[] choice = new int[value.length];
        for (int l = 0; l < value.length; l++) {
            int b = -1;
            for (int i = 0; i < value[l].length; i++) {
                if (!Double.isNaN(value[l][i]) && (b < 0 || cost[l][i] < cost[l][b] || cost[l][i] == cost[l][b] && value[l][i] > value[l][b])) {
                    b = i;
                }
            }
            choice[l] = b;
        }
        return result(value, cost, fixed, choice, 0, quantum);
    }

    private static Result result(double[][] value, long[][] cost, long fixed, int[] choice, int r, double quantum) {
        double v = 0;
        long c = fixed;
        for (int l = 0; l < value.length; l++) {
            v += value[l][choice[l]];
            c += cost[l][choice[l]];
        }
        return new Result(choice, v / value.length, c * quantum, false, Double.NaN, r, c);
    }

    /** {@code c R / B} rounded up or down, exactly; {@code Integer.MAX_VALUE} above R. */
    private static int steps(long c, int r, long room, boolean roundUp) {
        if (room == 0) {
            return c == 0 ? 0 : Integer.MAX_VALUE;
        }
        BigInteger[] qr = BigInteger.valueOf(c).multiply(BigInteger.valueOf(r)).divideAndRemainder(BigInteger.valueOf(room));
        BigInteger q = roundUp && qr[1].signum() > 0 ? qr[0].add(BigInteger.ONE) : qr[0];
        return q.compareTo(BigInteger.valueOf(r)) > 0 ? Integer.MAX_VALUE : q.intValueExact();
    }

    /** Largest expectation with sum of rounded costs <= R; null when nothing fits. Ties: lower cost, then lower op index. */
    private static Result program(double[][] value, long[][] cost, long fixed, long room, int r, boolean roundUp, double quantum) {
        int layers = value.length;
        int[][] q = new int[layers][];
        for (int l = 0; l < layers; l++) {
            q[l] = new int[cost[l].length];
            for (int i = 0; i < q[l].length; i++) {
                q[l][i] = Double.isNaN(value[l][i]) ? -1 : steps(cost[l][i], r, room, roundUp);
            }
        }
        // val[b], tc[b]: the best value and its cost (units) of layers 0..l with rounded cost <= b; -inf where nothing fits
        double[] val = new double[r + 1];
        long[] tc = new long[r + 1];
        byte[][] pick = new byte[layers][r + 1];
        double[] nv = new double[r + 1];
        long[] nc = new long[r + 1];
        for (int l = 0; l < layers; l++) {
            Arrays.fill(nv, Double.NEGATIVE_INFINITY);
            Arrays.fill(nc, Long.MAX_VALUE);
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
                    long c = (l == 0 ? 0 : tc[b - qi]) + cost[l][i];
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
        Result res = result(value, cost, fixed, choice, r, quantum);
        if (roundUp && res.costUnits() - fixed > room) {
            throw new IllegalStateException("ENG: rounded-up programme returned " + res.costUnits() + " quanta above the budget's " + (room + fixed));
        }
        return res;
    }
}
