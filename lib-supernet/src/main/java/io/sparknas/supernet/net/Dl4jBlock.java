package io.sparknas.supernet.net;

import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link CandidateBlock} as one DL4J {@link MultiLayerNetwork} without an output layer. Training runs through
 * {@link TrainingPass} (ND4J custom ops, gradients into the network's own gradient view) and inference through
 * {@link InferencePass} when every layer is one they know; otherwise, or with {@value #DL4J_TRAINING_PROPERTY}, through the
 * calls that PLATFORM-NOTES verified: {@code feedForward(true, false)}, {@code backpropGradient(eps, noWorkspaces)}, the block's own
 * updater, then {@code params().subi(gradient)} (which also moves BatchNorm's running statistics, whose "gradient" is their update).
 */
public final class Dl4jBlock implements CandidateBlock {

    /**
     * System property: {@code true} trains through DL4J's layer implementations instead of the custom-op {@link TrainingPass}
     * (for comparison and benchmarks; same function, same gradients).
     */
    public static final String DL4J_TRAINING_PROPERTY = "nas.supernet.dl4j-layers";

    private final String key;
    private final MultiLayerNetwork net;
    private final int[] bnLayers;
    private final boolean fastInference;
    /** Custom-op training pass when every layer is supported (null: DL4J's layers). */
    private final TrainingPass fastTraining;
    private Gradient gradient;
    private INDArray[] recalMean;
    private INDArray[] recalVar;
    private int recalBatches;

    /**
     * @param layers    the block's layers (no output layer), e.g. from {@link LayerConfigs}
     * @param inputType shape of the block's input
     */
    public Dl4jBlock(String key, List<Layer> layers, InputType inputType, OptimizerSettings opt, long seed) {
        this(key, layers, inputType, opt, seed, DataType.FLOAT);
    }

    /** A block computing in {@code dataType} (DOUBLE for equivalence tests, see {@link Supernet}). */
    Dl4jBlock(String key, List<Layer> layers, InputType inputType, OptimizerSettings opt, long seed,
              DataType dataType) {
        this.key = key;
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(dataType)
                .weightInit(WeightInit.RELU)
                .updater(new Nesterovs(new StepSchedule(opt), opt.momentum()))
                .weightDecay(opt.weightDecay(), true)
                .trainingWorkspaceMode(WorkspaceMode.NONE)
                .inferenceWorkspaceMode(WorkspaceMode.NONE)
                .list();
        for (Layer l : layers) {
            b.layer(l.clone());
        }
        MultiLayerConfiguration conf = b.setInputType(inputType).build();
        this.net = new MultiLayerNetwork(conf);
        net.init();
        List<Integer> bn = new ArrayList<>();
        for (int i = 0; i < net.getnLayers(); i++) {
            if (net.getLayer(i) instanceof BatchNormalization) {
                bn.add(i);
            }
        }
        this.bnLayers = bn.stream().mapToInt(Integer::intValue).toArray();
        this.fastInference = InferencePass.supports(net);
        this.fastTraining = fastInference && !Boolean.getBoolean(DL4J_TRAINING_PROPERTY) ? new TrainingPass(net) : null;
        net.getUpdater(true);
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public void fixBatchNormScale() {
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                l.getParam("gamma").assign(1);
            }
        }
    }

    /** The underlying network (for tests and export). */
    public MultiLayerNetwork network() {
        return net;
    }

    @Override
    public INDArray forward(INDArray x, boolean train) {
        if (train && fastTraining != null) {
            return fastTraining.forward(x);
        }
        if (train) {
            net.setInput(x);
            List<INDArray> acts = net.feedForward(true, false);
            return acts.get(acts.size() - 1);
        }
        return fastInference ? InferencePass.forward(net, x) : net.output(x, false);
    }

    @Override
    public INDArray inferNhwc(INDArray x) {
        return fastInference ? InferencePass.forwardNhwc(net, x) : CandidateBlock.super.inferNhwc(x);
    }

    @Override
    public INDArray recalibrationForwardNhwc(INDArray x) {
        if (!fastInference) {
            return CandidateBlock.super.recalibrationForwardNhwc(x);
        }
        recalBatches++;
        return InferencePass.recalibrationForwardNhwc(net, x, recalMean, recalVar);
    }

    @Override
    public INDArray backward(INDArray eps) {
        Pair<Gradient, INDArray> p = fastTraining != null ? fastTraining.backward(eps)
                : net.backpropGradient(eps, LayerWorkspaceMgr.noWorkspaces());
        gradient = p.getFirst();
        return p.getSecond();
    }

    /** The parameter gradient of the last {@link #backward}, keyed {@code <layer>_<param>} (for tests). */
    public Gradient gradient() {
        return gradient;
    }

    @Override
    public void update(int iteration, int epoch, int batchSize) {
        if (gradient == null) {
            throw new IllegalStateException("update without backward on block " + key);
        }
        applyUpdate(net, gradient, iteration, epoch, batchSize);
        gradient = null;
    }

    /**
     * The verified update sequence of a DL4J network driven by hand: its updater turns the gradient of the summed loss into
     * the step in place (dividing by the batch size), then the step is subtracted from the parameters.
     */
    static void applyUpdate(MultiLayerNetwork net, Gradient gradient, int iteration, int epoch, int batchSize) {
        Updater u = net.getUpdater();
        u.update(net, gradient, iteration, epoch, batchSize, LayerWorkspaceMgr.noWorkspaces());
        net.params().subi(gradient.gradient());
    }

    /** A network's flat updater state, or an empty array when its updater keeps none. */
    static INDArray updaterStateOf(MultiLayerNetwork net) {
        INDArray s = net.getUpdater().getStateViewArray();
        return s == null ? Nd4j.empty(DataType.FLOAT) : s;
    }

    @Override
    public INDArray params() {
        return net.params();
    }

    @Override
    public INDArray updaterState() {
        return updaterStateOf(net);
    }

    @Override
    public void beginRecalibration() {
        recalMean = new INDArray[bnLayers.length];
        recalVar = new INDArray[bnLayers.length];
        recalBatches = 0;
    }

    @Override
    public INDArray recalibrationForward(INDArray x) {
        if (fastInference) {
            recalBatches++;
            return InferencePass.recalibrationForward(net, x, recalMean, recalVar);
        }
        net.setInput(x);
        List<INDArray> acts = net.feedForward(true, true);
        for (int j = 0; j < bnLayers.length; j++) {
            INDArray in = acts.get(bnLayers[j]);
            int[] dims = in.rank() == 4 ? new int[]{0, 2, 3} : new int[]{0};
            INDArray mean = in.mean(dims);
            INDArray var = in.var(false, dims);
            recalMean[j] = recalMean[j] == null ? mean : recalMean[j].addi(mean);
            recalVar[j] = recalVar[j] == null ? var : recalVar[j].addi(var);
        }
        recalBatches++;
        return acts.get(acts.size() - 1);
    }

    @Override
    public void endRecalibration() {
        if (recalBatches == 0) {
            throw new IllegalStateException("recalibration of block " + key + " saw no batch");
        }
        for (int j = 0; j < bnLayers.length; j++) {
            org.deeplearning4j.nn.api.Layer l = net.getLayer(bnLayers[j]);
            l.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).assign(recalMean[j].divi(recalBatches).reshape(1, -1));
            l.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).assign(recalVar[j].divi(recalBatches).reshape(1, -1));
        }
        recalMean = null;
        recalVar = null;
    }

    @Override
    public float[] recordedStatistics() {
        if (recalMean == null) {
            throw new IllegalStateException("block " + key + " is not recalibrating");
        }
        int n = 0;
        for (int j = 0; j < bnLayers.length; j++) {
            if (recalMean[j] == null) {
                throw new IllegalStateException("recalibration of block " + key + " saw no batch");
            }
            n += 2 * (int) recalMean[j].length();
        }
        float[] out = new float[n];
        int at = 0;
        for (int j = 0; j < bnLayers.length; j++) {
            for (INDArray a : new INDArray[]{recalMean[j], recalVar[j]}) {
                float[] v = a.dup('c').reshape(a.length()).toFloatVector();
                System.arraycopy(v, 0, out, at, v.length);
                at += v.length;
            }
        }
        return out;
    }

    @Override
    public void endRecalibration(float[] sums, int batches) {
        if (batches < 1) {
            throw new IllegalArgumentException("recalibration of block " + key + " needs at least one batch");
        }
        int at = 0;
        for (int j = 0; j < bnLayers.length; j++) {
            org.deeplearning4j.nn.api.Layer l = net.getLayer(bnLayers[j]);
            INDArray mean = l.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN);
            INDArray var = l.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR);
            int c = (int) mean.length();
            if (at + 2 * c > sums.length) {
                throw new IllegalArgumentException("block " + key + ": " + sums.length + " statistics given, more needed");
            }
            float[] m = new float[c];
            float[] v = new float[c];
            for (int i = 0; i < c; i++) {
                m[i] = sums[at + i] / batches;
                v[i] = sums[at + c + i] / batches;
            }
            mean.assign(Nd4j.create(m, mean.shape(), mean.ordering()));
            var.assign(Nd4j.create(v, var.shape(), var.ordering()));
            at += 2 * c;
        }
        if (at != sums.length) {
            throw new IllegalArgumentException("block " + key + ": " + sums.length + " statistics given, " + at + " expected");
        }
        recalMean = null;
        recalVar = null;
    }
}
