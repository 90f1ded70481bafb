package io.sparknas.supernet.net;

import java.util.ArrayList;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * Measures a {@link LatencyProbe}: builds the part with the same layer configurations the supernet and the exported graph
 * use, runs inference-mode forward passes on random input, and reports the median (and 90th percentile) wall time of
 * {@code repeats} passes after {@code warmup} unmeasured ones. Never trains.
 */
public final class LatencyProfiler {

    private final int batchSize;
    private final int warmup;
    private final int repeats;
    private final long seed;

    /**
     * @param batchSize images per forward pass
     * @param warmup    unmeasured passes first (JIT, oneDNN primitive caches)
     * @param repeats   measured passes
     */
    public LatencyProfiler(int batchSize, int warmup, int repeats, long seed) {
        if (batchSize < 1 || warmup < 0 || repeats < 1) {
            throw new IllegalArgumentException("latency profiler needs batch >= 1, warmup >= 0, repeats >= 1: " + batchSize + ", " + warmup
                    + ", " + repeats);
        }
        this.batchSize = batchSize;
        this.warmup = warmup;
        this.repeats = repeats;
        this.seed = seed;
    }

    /** Median and 90th-percentile milliseconds of one forward pass of the probe. */
    public record Timing(LatencyProbe probe, double medianMs, double p90Ms, int repeats) {
        public LatencyTable.Measurement measurement() {
            return new LatencyTable.Measurement(probe, medianMs);
        }
    }

    /** Measures the probe's networks (a ShuffleNetV2 unit's branch and, at stride 2, its projection) run one after the other. */
    public Timing measure(LatencyProbe p) {
        List<MultiLayerNetwork> nets = networks(p);
        List<INDArray> inputs = new ArrayList<>();
        for (int j = 0; j < nets.size(); j++) {
            long c = isSplitUnit(p) ? p.inChannels() / 2 : p.inChannels();
            inputs.add(p.part().equals("classifier") ? Nd4j.rand(DataType.FLOAT, batchSize, p.inChannels())
                    : Nd4j.rand(DataType.FLOAT, batchSize, c, p.inHeight(), p.inHeight()));
        }
        for (int i = 0; i < warmup; i++) {
            for (int j = 0; j < nets.size(); j++) {
                nets.get(j).output(inputs.get(j), false);
            }
        }
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            for (int j = 0; j < nets.size(); j++) {
                INDArray out = nets.get(j).output(inputs.get(j), false);
                if (out.length() == 0) {
                    throw new IllegalStateException("empty output of " + p.describe());
                }
            }
            Nd4j.getExecutioner().commit();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return new Timing(p, quantile(ms, 0.5), quantile(ms, 0.9), repeats);
    }

    static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** A ShuffleNetV2 unit at stride 1: only half of its input enters the branch. */
    private static boolean isSplitUnit(LatencyProbe p) {
        return p.part().equals("op") && Op.isShuffleUnit(Op.parse(p.op())) && p.stride() == 1;
    }

    /** The probe's part as stand-alone networks: one, or a ShuffleNetV2 unit's branch and projection at stride 2. */
    List<MultiLayerNetwork> networks(LatencyProbe p) {
        MultiLayerNetwork main = network(p);
        if (p.part().equals("op") && Op.isShuffleUnit(Op.parse(p.op())) && p.stride() == 2) {
            Op op = Op.parse(p.op());
            Layer l = new Layer(0, 0, p.inChannels(), p.outChannels(), p.stride(), p.inHeight(), List.of(op));
            return List.of(main, build(LayerConfigs.projection(l, op), InputType.convolutional(p.inHeight(), p.inHeight(), p.inChannels())));
        }
        return List.of(main);
    }

    /** The probe's part (a ShuffleNetV2 unit's branch) as a stand-alone network (the layer configurations of {@link LayerConfigs}). */
    MultiLayerNetwork network(LatencyProbe p) {
        List<org.deeplearning4j.nn.conf.layers.Layer> layers;
        InputType in;
        switch (p.part()) {
            case "stem" -> {
                layers = LayerConfigs.stem(p.inChannels(), p.outChannels(), p.stride());
                in = InputType.convolutional(p.inHeight(), p.inHeight(), p.inChannels());
            }
            case "op" -> {
                Op op = Op.parse(p.op());
                if (op instanceof Op.Identity) {
                    throw new IllegalArgumentException("identity has no latency to measure");
                }
                Layer l = new Layer(0, 0, p.inChannels(), p.outChannels(), p.stride(), p.inHeight(), List.of(op));
                layers = LayerConfigs.op(l, op);
                in = InputType.convolutional(p.inHeight(), p.inHeight(), Op.isShuffleUnit(op) ? l.shuffleBranchIn() : p.inChannels());
            }
            case "head" -> {
                layers = LayerConfigs.head(p.inChannels(), p.outChannels());
                in = InputType.convolutional(p.inHeight(), p.inHeight(), p.inChannels());
            }
            case "classifier" -> {
                layers = List.of(LayerConfigs.classifier(p.inChannels(), p.outChannels()));
                in = InputType.feedForward(p.inChannels());
            }
            default -> throw new IllegalArgumentException(p.part());
        }
        return build(layers, in);
    }

    private MultiLayerNetwork build(List<org.deeplearning4j.nn.conf.layers.Layer> layers, InputType in) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(seed).dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU).trainingWorkspaceMode(WorkspaceMode.ENABLED).inferenceWorkspaceMode(WorkspaceMode.ENABLED).list();
        layers.forEach(l -> b.layer(l.clone()));
        MultiLayerConfiguration conf = b.setInputType(in).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}
