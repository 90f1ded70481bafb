package io.sparknas.supernet.net;

import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Nesterovs;

/** The classifier (dense softmax, cross-entropy) as a one-layer DL4J network: {@code calculateGradients} gives its gradient and dLoss/dInput. */
public final class Dl4jClassifier implements TrainablePart {

    private final MultiLayerNetwork net;
    private Gradient gradient;

    public Dl4jClassifier(Layer output, int features, OptimizerSettings opt, long seed) {
        this(output, features, opt, seed, DataType.FLOAT);
    }

    /** A classifier computing in {@code dataType} (DOUBLE for equivalence tests, see {@link Supernet}). */
    Dl4jClassifier(Layer output, int features, OptimizerSettings opt, long seed, DataType dataType) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
                .seed(seed).dataType(dataType).weightInit(WeightInit.XAVIER)
                .updater(new Nesterovs(new StepSchedule(opt), opt.momentum()))
                .weightDecay(opt.weightDecay(), true)
                .trainingWorkspaceMode(WorkspaceMode.NONE).inferenceWorkspaceMode(WorkspaceMode.NONE)
                .list().layer(output.clone()).setInputType(InputType.feedForward(features)).build();
        net = new MultiLayerNetwork(conf);
        net.init();
        net.getUpdater(true);
    }

    @Override
    public String key() {
        return "classifier";
    }

    public MultiLayerNetwork network() {
        return net;
    }

    /** Class probabilities, [batch, classes]. */
    public INDArray probabilities(INDArray features) {
        return net.output(features, false);
    }

    /** Computes and keeps the parameter gradient for the labels; returns dLoss/dFeatures. */
    public INDArray backward(INDArray features, INDArray labels) {
        Pair<Gradient, INDArray> p = net.calculateGradients(features, labels, null, null);
        gradient = p.getFirst();
        return p.getSecond();
    }

    public Gradient gradient() {
        return gradient;
    }

    public void update(int iteration, int epoch, int batchSize) {
        Dl4jBlock.applyUpdate(net, gradient, iteration, epoch, batchSize);
        gradient = null;
    }

    @Override
    public INDArray params() {
        return net.params();
    }

    @Override
    public INDArray updaterState() {
        return Dl4jBlock.updaterStateOf(net);
    }
}
