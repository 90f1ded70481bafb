package io.sparknas.search.strategy;

import java.util.Arrays;
import java.util.Locale;

/**
 * The driver-side optimiser of a strategy's parameters (flat), Adam (Kingma and Ba, 2015) or plain SGD, with its state
 * (moments and step count) in text form for the checkpoint. ProxylessNAS (whose loss DA-NAS takes) updates its architecture
 * parameters with Adam, beta1 = 0, beta2 = 0.999, epsilon 1e-8.
 */
public final class LogitOptimizer {

    private final String kind;
    private final double learningRate;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private double[] m;
    private double[] v;
    private long t;

    public LogitOptimizer(String kind, double learningRate, double beta1, double beta2, double epsilon, int size) {
        if (!kind.equals("adam") && !kind.equals("sgd")) {
            throw new IllegalArgumentException("unknown optimiser " + kind + " (adam | sgd)");
        }
        this.kind = kind;
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.m = new double[size];
        this.v = new double[size];
    }

    /** One step on {@code x} in place with gradient {@code g}; entries whose {@code active} flag is false stay unchanged. */
    public void step(double[] x, double[] g, boolean[] active) {
        t++;
        for (int i = 0; i < x.length; i++) {
            if (!active[i]) {
                continue;
            }
            if (kind.equals("sgd")) {
                x[i] -= learningRate * g[i];
                continue;
            }
            m[i] = beta1 * m[i] + (1 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            double mh = m[i] / (1 - Math.pow(beta1, t));
            double vh = v[i] / (1 - Math.pow(beta2, t));
            x[i] -= learningRate * mh / (Math.sqrt(vh) + epsilon);
        }
    }

    /** {@code t m_0 .. m_n v_0 .. v_n}, doubles in exact hexadecimal form. */
    public String state() {
        StringBuilder b = new StringBuilder().append(t);
        for (double d : m) {
            b.append(' ').append(Double.toHexString(d));
        }
        for (double d : v) {
            b.append(' ').append(Double.toHexString(d));
        }
        return b.toString();
    }

    public void restore(String state) {
        String[] f = state.trim().split(" ");
        if (f.length != 1 + 2 * m.length) {
            throw new IllegalArgumentException("optimiser state holds " + (f.length - 1) + " moments, expected " + 2 * m.length);
        }
        t = Long.parseLong(f[0]);
        for (int i = 0; i < m.length; i++) {
            m[i] = Double.parseDouble(f[1 + i]);
            v[i] = Double.parseDouble(f[1 + m.length + i]);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s(lr %s, t %d, |m| %s)", kind, learningRate, t, Arrays.stream(m).map(Math::abs).sum());
    }
}
