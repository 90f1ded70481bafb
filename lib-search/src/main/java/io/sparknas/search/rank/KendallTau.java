package io.sparknas.search.rank;

import org.apache.commons.math3.stat.correlation.KendallsCorrelation;

/**
 * Kendall's rank correlation tau (tau-b, which corrects for ties) between two scorings of the same items, e.g. supernet
 * accuracy and stand-alone accuracy of the same architectures (PAD-NAS section 4.3, Table 8; Kendall 1938). 1: same order,
 * -1: reversed, 0: unrelated. Computed by Commons Math's {@link KendallsCorrelation} (O(n log n), Knight's algorithm).
 */
public final class KendallTau {

    private KendallTau() {
    }

    /**
     * @throws IllegalArgumentException when the arrays differ in length, hold fewer than 2 items, hold a NaN, or one of them
     *                                  is constant (tau is undefined then)
     */
    public static double of(double[] a, double[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("Kendall tau needs two scorings of the same items: got " + a.length + " and " + b.length + " values");
        }
        if (a.length < 2) {
            throw new IllegalArgumentException("Kendall tau needs at least 2 items, got " + a.length);
        }
        for (int i = 0; i < a.length; i++) {
            if (Double.isNaN(a[i]) || Double.isNaN(b[i])) {
                throw new IllegalArgumentException("Kendall tau: item " + i + " has a NaN score");
            }
        }
        if (constant(a) || constant(b)) {
            throw new IllegalArgumentException("Kendall tau is undefined when every item has the same score in one of the rankings");
        }
        return new KendallsCorrelation().correlation(a, b);
    }

    private static boolean constant(double[] x) {
        for (double v : x) {
            if (v != x[0]) {
                return false;
            }
        }
        return true;
    }
}
