package io.sparknas.supernet.net;

import java.util.HexFormat;
import java.security.NoSuchAlgorithmException;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.Serializable;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A snapshot of a supernet's trainable state, part by part: parameters (with BatchNorm running statistics) and updater state
 * as plain float arrays, so it can be broadcast to Spark tasks, summed across them, averaged and written to Parquet.
 *
 * <p>Parameter averaging (jobs' supernet-train): every task starts a round from the same snapshot, trains, and returns the
 * parts it used; {@link #accumulate} sums them and counts contributors per part; {@link #averageInto} divides each part by
 * its own count and leaves parts no task used unchanged.
 */
public final class SupernetState implements Serializable {

    private static final long serialVersionUID = 1L;

    private final Map<String, float[]> params;
    private final Map<String, float[]> updater;

    public SupernetState(Map<String, float[]> params, Map<String, float[]> updater) {
        this.params = new LinkedHashMap<>(params);
        this.updater = new LinkedHashMap<>(updater);
    }

    /** The current state of every part of {@code net}. */
    public static SupernetState capture(Supernet net) {
        return capture(net, net.parts().stream().map(TrainablePart::key).toList());
    }

    /** The current state of the named parts of {@code net}. */
    public static SupernetState capture(Supernet net, Collection<String> keys) {
        Map<String, TrainablePart> byKey = byKey(net);
        Map<String, float[]> p = new LinkedHashMap<>();
        Map<String, float[]> u = new LinkedHashMap<>();
        for (String k : keys) {
            TrainablePart part = byKey.get(k);
            if (part == null) {
                throw new IllegalArgumentException("supernet has no part " + k);
            }
            p.put(k, flat(part.params()));
            u.put(k, flat(part.updaterState()));
        }
        return new SupernetState(p, u);
    }

    /**
     * The parts of this state that {@code net} has (PAD-NAS weight inheritance, section 3.2: the pruned supernet of stage
     * k+1 starts from the stage-k weights of the operations it kept); every part of {@code net} must be in this state.
     */
    public SupernetState retainedFor(Supernet net) {
        Map<String, float[]> p = new LinkedHashMap<>();
        Map<String, float[]> u = new LinkedHashMap<>();
        for (String k : byKey(net).keySet()) {
            if (!params.containsKey(k)) {
                throw new IllegalStateException("the inherited supernet state has no part " + k + " (was it trained on another search space?)");
            }
            p.put(k, params.get(k));
            u.put(k, updater.getOrDefault(k, new float[0]));
        }
        return new SupernetState(p, u);
    }

    /** Writes this state into {@code net}; every part of the snapshot must exist there with the same sizes. */
    public void applyTo(Supernet net) {
        Map<String, TrainablePart> byKey = byKey(net);
        for (Map.Entry<String, float[]> e : params.entrySet()) {
            TrainablePart part = byKey.get(e.getKey());
            if (part == null) {
                throw new IllegalStateException("state has part " + e.getKey() + " that the supernet lacks (different search space?)");
            }
            assign(part.params(), e.getValue(), e.getKey());
            float[] u = updater.get(e.getKey());
            if (u != null && u.length > 0) {
                assign(part.updaterState(), u, e.getKey() + " updater");
            }
        }
    }

    public Map<String, float[]> params() {
        return params;
    }

    public Map<String, float[]> updater() {
        return updater;
    }

    /**
     * SHA-256 of every part's parameters and updater state (parts by key, the floats' bits): equal digests, bitwise equal
     * states. supernet-train records it, so runs on different clusters or resumed runs can be compared.
     */
    public String sha256() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map<String, float[]> m : List.of(params, updater)) {
                for (Map.Entry<String, float[]> e : new TreeMap<>(m).entrySet()) {
                    md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
                    ByteBuffer buf = ByteBuffer.allocate(4 * e.getValue().length + 4);
                    buf.putInt(e.getValue().length);
                    for (float f : e.getValue()) {
                        buf.putInt(Float.floatToRawIntBits(f));
                    }
                    md.update(buf.array());
                }
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public long numParams() {
        return params.values().stream().mapToLong(a -> a.length).sum();
    }

    /** Sums of part states over tasks, with the number of tasks that contributed each part. */
    public static final class Sum implements Serializable {
        private static final long serialVersionUID = 1L;
        final Map<String, float[]> params = new TreeMap<>();
        final Map<String, float[]> updater = new TreeMap<>();
        final Map<String, Integer> counts = new TreeMap<>();

        public Map<String, Integer> counts() {
            return counts;
        }

        public Sum merge(Sum other) {
            for (Map.Entry<String, float[]> e : other.params.entrySet()) {
                add(e.getKey(), e.getValue(), other.updater.get(e.getKey()), other.counts.get(e.getKey()));
            }
            return this;
        }

        void add(String key, float[] p, float[] u, int count) {
            float[] ps = params.get(key);
            if (ps == null) {
                params.put(key, p.clone());
                updater.put(key, u.clone());
                counts.put(key, count);
                return;
            }
            float[] us = updater.get(key);
            for (int i = 0; i < p.length; i++) {
                ps[i] += p[i];
            }
            for (int i = 0; i < u.length; i++) {
                us[i] += u[i];
            }
            counts.merge(key, count, Integer::sum);
        }
    }

    /** A task's contribution: the given parts of its trained supernet. */
    public static Sum accumulate(Supernet net, Collection<String> usedKeys) {
        SupernetState s = capture(net, usedKeys);
        Sum sum = new Sum();
        for (String k : s.params.keySet()) {
            sum.add(k, s.params.get(k), s.updater.get(k), 1);
        }
        return sum;
    }

    /** This state with each summed part replaced by its average over the tasks that used it. */
    public SupernetState averageInto(Sum sum) {
        Map<String, float[]> p = new LinkedHashMap<>(params);
        Map<String, float[]> u = new LinkedHashMap<>(updater);
        for (Map.Entry<String, float[]> e : sum.params.entrySet()) {
            float c = sum.counts.get(e.getKey());
            float[] ps = e.getValue().clone();
            float[] us = sum.updater.get(e.getKey()).clone();
            for (int i = 0; i < ps.length; i++) {
                ps[i] /= c;
            }
            for (int i = 0; i < us.length; i++) {
                us[i] /= c;
            }
            p.put(e.getKey(), ps);
            u.put(e.getKey(), us);
        }
        return new SupernetState(p, u);
    }

    private static Map<String, TrainablePart> byKey(Supernet net) {
        Map<String, TrainablePart> m = new LinkedHashMap<>();
        for (TrainablePart p : net.parts()) {
            m.put(p.key(), p);
        }
        return m;
    }

    private static float[] flat(INDArray a) {
        return a == null || a.isEmpty() ? new float[0] : a.dup('c').reshape(a.length()).toFloatVector();
    }

    private static void assign(INDArray target, float[] values, String what) {
        if (target.length() != values.length) {
            throw new IllegalStateException(what + ": state has " + values.length + " values, the supernet " + target.length());
        }
        target.assign(Nd4j.create(values, target.shape(), target.ordering()));
    }
}
