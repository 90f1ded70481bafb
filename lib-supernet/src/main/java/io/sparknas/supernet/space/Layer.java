package io.sparknas.supernet.space;

import java.io.Serializable;
import java.util.List;

/**
 * One searchable layer of a {@link SearchSpace}: its shape and its current candidate ops.
 *
 * @param index      position in the space (0-based)
 * @param stage      stage of the channel plan it belongs to (0-based)
 * @param inChannels input channels
 * @param outChannels output channels
 * @param stride     stride (1 or 2)
 * @param inHeight   input height (= width)
 * @param candidates the ops this layer may take now; pruning methods shrink this list, never to empty
 */
public record Layer(int index, int stage, int inChannels, int outChannels, int stride, int inHeight, List<Op> candidates)
        implements Serializable {

    public Layer {
        candidates = List.copyOf(candidates);
        if (candidates.isEmpty()) {
            throw new IllegalArgumentException("layer " + index + " has no candidate op");
        }
        for (Op op : candidates) {
            if (op instanceof Op.Identity && !keepsShape(stride, inChannels, outChannels)) {
                throw new IllegalArgumentException("layer " + index + " changes shape (stride " + stride + ", " + inChannels + "->"
                        + outChannels + " channels): identity is not allowed there");
            }
        }
    }

    /** Output height: "same" padding, ceil(in / stride). */
    public int outHeight() {
        return (inHeight + stride - 1) / stride;
    }

    /** Whether a residual connection (and an identity op) fits: stride 1 and equal channels. */
    public boolean keepsShape() {
        return keepsShape(stride, inChannels, outChannels);
    }

    static boolean keepsShape(int stride, int in, int out) {
        return stride == 1 && in == out;
    }

    public Layer withCandidates(List<Op> ops) {
        return new Layer(index, stage, inChannels, outChannels, stride, inHeight, ops);
    }
}
