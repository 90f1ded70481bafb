package io.sparknas.search.strategy;

/**
 * APG-NAG (Huang and Wang 2018, as DSO-NAS uses it: Zhang et al., Eq. 14-16): accelerated proximal gradient for
 * {@code min G(lambda) + gamma ||lambda||_1, lambda >= 0}, reformulated with momentum so that the gradient is taken at the
 * stored look-ahead value, the one the network computes with. With look-ahead {@code l}, momentum buffer {@code v}, step
 * {@code eta}, threshold {@code gamma} and momentum {@code mu}, one step on the gradient {@code g} of G at {@code l}:
 * <pre>
 *   z     = l - eta g                                   (Eq. 14)
 *   s     = S_{eta gamma}(z) = sign(z) max(0, |z| - eta gamma)
 *   v'    = s - l + mu v                                (Eq. 15)
 *   l'    = max(0, s + mu v')                           (Eq. 16, then the authors' clamp at 0: lambda >= 0)
 * </pre>
 * Here {@code mu} in Eq. 15 is mu_(t-1) and in Eq. 16 mu_(t). This is the authors' code ({@code APGNAG} in
 * XinbangZhang/DSO-NAS, from TuSimple/sparse-structure-selection): the L1 term enters only through the threshold, the
 * gradient is clipped to {@code +-clip}, and mu is a constant (0.9); the paper's schedule is an option: Eq. 13 gives
 * {@code mu_(t-1) = (t - 2) / (t + 1)}, so {@code mu_(t) = (t - 1) / (t + 2)} (mu_0 = -1/2 taken as 0: step 1 has no
 * momentum, step 2 uses mu_1 = 0 in Eq. 15 and mu_2 = 1/4 in Eq. 16).
 * State (step count, v) is text for the checkpoint; the values themselves are the caller's.
 */
public final class ApgNag {

    private final double learningRate;
    private final double momentum;
    private final boolean scheduled;
    private final double clip;
    private final double[] v;
    private long t;

    /**
     * @param momentum  mu when constant
     * @param scheduled true: mu_(t) = max(0, (t - 1) / (t + 2)) (Eq. 13: mu_(t-1) = (t - 2) / (t + 1)) instead of the constant
     * @param clip      the gradient is clipped to [-clip, clip]; 0: no clipping
     */
    public ApgNag(double learningRate, double momentum, boolean scheduled, double clip, int size) {
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.scheduled = scheduled;
        this.clip = clip;
        this.v = new double[size];
    }

    /** The soft-threshold operator {@code S_a(z) = sign(z) max(0, |z| - a)}. */
    public static double softThreshold(double z, double a) {
        double m = Math.abs(z) - a;
        return m > 0 ? Math.copySign(m, z) : 0.0;
    }

    /** mu_(t) of Eq. 13-16: with the schedule, Eq. 13's mu_(t-1) = (t - 2) / (t + 1) read at t + 1; negative values as 0. */
    double momentumAt(long t) {
        return scheduled ? Math.max(0, (t - 1.0) / (t + 2.0)) : momentum;
    }

    /**
     * One step on {@code lambda} (the look-ahead values) in place; {@code gamma[i]} is entry i's sparsity weight (adaptive
     * budgets scale it per entry); entries whose {@code active} flag is false stay unchanged.
     */
    public void step(double[] lambda, double[] g, double[] gamma, boolean[] active) {
        t++;
        double muPrev = momentumAt(t - 1);
        double mu = momentumAt(t);
        for (int i = 0; i < lambda.length; i++) {
            if (!active[i]) {
                continue;
            }
            double gi = clip > 0 ? Math.max(-clip, Math.min(clip, g[i])) : g[i];
            double z = lambda[i] - learningRate * gi;
            double s = softThreshold(z, learningRate * gamma[i]);
            v[i] = s - lambda[i] + muPrev * v[i];
            lambda[i] = Math.max(0, s + mu * v[i]);
        }
    }

    /**
     * Restarts entry i's momentum ({@code v_i = 0}): the next step of i is a plain proximal gradient step. For an entry whose
     * caller undid a step (DSO-NAS keeping one op of a layer), so that the velocity that drove it to 0 does not drive it to 0
     * again on every later step.
     */
    public void restart(int i) {
        v[i] = 0;
    }

    /** The momentum buffer entry i (for tests and logs). */
    public double velocity(int i) {
        return v[i];
    }

    /** {@code t v_0 .. v_n}, doubles in exact hexadecimal form. */
    public String state() {
        StringBuilder b = new StringBuilder().append(t);
        for (double d : v) {
            b.append(' ').append(Double.toHexString(d));
        }
        return b.toString();
    }

    public void restore(String state) {
        String[] f = state.trim().split(" ");
        if (f.length != 1 + v.length) {
            throw new IllegalArgumentException("APG-NAG state holds " + (f.length - 1) + " values, expected " + v.length);
        }
        t = Long.parseLong(f[0]);
        for (int i = 0; i < v.length; i++) {
            v[i] = Double.parseDouble(f[1 + i]);
        }
    }
}
