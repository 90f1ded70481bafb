package io.sparknas.supernet.net;

import io.sparknas.supernet.space.Op;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Aligned initialisation of a layer's candidate ops: within each family (IBConv, Shuffle, Xception) every candidate starts
 * computing the same function as the family's smallest one (smallest expansion >= 2, then smallest kernel), and the last
 * BatchNorm of IBConv ops with a residual starts with gamma 0, so at step 0 every path of an IBConv space is one network
 * (ShuffleNetV2 spaces keep one function per family and layer).
 *
 * <p>Why: with independently initialised candidates, each sampled path starts as a different random function, the shared
 * head sees unrelated features at every step, and uniform single-path training of the 7- to 22-layer spaces here stayed at
 * chance on Fashion-MNIST for hundreds of steps (DL4J and the libtorch peer alike). Aligned candidates start identical and
 * drift apart as each is trained on its own steps, the way weight-entangled supernets (OFA's elastic kernels and widths)
 * keep candidates comparable. Embedding of the reference into a candidate, layer by layer:
 * <ul>
 *   <li>1x1 conv: the reference's weights on its inputs and outputs; extra outputs stay random, extra inputs get zero
 *       weights (so an e6 IBConv's extra channels add nothing at first);</li>
 *   <li>depthwise k x k: the reference's k0 x k0 kernels in the centre of the reference's channels, zero around;</li>
 *   <li>residual IBConv ops: the projection's BatchNorm gamma 0 (the "zero-init residual" of Goyal et al., 2017).</li>
 * </ul>
 * IBConv candidates with expansion 1 next to larger expansions (the large op set) keep their own weights (they have no
 * expansion conv to embed into), but still get the zero gamma.
 */
final class AlignedInitialization {

    private AlignedInitialization() {
    }

    /**
     * @param ops      a layer's candidates
     * @param nets     per candidate: its networks (main branch first, then a ShuffleNetV2 unit's projection); empty for identity
     * @param residual whether the layer keeps its shape (IBConv ops get a residual)
     */
    static void apply(List<Op> ops, Function<Op, List<MultiLayerNetwork>> nets, boolean residual) {
        List<Op.IBConv> ib = ops.stream().filter(o -> o instanceof Op.IBConv).map(o -> (Op.IBConv) o).toList();
        if (residual) {
            for (Op.IBConv op : ib) {
                MultiLayerNetwork n = nets.apply(op).get(0);
                n.getLayer(n.getnLayers() - 1).getParam("gamma").assign(0);
            }
        }
        boolean anyExpanded = ib.stream().anyMatch(o -> o.expansion() > 1);
        Map<String, List<Op>> families = ops.stream().filter(o -> !(o instanceof Op.Identity))
                .filter(o -> !(o instanceof Op.IBConv b) || (b.expansion() > 1) == anyExpanded)
                .collect(Collectors.groupingBy(o -> o.getClass().getSimpleName()));
        for (List<Op> family : families.values()) {
            if (family.size() < 2) {
                continue;
            }
            Op ref = family.stream().min(Comparator.comparingInt(AlignedInitialization::expansion).thenComparingInt(AlignedInitialization::kernel))
                    .orElseThrow();
            List<MultiLayerNetwork> refNets = nets.apply(ref);
            for (Op op : family) {
                if (op.equals(ref) || kernel(op) < kernel(ref) || expansion(op) < expansion(ref)) {
                    // (a layer-wise op set, e.g. after PAD-NAS pruning, may have no op both narrowest and smallest-kernel:
                    // ops the reference does not fit into keep their own weights)
                    continue;
                }
                List<MultiLayerNetwork> target = nets.apply(op);
                for (int n = 0; n < refNets.size(); n++) {
                    embed(refNets.get(n), target.get(n));
                }
            }
        }
    }

    private static int expansion(Op op) {
        return op instanceof Op.IBConv b ? b.expansion() : 1;
    }

    private static int kernel(Op op) {
        if (op instanceof Op.IBConv b) {
            return b.kernel();
        }
        if (op instanceof Op.Shuffle s) {
            return s.kernel();
        }
        return op instanceof Op.Xception x ? x.kernel() : 0;
    }

    /** Embeds {@code ref} into {@code target}: same layer sequence, target as wide or wider and kernels as large or larger. */
    static void embed(MultiLayerNetwork ref, MultiLayerNetwork target) {
        if (ref.getnLayers() != target.getnLayers()) {
            throw new IllegalArgumentException("cannot embed a " + ref.getnLayers() + "-layer block into a " + target.getnLayers() + "-layer one");
        }
        for (int j = 0; j < ref.getnLayers(); j++) {
            Object conf = ref.getLayer(j).conf().getLayer();
            if (!(conf instanceof ConvolutionLayer)) {
                continue;
            }
            INDArray r = ref.getLayer(j).getParam("W").dup('c');
            INDArray tw = target.getLayer(j).getParam("W");
            INDArray t = tw.dup('c');
            if (conf instanceof DepthwiseConvolution2D) {
                // [k, k, channels, 1]: the reference's kernels in the centre of its channels, zero around them
                long k0 = r.size(0);
                long c0 = r.size(2);
                long off = (t.size(0) - k0) / 2;
                t.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, c0), NDArrayIndex.all()).assign(0);
                t.get(NDArrayIndex.interval(off, off + k0), NDArrayIndex.interval(off, off + k0), NDArrayIndex.interval(0, c0),
                        NDArrayIndex.all()).assign(r);
            } else {
                // [out, in, 1, 1]: the reference's weights; extra inputs zero, extra outputs keep their random weights
                long out0 = r.size(0);
                long in0 = r.size(1);
                if (in0 < t.size(1)) {
                    // (an empty interval view has no buffer: ND4J's assign fails on it)
                    t.get(NDArrayIndex.all(), NDArrayIndex.interval(in0, t.size(1)), NDArrayIndex.all(), NDArrayIndex.all()).assign(0);
                }
                t.get(NDArrayIndex.interval(0, out0), NDArrayIndex.interval(0, in0), NDArrayIndex.all(), NDArrayIndex.all()).assign(r);
            }
            tw.assign(t);
        }
    }
}
