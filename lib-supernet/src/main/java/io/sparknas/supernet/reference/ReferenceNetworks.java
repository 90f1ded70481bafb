package io.sparknas.supernet.reference;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.List;
import java.util.Set;

/**
 * The reference networks of the easiness stage (DA-NAS section 4: class easiness is voted by "popular manually designed
 * networks" of different families, Observation 3): small members of three families, sized for the run's resolution by the
 * width multiplier. {@code resnet}: a stem and three stages of one basic residual block (He et al. 2016), channels 16/32/64;
 * {@code vgg}: three stages of two 3x3 convolutions and max pooling (Simonyan and Zisserman 2015), 16/32/64; {@code mobilenet}:
 * depthwise-separable convolutions (Howard et al. 2017), 32/64/64/128. Each: BatchNorm after every convolution, global
 * average pooling, softmax. Nesterov SGD (the trainer sets the learning rate per epoch), DL4J workspaces.
 */
public final class ReferenceNetworks {

    public static final Set<String> FAMILIES = Set.of("resnet", "vgg", "mobilenet");

    private ReferenceNetworks() {
    }

    public static ComputationGraph build(String family, int resolution, int channels, int classes, double width, double learningRate,
                                         double momentum, double weightDecay, long seed) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU).updater(new Nesterovs(learningRate, momentum)).weightDecay(weightDecay, true)
                .trainingWorkspaceMode(WorkspaceMode.ENABLED).inferenceWorkspaceMode(WorkspaceMode.ENABLED)
                .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(resolution, resolution, channels));
        String last = switch (family) {
            case "resnet" -> resnet(g, width);
            case "vgg" -> vgg(g, width);
            case "mobilenet" -> mobilenet(g, width);
            default -> throw new IllegalArgumentException("unknown reference network " + family + " (" + FAMILIES + ")");
        };
        g.addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes).activation(Activation.SOFTMAX).build(), "pool");
        g.setOutputs("out");
        ComputationGraph cg = new ComputationGraph(g.build());
        cg.init();
        return cg;
    }

    private static int c(int base, double width) {
        return Math.max(8, (int) Math.round(base * width));
    }

    /** conv (no bias) -> BatchNorm -> ReLU unless {@code relu} is false; returns the last vertex. */
    private static String conv(ComputationGraphConfiguration.GraphBuilder g, String name, String in, int k, int stride, int out, boolean relu) {
        g.addLayer(name, new ConvolutionLayer.Builder(k, k).stride(stride, stride).nOut(out).convolutionMode(ConvolutionMode.Same)
                .hasBias(false).activation(Activation.IDENTITY).build(), in);
        g.addLayer(name + "_bn", new BatchNormalization.Builder().useLogStd(false).build(), name);
        if (!relu) {
            return name + "_bn";
        }
        g.addLayer(name + "_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), name + "_bn");
        return name + "_relu";
    }

    private static String resnet(ComputationGraphConfiguration.GraphBuilder g, double w) {
        String last = conv(g, "stem", "in", 3, 1, c(16, w), true);
        int in = c(16, w);
        int block = 0;
        for (int[] st : List.of(new int[]{16, 1}, new int[]{32, 2}, new int[]{64, 2})) {
            int out = c(st[0], w);
            String n = "b" + block++;
            String a = conv(g, n + "_a", last, 3, st[1], out, true);
            String b = conv(g, n + "_b", a, 3, 1, out, false);
            String shortcut = st[1] == 1 && in == out ? last : conv(g, n + "_proj", last, 1, st[1], out, false);
            g.addVertex(n + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), b, shortcut);
            g.addLayer(n + "_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), n + "_add");
            last = n + "_relu";
            in = out;
        }
        return last;
    }

    private static String vgg(ComputationGraphConfiguration.GraphBuilder g, double w) {
        String last = "in";
        int stage = 0;
        for (int base : new int[]{16, 32, 64}) {
            last = conv(g, "s" + stage + "_a", last, 3, 1, c(base, w), true);
            last = conv(g, "s" + stage + "_b", last, 3, 1, c(base, w), true);
            if (stage < 2) {
                g.addLayer("s" + stage + "_pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .convolutionMode(ConvolutionMode.Same).build(), last);
                last = "s" + stage + "_pool";
            }
            stage++;
        }
        return last;
    }

    private static String mobilenet(ComputationGraphConfiguration.GraphBuilder g, double w) {
        String last = conv(g, "stem", "in", 3, 1, c(16, w), true);
        int i = 0;
        for (int[] b : List.of(new int[]{32, 1}, new int[]{64, 2}, new int[]{64, 1}, new int[]{128, 2})) {
            String n = "dw" + i++;
            g.addLayer(n, new DepthwiseConvolution2D.Builder(3, 3).stride(b[1], b[1]).depthMultiplier(1).convolutionMode(ConvolutionMode.Same)
                    .hasBias(false).activation(Activation.IDENTITY).build(), last);
            g.addLayer(n + "_bn", new BatchNormalization.Builder().useLogStd(false).build(), n);
            g.addLayer(n + "_relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), n + "_bn");
            last = conv(g, n + "_pw", n + "_relu", 1, 1, c(b[0], w), true);
        }
        return last;
    }
}
