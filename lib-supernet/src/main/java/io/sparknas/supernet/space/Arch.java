package io.sparknas.supernet.space;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * An architecture of a {@link SearchSpace}: per searchable layer, the chosen op(s). Single-path methods (SPOS, PAD-NAS,
 * DDPNAS, DA-NAS after argmax) choose one op per layer; DSO-NAS keeps every op whose scaling factor is non-zero, so a
 * layer may hold several (their outputs are summed) or none (the layer is skipped, as identity).
 *
 * <p>Ops are named, not indexed by candidate position, so an architecture keeps its meaning when a space is pruned.
 * Its id joins each layer's op codes with '-' (several ops of one layer with '+', none as '0'), e.g. {@code k3e1-k5e6-id-...}.
 */
public final class Arch implements Serializable {

    private final List<List<Op>> ops;

    private Arch(List<List<Op>> ops) {
        List<List<Op>> copy = new ArrayList<>();
        for (List<Op> l : ops) {
            copy.add(List.copyOf(l));
        }
        this.ops = List.copyOf(copy);
    }

    /** One op per layer. */
    public static Arch single(List<Op> perLayer) {
        List<List<Op>> ops = new ArrayList<>();
        for (Op op : perLayer) {
            ops.add(List.of(op));
        }
        return new Arch(ops);
    }

    /** Several ops per layer (DSO-NAS). */
    public static Arch multi(List<List<Op>> perLayer) {
        return new Arch(perLayer);
    }

    /** One op per layer, given as indices into each layer's current candidates. */
    public static Arch ofIndices(SearchSpace space, int... indices) {
        if (indices.length != space.size()) {
            throw new IllegalArgumentException("architecture has " + indices.length + " layers, the space " + space.size());
        }
        List<Op> ops = new ArrayList<>();
        for (int i = 0; i < indices.length; i++) {
            ops.add(space.layer(i).candidates().get(indices[i]));
        }
        return single(ops);
    }

    public int layers() {
        return ops.size();
    }

    public List<Op> ops(int layer) {
        return ops.get(layer);
    }

    /** The op of a single-path layer. */
    public Op op(int layer) {
        List<Op> l = ops.get(layer);
        if (l.size() != 1) {
            throw new IllegalStateException("layer " + layer + " holds " + l.size() + " ops, not one");
        }
        return l.get(0);
    }

    public boolean isSinglePath() {
        return ops.stream().allMatch(l -> l.size() == 1);
    }

    /** Indices of each layer's op among the layer's candidates in {@code space} (single path). */
    public int[] indices(SearchSpace space) {
        int[] idx = new int[ops.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = space.layer(i).candidates().indexOf(op(i));
            if (idx[i] < 0) {
                throw new IllegalArgumentException("op " + op(i).name() + " of layer " + i + " is not a candidate in this space");
            }
        }
        return idx;
    }

    /** Checks the architecture fits the space: same depth, every op a current candidate. */
    public void requireIn(SearchSpace space) {
        if (ops.size() != space.size()) {
            throw new IllegalArgumentException("architecture " + id() + " has " + ops.size() + " layers, the space " + space.size());
        }
        for (int i = 0; i < ops.size(); i++) {
            for (Op op : ops.get(i)) {
                if (!space.layer(i).candidates().contains(op)) {
                    throw new IllegalArgumentException("op " + op.name() + " of layer " + i + " is not a candidate of the space");
                }
            }
        }
    }

    public String id() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < ops.size(); i++) {
            if (i > 0) {
                sb.append('-');
            }
            List<Op> l = ops.get(i);
            if (l.isEmpty()) {
                sb.append('0');
            }
            for (int j = 0; j < l.size(); j++) {
                sb.append(j > 0 ? "+" : "").append(l.get(j).code());
            }
        }
        return sb.toString();
    }

    /** Parses {@link #id()}. */
    public static Arch parse(String id) {
        List<List<Op>> ops = new ArrayList<>();
        for (String layer : id.split("-")) {
            List<Op> l = new ArrayList<>();
            if (!layer.equals("0")) {
                for (String code : layer.split("\\+")) {
                    l.add(Op.parse(code));
                }
            }
            ops.add(l);
        }
        return new Arch(ops);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Arch a && a.ops.equals(ops);
    }

    @Override
    public int hashCode() {
        return ops.hashCode();
    }

    @Override
    public String toString() {
        return id();
    }
}
