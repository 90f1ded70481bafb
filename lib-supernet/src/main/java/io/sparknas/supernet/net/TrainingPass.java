package io.sparknas.supernet.net;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.Relu6;
import org.nd4j.linalg.api.ops.impl.scalar.ScalarReverseSubtraction;
import org.nd4j.linalg.api.ops.impl.scalar.Step;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

/**
 * Training-mode forward and backward of a block's layers as ND4J custom ops called directly ({@code conv2d} /
 * {@code conv2d_bp}, {@code depthwise_conv2d} / {@code depthwise_conv2d_bp}; BatchNorm and activations in place, see
 * {@link BatchStatistics}), writing the parameter gradient into the network's own gradient view so that its DL4J updater
 * applies it unchanged. Replaces DL4J's layer implementations (a 1x1 convolution as im2col + matmul, BatchNorm as a dozen
 * element-wise ops forward and backward: about 4,000 ND4J ops per training step of a path, PLATFORM-NOTES). Computes what
 * DL4J computes, including BatchNorm's running-statistics "gradient" ({@code (1 - decay) * (running - batch)}, its updater
 * is a no-op): the supernet's gradient-equivalence tests compare it with DL4J's layers and a plain ComputationGraph, in
 * double precision. Only for networks {@link InferencePass#supports}.
 */
final class TrainingPass {

    private final MultiLayerNetwork net;
    private final int n;
    /** Per layer: its parameter-gradient views, keyed as DL4J names them (W, gamma, beta, mean, var). */
    private final Map<String, INDArray>[] gradViews;
    private final INDArray[] inputs;
    private final INDArray[] batchMean;
    private final INDArray[] batchVar;
    private final INDArray[] batchInvStd;
    private boolean forwarded;

    @SuppressWarnings("unchecked")
    TrainingPass(MultiLayerNetwork net) {
        this.net = net;
        this.n = net.getnLayers();
        this.gradViews = new Map[n];
        if (net.getGradientsViewArray() == null) {
            net.initGradientsView();
        }
        for (int j = 0; j < n; j++) {
            Layer l = net.getLayer(j);
            INDArray view = l.getGradientsViewArray();
            gradViews[j] = view == null || view.length() == 0 ? Map.of()
                    : l.conf().getLayer().initializer().getGradientsFromFlattened(l.conf(), view);
        }
        this.inputs = new INDArray[n];
        this.batchMean = new INDArray[n];
        this.batchVar = new INDArray[n];
        this.batchInvStd = new INDArray[n];
    }

    /** Training forward (batch statistics in BatchNorm), keeping each layer's input for {@link #backward}. NCHW in and out. */
    INDArray forward(INDArray x) {
        INDArray h = x;
        for (int j = 0; j < n; j++) {
            Layer l = net.getLayer(j);
            Object c = l.conf().getLayer();
            inputs[j] = h;
            if (c instanceof DepthwiseConvolution2D d) {
                h = exec(conv("depthwise_conv2d", d.getKernelSize(), d.getStride(), 0).addInputs(h, l.getParam("W"))
                        .addOutputs(InferencePass.convOutput(h, l.getParam("W"), d.getStride(), 0, false)));
            } else if (c instanceof ConvolutionLayer cl) {
                h = exec(conv("conv2d", cl.getKernelSize(), cl.getStride(), 1).addInputs(h, l.getParam("W"))
                        .addOutputs(InferencePass.convOutput(h, l.getParam("W"), cl.getStride(), 1, false)));
            } else if (c instanceof BatchNormalization b) {
                // the normalised input xhat is what backward needs (not x): computed in place on the convolution's output
                // when this pass owns it (not the block's input, not an activation's kept output)
                boolean own = j > 0 && !(net.getLayer(j - 1).conf().getLayer() instanceof ActivationLayer);
                INDArray xhat = own ? h : h.dup();
                BatchStatistics st = BatchStatistics.normalise(xhat, 1, b.getEps());
                batchMean[j] = st.mean();
                batchVar[j] = st.var();
                batchInvStd[j] = st.invStd();
                inputs[j] = xhat;
                h = ArrayPool.take(xhat.dataType(), xhat.shape());
                BatchStatistics.affine(xhat, l.getParam("gamma").reshape(-1), l.getParam("beta").reshape(-1), h, 1);
            } else if (c instanceof ActivationLayer a) {
                // backward needs only the output: computed in place on the input, which no one else holds, except the
                // block's input (the caller's)
                INDArray y = j > 0 ? h : ArrayPool.take(h.dataType(), h.shape());
                if (a.getActivationFn() instanceof ActivationReLU6) {
                    Nd4j.exec(new Relu6(h, y, 0.0));
                } else {
                    Nd4j.exec(new RectifiedLinear(h, y, 0.0));
                }
                inputs[j] = y;
                h = y;
            } else {
                h = h.mean(2, 3);
            }
        }
        forwarded = true;
        return h;
    }

    /**
     * Backpropagates {@code eps} (dLoss/dOutput of the last {@link #forward}) through every layer; the parameter gradients
     * land in the network's gradient view (as {@code backpropGradient} would put them). Returns the gradient, keyed
     * {@code <layer>_<param>} over that view, and dLoss/dInput.
     */
    Pair<Gradient, INDArray> backward(INDArray eps) {
        if (!forwarded) {
            throw new IllegalStateException("backward without a training forward");
        }
        forwarded = false;
        INDArray e = eps;
        for (int j = n - 1; j >= 0; j--) {
            Layer l = net.getLayer(j);
            Object c = l.conf().getLayer();
            INDArray x = inputs[j];
            inputs[j] = null;
            INDArray consumed = e;
            if (c instanceof DepthwiseConvolution2D d) {
                INDArray dx = ArrayPool.take(x.dataType(), x.shape());
                Nd4j.exec(conv("depthwise_conv2d_bp", d.getKernelSize(), d.getStride(), 0).addInputs(x, l.getParam("W"), e)
                        .addOutputs(dx, gradViews[j].get("W")).build());
                e = dx;
            } else if (c instanceof ConvolutionLayer cl) {
                INDArray dx = ArrayPool.take(x.dataType(), x.shape());
                Nd4j.exec(conv("conv2d_bp", cl.getKernelSize(), cl.getStride(), 1).addInputs(x, l.getParam("W"), e)
                        .addOutputs(dx, gradViews[j].get("W")).build());
                e = dx;
            } else if (c instanceof BatchNormalization b) {
                e = batchNormBackward(l, b, j, x, e);
            } else if (c instanceof ActivationLayer a) {
                e = activationBackward(x, e, a.getActivationFn() instanceof ActivationReLU6);
            } else {
                // global average pooling: every position receives eps / (h * w)
                long hw = x.size(2) * x.size(3);
                INDArray dx = ArrayPool.take(x.dataType(), x.shape());
                dx.assign(0).addi(e.div(hw).reshape(e.size(0), e.size(1), 1, 1));
                e = dx;
            }
            // free what this layer consumed at once (ND4J otherwise frees off-heap memory only when the GC collects the
            // array objects; fresh allocations meanwhile cost page faults): its output gradient unless it is the caller's,
            // and its kept array unless it is the block's input, the block's output, or still needed by the activation below
            if (consumed != eps) {
                release(consumed);
            }
            // (BatchNorm's kept xhat became dx; an activation keeps its output, which is also the next layer's input)
            boolean activation = c instanceof ActivationLayer;
            boolean neededBelow = j > 0 && net.getLayer(j - 1).conf().getLayer() instanceof ActivationLayer;
            if (!(c instanceof BatchNormalization) && (activation ? j < n - 1 : j > 0 && !neededBelow)) {
                release(x);
            }
        }
        Gradient g = new DefaultGradient(net.getGradientsViewArray());
        for (int j = 0; j < n; j++) {
            for (Map.Entry<String, INDArray> v : gradViews[j].entrySet()) {
                g.setGradientFor(j + "_" + v.getKey(), v.getValue());
            }
        }
        return new Pair<>(g, e);
    }

    /**
     * ReLU / ReLU6 backward from the activation's output y: eps where 0 < y (< 6), else 0. The mask is built with plain
     * element-wise ops (ReLU6: step(y * (6 - y))), because libnd4j's {@code relu6_bp} / {@code relu_bp} ran 7-17x slower
     * than one multiply on the same array (measured on [64, 96, 14, 14], one thread: relu6_bp 17 ms, this 1.5 ms). Same
     * values: y is 0 exactly where x <= 0 and 6 exactly where x >= 6.
     */
    private static INDArray activationBackward(INDArray y, INDArray e, boolean relu6) {
        INDArray mask = ArrayPool.take(y.dataType(), y.shape());
        if (relu6) {
            Nd4j.exec(new ScalarReverseSubtraction(y, null, mask, 6.0));
            mask.muli(y);
        } else {
            mask.assign(y);
        }
        Nd4j.exec(new Step(mask, mask, 0.0));
        return mask.muli(e);
    }

    /**
     * BatchNorm backward with batch statistics (Ioffe and Szegedy 2015, section 3) from the kept xhat = (x - mean) / std:
     * dgamma = sum(eps * xhat), dbeta = sum(eps), dx = gamma / (N std) * (N eps - dbeta - xhat * dgamma), per channel (axis
     * 1); the running mean and variance get DL4J's "gradient" {@code (1 - decay) * (running - batch)} (biased batch variance).
     * xhat is overwritten (it becomes dx).
     */
    private INDArray batchNormBackward(Layer l, BatchNormalization b, int j, INDArray xhat, INDArray e) {
        long c = xhat.size(1);
        long count = xhat.length() / c;
        int[] dims = xhat.rank() == 4 ? new int[]{0, 2, 3} : new int[]{0};
        INDArray dBeta = e.sum(dims);
        INDArray dGamma = Nd4j.getExecutioner().exec(new Dot(e, xhat, null, false, false, dims));
        // dx = (gamma / std) * (eps - dbeta / N - xhat * dgamma / N)
        INDArray scale = l.getParam("gamma").reshape(-1).mul(batchInvStd[j]);
        INDArray dx = xhat;
        BatchStatistics.affine(dx, dGamma.div(-count), dBeta.div(-count), dx, 1);
        dx.addi(e);
        Nd4j.getExecutioner().exec(new BroadcastMulOp(dx, scale, dx, 1));
        gradViews[j].get("gamma").assign(dGamma.reshape(gradViews[j].get("gamma").shape()));
        gradViews[j].get("beta").assign(dBeta.reshape(gradViews[j].get("beta").shape()));
        double keep = 1 - b.getDecay();
        INDArray dMean = gradViews[j].get("mean");
        dMean.assign(l.getParam("mean").reshape(dMean.shape()).sub(batchMean[j].reshape(dMean.shape()))).muli(keep);
        INDArray dVar = gradViews[j].get("var");
        dVar.assign(l.getParam("var").reshape(dVar.shape()).sub(batchVar[j].reshape(dVar.shape()))).muli(keep);
        release(batchMean[j]);
        release(batchVar[j]);
        release(batchInvStd[j]);
        batchMean[j] = null;
        batchVar[j] = null;
        batchInvStd[j] = null;
        return dx;
    }

    /** Gives an array no one references any more back for reuse ({@link ArrayPool#release}). */
    static void release(INDArray a) {
        ArrayPool.release(a);
    }

    private static DynamicCustomOp.DynamicCustomOpsBuilder conv(String name, int[] kernel, int[] stride, int weightFormat) {
        // integer args: kernel, stride, padding, dilation, same mode, data format (0 NCHW), weight format
        return DynamicCustomOp.builder(name)
                .addIntegerArguments(kernel[0], kernel[1], stride[0], stride[1], 0, 0, 1, 1, 1, 0, weightFormat);
    }

    private static INDArray exec(DynamicCustomOp.DynamicCustomOpsBuilder b) {
        return Nd4j.exec(b.build())[0];
    }
}
