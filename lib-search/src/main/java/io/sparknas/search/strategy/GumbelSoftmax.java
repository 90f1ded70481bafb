package io.sparknas.search.strategy;

import java.util.Random;

/**
 * Gumbel-softmax relaxation of a categorical choice (DA-NAS Eq. 6, after SNAS, Xie et al. 2019):
 * {@code p_i = exp((a_i + g_i) / tau) / sum_j exp((a_j + g_j) / tau)}, {@code g_i = -ln(-ln u_i)}, {@code u_i ~ U(0, 1)},
 * with a fixed temperature {@code tau} (DA-NAS section 4.3: the progressive pruning takes the role of a decaying tau).
 */
public final class GumbelSoftmax {

    private GumbelSoftmax() {
    }

    /** One relaxed sample of the logits {@code a}; draws {@code a.length} uniforms from {@code rnd}. */
    public static double[] sample(double[] a, double tau, Random rnd) {
        double[] z = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double u = rnd.nextDouble();
            // u in [0, 1): keep it off 0 so that ln(-ln u) is finite
            u = Math.max(u, 1e-300);
            z[i] = (a[i] - Math.log(-Math.log(u))) / tau;
        }
        return softmax(z, 1);
    }

    /** {@code softmax(a / tau)} (no noise): the distribution the logits stand for. */
    public static double[] softmax(double[] a, double tau) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : a) {
            max = Math.max(max, v / tau);
        }
        double[] p = new double[a.length];
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            p[i] = Math.exp(a[i] / tau - max);
            sum += p[i];
        }
        for (int i = 0; i < a.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * dLoss/da from dLoss/dp for {@code p = softmax((a + g) / tau)} with the noise g held fixed:
     * {@code dp_i/da_j = p_i (delta_ij - p_j) / tau}, so {@code dL/da_j = p_j (dL/dp_j - sum_i p_i dL/dp_i) / tau}.
     */
    public static double[] logitGradient(double[] p, double tau, double[] dLdp) {
        double dot = 0;
        for (int i = 0; i < p.length; i++) {
            dot += p[i] * dLdp[i];
        }
        double[] g = new double[p.length];
        for (int j = 0; j < p.length; j++) {
            g[j] = p[j] * (dLdp[j] - dot) / tau;
        }
        return g;
    }
}
