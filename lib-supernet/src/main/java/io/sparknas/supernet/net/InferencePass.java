package io.sparknas.supernet.net;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.impl.scalar.RectifiedLinear;
import org.nd4j.linalg.api.ops.impl.scalar.Relu6;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Inference-mode forward of a block's layers as ND4J custom ops called directly ({@code conv2d}, {@code depthwise_conv2d},
 * {@code batchnorm}: one native op each, reaching oneDNN), instead of DL4J's layer implementations (a 1x1 convolution as
 * im2col + matmul, BatchNorm as a dozen element-wise ops). Measured on one IBConv block (k5 e6, 7x7x20, batch 250):
 * 105 ms through DL4J's layers, 29 ms here. Same parameters, same function: the supernet's export tests compare it with a
 * plain DL4J ComputationGraph. Networks with a layer it does not know return null (the caller falls back to DL4J).
 */
final class InferencePass {

    private InferencePass() {
    }

    /** Whether every layer of {@code net} is one this pass implements. */
    static boolean supports(MultiLayerNetwork net) {
        for (int j = 0; j < net.getnLayers(); j++) {
            Object c = net.getLayer(j).conf().getLayer();
            boolean known = c instanceof ConvolutionLayer cl && cl.getConvolutionMode() == ConvolutionMode.Same && !cl.hasBias()
                    && cl.getDilation()[0] == 1
                    || c instanceof BatchNormalization b && b.getActivationFn() instanceof ActivationIdentity && !b.isLockGammaBeta()
                    || c instanceof ActivationLayer a && (a.getActivationFn() instanceof ActivationReLU6 || a.getActivationFn() instanceof ActivationReLU)
                    || c instanceof GlobalPoolingLayer g && g.getPoolingType() == PoolingType.AVG;
            if (!known) {
                return false;
            }
        }
        return true;
    }

    static INDArray forward(MultiLayerNetwork net, INDArray x) {
        return forward(net, x, null, null, false);
    }

    /**
     * The same forward on NHWC activations (and NHWC output when rank 4). oneDNN's convolutions run faster on NHWC than on
     * NCHW here: measured on a width-0.5 path (one thread, batch 250, BatchNorm folded), 775 images/s with NCHW blocks,
     * 1,069 with the whole path in NHWC.
     */
    static INDArray forwardNhwc(MultiLayerNetwork net, INDArray x) {
        return forward(net, x, null, null, true);
    }

    /** {@link #recalibrationForward} on NHWC activations. */
    static INDArray recalibrationForwardNhwc(MultiLayerNetwork net, INDArray x, INDArray[] meanSums, INDArray[] varSums) {
        return forward(net, x, meanSums, varSums, true);
    }

    /**
     * The same forward with BatchNorm in training mode (SPOS recalibration): each BatchNorm layer normalises with its input's
     * batch mean and biased variance (as DL4J's training forward does) and adds them to {@code meanSums[k]} /
     * {@code varSums[k]} for the k-th BatchNorm layer (null entries are set). Replaces DL4J's {@code feedForward(true)},
     * which keeps every activation and runs BatchNorm as element-wise ops: recalibration of a path took 4x its inference.
     */
    static INDArray recalibrationForward(MultiLayerNetwork net, INDArray x, INDArray[] meanSums, INDArray[] varSums) {
        return forward(net, x, meanSums, varSums, false);
    }

    private static INDArray forward(MultiLayerNetwork net, INDArray x, INDArray[] meanSums, INDArray[] varSums, boolean nhwc) {
        int bn = 0;
        INDArray h = x;
        for (int j = 0; j < net.getnLayers(); j++) {
            INDArray prev = h;
            Layer l = net.getLayer(j);
            Object c = l.conf().getLayer();
            Layer next = j + 1 < net.getnLayers() ? net.getLayer(j + 1) : null;
            boolean fold = meanSums == null && c instanceof ConvolutionLayer && next != null
                    && next.conf().getLayer() instanceof BatchNormalization;
            if (c instanceof DepthwiseConvolution2D d) {
                // DL4J's depthwise W is [kH, kW, in, multiplier]: weight format 0 of libnd4j's depthwise_conv2d
                h = fold ? foldedConv("depthwise_conv2d", h, l.getParam("W"), next, d.getKernelSize(), d.getStride(), 0, nhwc)
                        : conv("depthwise_conv2d", h, l.getParam("W"), null, d.getKernelSize(), d.getStride(), 0, nhwc);
            } else if (c instanceof ConvolutionLayer cl) {
                // DL4J's W is [out, in, kH, kW]: weight format 1 of libnd4j's conv2d
                h = fold ? foldedConv("conv2d", h, l.getParam("W"), next, cl.getKernelSize(), cl.getStride(), 1, nhwc)
                        : conv("conv2d", h, l.getParam("W"), null, cl.getKernelSize(), cl.getStride(), 1, nhwc);
            } else if (c instanceof BatchNormalization b) {
                int axis = nhwc && h.rank() == 4 ? 3 : 1;
                if (meanSums == null) {
                    DynamicCustomOp op = DynamicCustomOp.builder("batchnorm")
                            .addInputs(h, l.getParam("mean").reshape(-1), l.getParam("var").reshape(-1), l.getParam("gamma").reshape(-1),
                                    l.getParam("beta").reshape(-1))
                            .addFloatingPointArguments(b.getEps()).addIntegerArguments(1, 1, axis).build();
                    h = Nd4j.exec(op)[0];
                } else {
                    // batch statistics, normalisation and affine in place (BatchStatistics: 4x faster than var + batchnorm)
                    INDArray own = h == x ? h.dup() : h;
                    BatchStatistics st = BatchStatistics.normalise(own, axis, b.getEps());
                    meanSums[bn] = meanSums[bn] == null ? st.mean() : meanSums[bn].addi(st.mean());
                    varSums[bn] = varSums[bn] == null ? st.var() : varSums[bn].addi(st.var());
                    bn++;
                    BatchStatistics.affine(own, l.getParam("gamma").reshape(-1), l.getParam("beta").reshape(-1), own, axis);
                    if (meanSums[bn - 1] != st.mean()) {
                        TrainingPass.release(st.mean());
                    }
                    if (varSums[bn - 1] != st.var()) {
                        TrainingPass.release(st.var());
                    }
                    TrainingPass.release(st.invStd());
                    h = own;
                }
            } else if (c instanceof ActivationLayer a) {
                // in place (one op: relu then min was two passes), except on the caller's input
                INDArray y = h == x ? ArrayPool.take(h.dataType(), h.shape()) : h;
                if (a.getActivationFn() instanceof ActivationReLU6) {
                    Nd4j.exec(new Relu6(h, y, 0.0));
                } else {
                    Nd4j.exec(new RectifiedLinear(h, y, 0.0));
                }
                h = y;
            } else {
                h = nhwc ? h.mean(1, 2) : h.mean(2, 3);
            }
            if (fold) {
                j++;
            }
            // intermediate activations are freed at once, not when the GC gets to them (see TrainingPass#release)
            if (prev != h && prev != x) {
                TrainingPass.release(prev);
            }
        }
        return h;
    }

    /**
     * A convolution followed by an inference-mode BatchNorm as one convolution with bias: W' = W * s per output channel,
     * b' = beta - mean * s, s = gamma / sqrt(var + eps). Measured on the width-0.5 space (one thread, batch 250): the
     * 67 BatchNorm calls of a path were 25% of its inference time; folding them raised a path's inference from 457 to 775
     * images/s.
     */
    private static INDArray foldedConv(String name, INDArray x, INDArray w, Layer bnLayer, int[] kernel,
                                       int[] stride, int weightFormat, boolean nhwc) {
        double eps = ((BatchNormalization) bnLayer.conf().getLayer()).getEps();
        INDArray scale = bnLayer.getParam("gamma").reshape(-1).div(Transforms.sqrt(bnLayer.getParam("var").reshape(-1).add(eps), false));
        INDArray bias = bnLayer.getParam("beta").reshape(-1).sub(bnLayer.getParam("mean").reshape(-1).mul(scale));
        // output channels: dim 0 of conv2d's [out, in, kH, kW], dim 2 of depthwise [kH, kW, in, 1]
        long[] shape = weightFormat == 1 ? new long[]{scale.length(), 1, 1, 1} : new long[]{1, 1, scale.length(), 1};
        INDArray folded = w.mul(scale.reshape(shape));
        INDArray out = conv(name, x, folded, bias, kernel, stride, weightFormat, nhwc);
        TrainingPass.release(folded);
        return out;
    }

    private static INDArray conv(String name, INDArray x, INDArray w, INDArray bias, int[] kernel, int[] stride, int weightFormat,
                                 boolean nhwc) {
        DynamicCustomOp.DynamicCustomOpsBuilder b = DynamicCustomOp.builder(name);
        b = bias == null ? b.addInputs(x, w) : b.addInputs(x, w, bias);
        // integer args: kernel, stride, padding, dilation, same mode, data format (0 NCHW, 1 NHWC), weight format
        DynamicCustomOp op = b.addIntegerArguments(kernel[0], kernel[1], stride[0], stride[1], 0, 0, 1, 1, 1, nhwc ? 1 : 0, weightFormat)
                .addOutputs(convOutput(x, w, stride, weightFormat, nhwc)).build();
        return Nd4j.exec(op)[0];
    }

    /**
     * The output array of a same-mode convolution from the pool: [N, C, H', W'] (NHWC: [N, H', W', C]), H' = ceil(H / s);
     * C is dim 0 of conv2d's [out, in, kH, kW] weights, in x multiplier of depthwise [kH, kW, in, multiplier].
     */
    static INDArray convOutput(INDArray x, INDArray w, int[] stride, int weightFormat, boolean nhwc) {
        long channels = weightFormat == 1 ? w.size(0) : w.size(2) * w.size(3);
        long h = (x.size(nhwc ? 1 : 2) + stride[0] - 1) / stride[0];
        long wd = (x.size(nhwc ? 2 : 3) + stride[1] - 1) / stride[1];
        return nhwc ? ArrayPool.take(x.dataType(), x.size(0), h, wd, channels) : ArrayPool.take(x.dataType(), x.size(0), channels, h, wd);
    }
}
