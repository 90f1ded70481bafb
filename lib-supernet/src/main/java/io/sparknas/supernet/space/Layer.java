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
            if (Op.isShuffleUnit(op) && (stride == 1 ? inChannels != outChannels || inChannels % 2 != 0 : outChannels <= inChannels)) {
                throw new IllegalArgumentException("layer " + index + " (" + inChannels + "->" + outChannels + " channels, stride " + stride
                        + "): a ShuffleNetV2 unit needs equal, even channels at stride 1 and more output than input channels at stride 2");
            }
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

    /** Input channels of a ShuffleNetV2 unit's main branch: half the input at stride 1 (the other half passes), all of it at stride 2. */
    public int shuffleBranchIn() {
        return stride == 1 ? inChannels / 2 : inChannels;
    }

    /** Output channels of a ShuffleNetV2 unit's main branch: the layer's output minus the passed or projected channels. */
    public int shuffleBranchOut() {
        return outChannels - (stride == 1 ? inChannels / 2 : inChannels);
    }

    /** Middle width of a ShuffleNetV2 unit's main branch (SPOS: half the output channels). */
    public int shuffleMid() {
        return outChannels / 2;
    }

    public Layer withCandidates(List<Op> ops) {
        return new Layer(index, stage, inChannels, outChannels, stride, inHeight, ops);
    }
}
