package io.sparknas.supernet.net;

import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Aligned initialisation of a layer's candidate ops: every IBConv candidate starts computing the same function as the
 * layer's smallest candidate (smallest expansion >= 2, or 1 when that is all there is; then smallest kernel), and the last
 * BatchNorm of ops with a residual starts with gamma 0, so at step 0 every path of the supernet is the same network.
 *
 * <p>Why: with independently initialised candidates, each sampled path starts as a different random function, the shared
 * head sees unrelated features at every step, and uniform single-path training of the 7- to 22-layer spaces here stayed at
 * chance on Fashion-MNIST for hundreds of steps (DL4J and the libtorch peer alike). Aligned candidates start identical and
 * drift apart as each is trained on its own steps, the way weight-entangled supernets (OFA's elastic kernels and widths)
 * keep candidates comparable. Embedding, per candidate with kernel k and expansion e of the reference's k0, e0:
 * <ul>
 *   <li>expansion 1x1 conv: its first {@code e0 * cin} filters are the reference's, the rest stay random;</li>
 *   <li>depthwise k x k: the reference's k0 x k0 kernels in the centre of the first {@code e0 * cin} channels, zero around;</li>
 *   <li>projection 1x1 conv: the reference's weights on the first {@code e0 * cin} inputs, zero on the others;</li>
 *   <li>residual ops: the projection's BatchNorm gamma 0 (the "zero-init residual" of Goyal et al., 2017), so they start as identity.</li>
 * </ul>
 * Candidates with expansion 1 next to larger expansions (the large op set) keep their own random weights (no expansion conv
 * to embed into), but still get the zero gamma.
 */
final class AlignedInitialization {

    private AlignedInitialization() {
    }

    static void apply(Layer layer, List<Op> ops, List<MultiLayerNetwork> nets, boolean residual) {
        List<Integer> ib = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i) instanceof Op.IBConv) {
                ib.add(i);
            }
        }
        if (residual) {
            for (int i : ib) {
                MultiLayerNetwork n = nets.get(i);
                n.getLayer(n.getnLayers() - 1).getParam("gamma").assign(0);
            }
        }
        if (ib.size() < 2) {
            return;
        }
        boolean anyExpanded = ib.stream().anyMatch(i -> ((Op.IBConv) ops.get(i)).expansion() > 1);
        List<Integer> group = ib.stream().filter(i -> (((Op.IBConv) ops.get(i)).expansion() > 1) == anyExpanded).toList();
        int ref = group.stream().min(Comparator.<Integer>comparingInt(i -> ((Op.IBConv) ops.get(i)).expansion())
                .thenComparingInt(i -> ((Op.IBConv) ops.get(i)).kernel())).orElseThrow();
        Op.IBConv r = (Op.IBConv) ops.get(ref);
        MultiLayerNetwork rn = nets.get(ref);
        int mid0 = layer.inChannels() * r.expansion();
        for (int i : group) {
            if (i == ref) {
                continue;
            }
            Op.IBConv c = (Op.IBConv) ops.get(i);
            MultiLayerNetwork cn = nets.get(i);
            if (anyExpanded) {
                // expansion conv W: [mid, cin, 1, 1]
                INDArray w = cn.getLayer(0).getParam("W");
                INDArray x = w.dup('c');
                x.get(NDArrayIndex.interval(0, mid0), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all())
                        .assign(rn.getLayer(0).getParam("W").dup('c'));
                w.assign(x);
            }
            int dw = anyExpanded ? 2 : 0;
            // depthwise W: [k, k, mid, 1]
            INDArray cw = cn.getLayer(dw).getParam("W");
            INDArray x = cw.dup('c');
            int off = (c.kernel() - r.kernel()) / 2;
            x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, mid0), NDArrayIndex.all()).assign(0);
            x.get(NDArrayIndex.interval(off, off + r.kernel()), NDArrayIndex.interval(off, off + r.kernel()), NDArrayIndex.interval(0, mid0),
                    NDArrayIndex.all()).assign(rn.getLayer(dw).getParam("W").dup('c'));
            cw.assign(x);
            // projection W: [cout, mid, 1, 1]
            int pw = dw + 2;
            INDArray cp = cn.getLayer(pw).getParam("W");
            INDArray y = cp.dup('c').assign(0);
            y.get(NDArrayIndex.all(), NDArrayIndex.interval(0, mid0), NDArrayIndex.all(), NDArrayIndex.all()).assign(rn.getLayer(pw).getParam("W").dup('c'));
            cp.assign(y);
        }
    }
}
