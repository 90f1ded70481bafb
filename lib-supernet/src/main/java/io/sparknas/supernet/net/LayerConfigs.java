package io.sparknas.supernet.net;

import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;

/**
 * The DL4J layer configurations of every part of the network, shared by the supernet's blocks and the exported
 * stand-alone graph so that both compute exactly the same function.
 */
public final class LayerConfigs {

    /** BatchNorm momentum as DL4J's decay (PyTorch momentum 0.1). */
    public static final double BN_DECAY = 0.9;
    public static final double BN_EPS = 1e-5;

    private LayerConfigs() {
    }

    /** Stem: 3x3 conv with the space's stem stride, BN, ReLU6. */
    public static List<org.deeplearning4j.nn.conf.layers.Layer> stem(SearchSpace s) {
        return stem(s.inChannels(), s.stemChannels(), s.stemStride());
    }

    static List<org.deeplearning4j.nn.conf.layers.Layer> stem(int inChannels, int stemChannels, int stride) {
        List<org.deeplearning4j.nn.conf.layers.Layer> out = new ArrayList<>(List.of(conv(inChannels, stemChannels, 3, stride)));
        bn(out, stemChannels, Activation.RELU6);
        return out;
    }

    /** An op at a layer (identity has no layers). */
    public static List<org.deeplearning4j.nn.conf.layers.Layer> op(Layer l, Op op) {
        List<org.deeplearning4j.nn.conf.layers.Layer> out = new ArrayList<>();
        if (op instanceof Op.IBConv ib) {
            int mid = l.inChannels() * ib.expansion();
            if (ib.expansion() != 1) {
                out.add(conv(l.inChannels(), mid, 1, 1));
                bn(out, mid, Activation.RELU6);
            }
            out.add(depthwise(mid, ib.kernel(), l.stride()));
            bn(out, mid, Activation.RELU6);
            out.add(conv(mid, l.outChannels(), 1, 1));
            bn(out, l.outChannels(), Activation.IDENTITY);
        } else if (op instanceof Op.Shuffle sh) {
            int in = l.shuffleBranchIn();
            int mid = l.shuffleMid();
            out.add(conv(in, mid, 1, 1));
            bn(out, mid, Activation.RELU);
            out.add(depthwise(mid, sh.kernel(), l.stride()));
            bn(out, mid, Activation.IDENTITY);
            out.add(conv(mid, l.shuffleBranchOut(), 1, 1));
            bn(out, l.shuffleBranchOut(), Activation.RELU);
        } else if (op instanceof Op.Xception x) {
            int c = l.shuffleBranchIn();
            int[] widths = {l.shuffleMid(), l.shuffleMid(), l.shuffleBranchOut()};
            for (int i = 0; i < 3; i++) {
                out.add(depthwise(c, x.kernel(), i == 0 ? l.stride() : 1));
                bn(out, c, Activation.IDENTITY);
                out.add(conv(c, widths[i], 1, 1));
                bn(out, widths[i], Activation.RELU);
                c = widths[i];
            }
        }
        return out;
    }

    /** The projection branch of a ShuffleNetV2 unit at stride 2: k x k depthwise stride 2, BN; 1x1 conv, BN, ReLU. */
    public static List<org.deeplearning4j.nn.conf.layers.Layer> projection(Layer l, Op op) {
        if (!Op.isShuffleUnit(op) || l.stride() != 2) {
            throw new IllegalArgumentException(op.name() + " at layer " + l.index() + " has no projection branch");
        }
        int k = op instanceof Op.Shuffle s ? s.kernel() : ((Op.Xception) op).kernel();
        int c = l.inChannels();
        List<org.deeplearning4j.nn.conf.layers.Layer> out = new ArrayList<>(List.of(depthwise(c, k, 2)));
        bn(out, c, Activation.IDENTITY);
        out.add(conv(c, c, 1, 1));
        bn(out, c, Activation.RELU);
        return out;
    }

    static DepthwiseConvolution2D depthwise(int channels, int kernel, int stride) {
        return new DepthwiseConvolution2D.Builder(kernel, kernel).stride(stride, stride).nIn(channels).nOut(channels)
                .depthMultiplier(1).hasBias(false).convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build();
    }

    /** Head: 1x1 conv, BN, ReLU6, global average pooling. */
    public static List<org.deeplearning4j.nn.conf.layers.Layer> head(SearchSpace s) {
        return head(s.lastChannels(), s.headChannels());
    }

    static List<org.deeplearning4j.nn.conf.layers.Layer> head(int lastChannels, int headChannels) {
        List<org.deeplearning4j.nn.conf.layers.Layer> out = new ArrayList<>(List.of(conv(lastChannels, headChannels, 1, 1)));
        bn(out, headChannels, Activation.RELU6);
        out.add(new GlobalPoolingLayer.Builder(PoolingType.AVG).build());
        return out;
    }

    /** Classifier: dense softmax with cross-entropy. */
    public static org.deeplearning4j.nn.conf.layers.Layer classifier(SearchSpace s) {
        return classifier(s.headChannels(), s.classes());
    }

    static org.deeplearning4j.nn.conf.layers.Layer classifier(int features, int classes) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(features).nOut(classes)
                .activation(Activation.SOFTMAX).build();
    }

    static ConvolutionLayer conv(int in, int out, int k, int stride) {
        return new ConvolutionLayer.Builder(k, k).stride(stride, stride).nIn(in).nOut(out).hasBias(false)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build();
    }

    /**
     * BatchNorm followed by {@code activation} as its own {@link ActivationLayer}: DL4J M2.1's BatchNormalization layer
     * ignores the activation set on it (its output stays linear, in training and inference alike; measured: a BN "with ReLU6"
     * returned values down to -4.8), so the nonlinearity must be a separate layer.
     */
    static void bn(List<org.deeplearning4j.nn.conf.layers.Layer> out, int c, Activation activation) {
        out.add(new BatchNormalization.Builder().nIn(c).nOut(c).decay(BN_DECAY).eps(BN_EPS).useLogStd(false).activation(Activation.IDENTITY).build());
        if (activation != Activation.IDENTITY) {
            out.add(new ActivationLayer.Builder().activation(activation).build());
        }
    }
}
