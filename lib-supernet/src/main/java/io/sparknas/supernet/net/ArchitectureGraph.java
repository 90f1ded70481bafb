package io.sparknas.supernet.net;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One architecture of a {@link SearchSpace} as a plain DL4J {@link ComputationGraph}: the supernet's layer configurations
 * ({@link LayerConfigs}) chained per op, residual adds as {@link ElementWiseVertex}, shuffle units as channel splits and a
 * {@link MergeVertex}, several ops of one layer (DSO-NAS Eq. 4) summed with the layer's input added once. Retrain trains it
 * from scratch ({@link #standalone}); {@link Supernet#export} fills it with the supernet's weights.
 */
public final class ArchitectureGraph {

    private ArchitectureGraph() {
    }

    /**
     * A stand-alone network of {@code arch}, freshly initialised from {@code seed}, for training from scratch (retraining
     * found architectures): the same layer configurations and graph as {@link Supernet#export}, its own random weights, Nesterov SGD
     * with {@code opt}'s peak learning rate and weight decay (the caller schedules the learning rate per epoch).
     */
    public static ComputationGraph standalone(SearchSpace space, Arch arch, OptimizerSettings opt, long seed) {
        return standalone(space, arch, opt, seed, WorkspaceMode.ENABLED);
    }

    /**
     * {@link #standalone} with DL4J workspaces as given. Retraining uses {@link WorkspaceMode#ENABLED}: activations and
     * gradients reuse per-thread workspaces. With {@link WorkspaceMode#NONE} every activation of every step is a fresh
     * native array that ND4J frees only after a garbage collection finds it: measured on the tiny preset, 7.3 GB resident
     * after one epoch and 61 images/s, against 1.8 GB and 93-105 images/s with workspaces (docs/performance.md).
     */
    static ComputationGraph standalone(SearchSpace space, Arch arch, OptimizerSettings opt, long seed, WorkspaceMode workspaces) {
        arch.requireIn(space);
        ComputationGraph cg = new ComputationGraph(configuration(space, arch, opt, seed, new LinkedHashMap<>(), DataType.FLOAT, workspaces));
        cg.init();
        return cg;
    }

    /**
     * The graph of {@code arch}; {@code copy} receives, per graph layer, the supernet block layer its weights come from
     * (block#index, for {@link Supernet#export}). A null {@code seed} leaves DL4J's default.
     */
    static ComputationGraphConfiguration configuration(SearchSpace space, Arch arch, OptimizerSettings opt, Long seed, Map<String, String> copy,
                                                       DataType dataType, WorkspaceMode workspaces) {
        NeuralNetConfiguration.Builder nb = new NeuralNetConfiguration.Builder();
        if (seed != null) {
            nb.seed(seed);
        }
        ComputationGraphConfiguration.GraphBuilder g = nb
                .dataType(dataType).weightInit(WeightInit.RELU)
                .updater(new Nesterovs(new StepSchedule(opt), opt.momentum())).weightDecay(opt.weightDecay(), true)
                .trainingWorkspaceMode(workspaces).inferenceWorkspaceMode(workspaces)
                .graphBuilder().addInputs("in")
                .setInputTypes(InputType.convolutional(space.resolution(), space.resolution(), space.inChannels()));
        String last = chain(g, "stem", LayerConfigs.stem(space), "in", copy);
        for (int i = 0; i < arch.layers(); i++) {
            List<String> outs = new ArrayList<>();
            for (Op op : arch.ops(i)) {
                if (op instanceof Op.Identity) {
                    outs.add(last);
                    continue;
                }
                String name = "L" + i + "_" + op.code();
                Layer l = space.layer(i);
                if (Op.isShuffleUnit(op)) {
                    String passed;
                    String branchIn;
                    if (l.stride() == 1) {
                        g.addVertex(name + "_pass", new ChannelParityVertex(0), last);
                        g.addVertex(name + "_in", new ChannelParityVertex(1), last);
                        passed = name + "_pass";
                        branchIn = name + "_in";
                    } else {
                        passed = chain(g, name + "_proj", LayerConfigs.projection(l, op), last, copy);
                        branchIn = last;
                    }
                    String branch = chain(g, name, LayerConfigs.op(l, op), branchIn, copy);
                    g.addVertex(name + "_cat", new MergeVertex(), passed, branch);
                    outs.add(name + "_cat");
                    continue;
                }
                String o = chain(g, name, LayerConfigs.op(l, op), last, copy);
                if (op instanceof Op.IBConv && l.keepsShape() && arch.ops(i).size() == 1) {
                    g.addVertex(name + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), o, last);
                    o = name + "_add";
                }
                outs.add(o);
            }
            if (outs.size() > 1) {
                // several ops (DSO-NAS Eq. 4): their branches summed, the layer's input added once where it keeps its shape
                if (space.layer(i).keepsShape() && arch.ops(i).stream().allMatch(op -> op instanceof Op.IBConv)) {
                    outs.add(last);
                }
                g.addVertex("L" + i + "_sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), outs.toArray(String[]::new));
                last = "L" + i + "_sum";
            } else if (outs.size() == 1) {
                last = outs.get(0);
            } else if (!space.layer(i).keepsShape()) {
                throw new IllegalArgumentException("layer " + i + " of " + arch.id() + " changes the feature map's shape and holds no op");
            }
        }
        last = chain(g, "head", LayerConfigs.head(space), last, copy);
        g.addLayer("classifier", LayerConfigs.classifier(space).clone(), last);
        g.setOutputs("classifier");
        return g.build();
    }

    /** Adds a block's layers in sequence; records (graph layer -> block#index) for copying weights. */
    private static String chain(ComputationGraphConfiguration.GraphBuilder g, String name, List<org.deeplearning4j.nn.conf.layers.Layer> layers,
                                String input, Map<String, String> copy) {
        String blockKey = name.startsWith("L") ? name.replace('_', '.') : name;
        String prev = input;
        for (int j = 0; j < layers.size(); j++) {
            String n = name + "_" + j;
            g.addLayer(n, layers.get(j).clone(), prev);
            copy.put(n, blockKey + "#" + j);
            prev = n;
        }
        return prev;
    }
}
