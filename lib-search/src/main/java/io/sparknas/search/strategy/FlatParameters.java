package io.sparknas.search.strategy;

/**
 * A strategy's per-layer parameters (DA-NAS logits, DSO-NAS lambdas; every candidate of the full space) laid out flat for
 * its driver-side optimiser, with the round's mean gradient at the live candidates: the summed gradient of a round, aligned
 * with each layer's live candidates, divided by the round's steps (the gradient of the mean loss, whatever the number of
 * workers). Pruned candidates are inactive: the optimiser leaves them unchanged.
 */
final class FlatParameters {

    final double[] values;
    final double[] gradient;
    final boolean[] live;

    private FlatParameters(int n) {
        values = new double[n];
        gradient = new double[n];
        live = new boolean[n];
    }

    static FlatParameters of(double[][] values, int[][] prunedAt, double[][] gradientSum, long steps) {
        FlatParameters f = new FlatParameters(flatten(values).length);
        int k = 0;
        for (int l = 0; l < values.length; l++) {
            int alive = 0;
            for (int p : prunedAt[l]) {
                alive += p == 0 ? 1 : 0;
            }
            if (gradientSum[l].length != alive) {
                throw new IllegalArgumentException("layer " + l + ": gradient for " + gradientSum[l].length + " ops, " + alive + " alive");
            }
            int j = 0;
            for (int i = 0; i < values[l].length; i++, k++) {
                f.values[k] = values[l][i];
                if (prunedAt[l][i] == 0) {
                    f.gradient[k] = gradientSum[l][j++] / steps;
                    f.live[k] = true;
                }
            }
        }
        return f;
    }

    /** Every entry of {@code perLayer}, layer by layer. */
    static double[] flatten(double[][] perLayer) {
        int n = 0;
        for (double[] l : perLayer) {
            n += l.length;
        }
        double[] out = new double[n];
        int k = 0;
        for (double[] l : perLayer) {
            for (double v : l) {
                out[k++] = v;
            }
        }
        return out;
    }

    /** Writes the (optimised) flat values back into {@code perLayer}. */
    void copyTo(double[][] perLayer) {
        int k = 0;
        for (double[] l : perLayer) {
            for (int i = 0; i < l.length; i++) {
                l[i] = values[k++];
            }
        }
    }
}
