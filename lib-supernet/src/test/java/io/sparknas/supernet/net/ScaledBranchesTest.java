package io.sparknas.supernet.net;

import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import java.util.Arrays;
import io.sparknas.supernet.step.LayerSum;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DSO-NAS's layer form (Zhang et al., Eq. 4: {@code O_b = sum_i lambda_i h_(b,i) + O_(b-1)}) in the weighted step, and
 * multi-op layers in inference, export and retraining ({@code sum_i B_i(x) + x}), against the formula written out by hand
 * from the supernet's own blocks, in double precision, on real Fashion-MNIST batches.
 */
class ScaledBranchesTest {

    private static SearchSpace space;

    @BeforeAll
    static void setUp() {
        SupernetTest.setUp();
        space = SupernetTest.space;
    }

    /** Every layer's inverted-bottleneck ops (DSO-NAS weights branches; identity is the shortcut). */
    private static Arch branches() {
        List<List<Op>> ops = new ArrayList<>();
        for (Layer l : space.layers()) {
            ops.add(l.candidates().stream().filter(op -> !(op instanceof Op.Identity)).toList());
        }
        return Arch.multi(ops);
    }

    /** Lambdas in [0.1, 1.6): their sums are not 1, so the shortcut's scale matters. */
    private static double[][] lambdas(Arch active, long seed) {
        Random rnd = new Random(seed);
        double[][] w = new double[space.size()][];
        for (int i = 0; i < w.length; i++) {
            w[i] = new double[active.ops(i).size()];
            for (int c = 0; c < w[i].length; c++) {
                w[i][c] = 0.1 + 1.5 * rnd.nextDouble();
            }
        }
        return w;
    }

    private static INDArray x(int batch) {
        return SupernetTest.data.x(batch, 32).castTo(DataType.DOUBLE);
    }

    /** {@link #lossByHand} in training mode with the cross-entropy summed in double. */
    private static double doubleLoss(Supernet net, Arch active, double[][] w, INDArray x, int[] y) {
        INDArray p = probabilities(net, active, w, x, true);
        double loss = 0;
        for (int n = 0; n < y.length; n++) {
            loss -= Math.log(p.getDouble(n, y[n]));
        }
        return loss / y.length;
    }

    /** Eq. 4 by hand: stem, then per layer sum_i lambda_i B_i(h) + h where the layer keeps its shape, head, classifier. */
    private static double lossByHand(Supernet net, Arch active, double[][] w, INDArray x, int[] y, boolean train) {
        INDArray probs = probabilities(net, active, w, x, train);
        return Supernet.crossEntropy(probs, Supernet.oneHot(y, space.classes(), 0).castTo(DataType.DOUBLE));
    }

    private static INDArray probabilities(Supernet net, Arch active, double[][] w, INDArray x, boolean train) {
        INDArray h = net.stem().forward(x, train);
        for (int i = 0; i < space.size(); i++) {
            INDArray out = space.layer(i).keepsShape() ? h.dup() : null;
            for (int c = 0; c < active.ops(i).size(); c++) {
                INDArray b = net.block(i, active.ops(i).get(c)).forward(h, train).mul(w[i][c]);
                out = out == null ? b : out.addi(b);
            }
            h = out;
        }
        return net.classifier().probabilities(net.head().forward(h, train));
    }

    @Test
    void weightedStepComputesEq4WithTheShortcutAddedOnceAndUnscaled() {
        Supernet net = SupernetTest.doublePrecision(space, 31);
        Arch active = branches();
        double[][] w = lambdas(active, 4);
        INDArray x = x(3);
        int[] y = SupernetTest.data.y(3, 32);
        double scaled = net.computeWeightedGradients(active, w, LayerSum.SCALED_BRANCHES, x, y).loss();
        double byHand = lossByHand(net, active, w, x, y, true);
        assertEquals(byHand, scaled, 1e-10, "Eq. 4 by hand vs the weighted step");
        // the mixture (DA-NAS Eq. 7) scales each op's shortcut by its weight: another function when the weights do not sum to 1
        double mixture = net.computeWeightedGradients(active, w, LayerSum.MIXTURE, x, y).loss();
        assertTrue(Math.abs(mixture - scaled) > 1e-3, "mixture " + mixture + " vs Eq. 4 " + scaled);
    }

    @Test
    void lambdaGradientMatchesFiniteDifferences() {
        Supernet net = SupernetTest.doublePrecision(space, 37);
        Arch active = branches();
        double[][] w = lambdas(active, 8);
        INDArray x = x(4);
        int[] y = SupernetTest.data.y(4, 32);
        double[][] dw = net.computeWeightedGradients(active, w, LayerSum.SCALED_BRANCHES, x, y).archGradient();
        // the loss by hand in double (the step reports it through float), so that a small step resolves it; ReLU6 kinks make
        // the loss piecewise smooth, so central differences converge only at small steps (measured for dlambda[1][0] =
        // -0.0641: 0.121 at 1e-4, -0.0242 at 1e-5, -0.0872 at 1e-6, -0.0644 at 1e-7)
        double eps = 1e-7;
        for (int[] ic : new int[][]{{1, 0}, {4, 1}, {space.size() - 2, 1}}) {
            int i = ic[0], c = ic[1];
            double[][] plus = copy(w), minus = copy(w);
            plus[i][c] += eps;
            minus[i][c] -= eps;
            double fd = (doubleLoss(net, active, plus, x, y) - doubleLoss(net, active, minus, x, y)) / (2 * eps);
            assertEquals(fd, dw[i][c], 0.01 * Math.abs(fd) + 1e-3, "dLoss/dlambda[" + i + "][" + c + "]");
        }
    }

    @Test
    void layerWithoutOpsIsTheIdentityAndAShapeChangingLayerNeedsOne() {
        Supernet net = SupernetTest.doublePrecision(space, 41);
        List<List<Op>> ops = new ArrayList<>();
        int emptied = -1;
        int reduction = -1;
        for (Layer l : space.layers()) {
            List<Op> b = l.candidates().stream().filter(op -> !(op instanceof Op.Identity)).toList();
            if (emptied < 0 && l.keepsShape()) {
                emptied = l.index();
                b = List.of();
            } else if (reduction < 0 && !l.keepsShape()) {
                reduction = l.index();
            }
            ops.add(b);
        }
        Arch active = Arch.multi(ops);
        double[][] w = lambdas(active, 2);
        INDArray x = x(5);
        int[] y = SupernetTest.data.y(5, 32);
        assertEquals(lossByHand(net, active, w, x, y, true),
                net.computeWeightedGradients(active, w, LayerSum.SCALED_BRANCHES, x, y).loss(), 1e-10);
        List<List<Op>> broken = new ArrayList<>(ops);
        broken.set(reduction, List.of());
        Arch noOp = Arch.multi(broken);
        double[][] w2 = lambdas(noOp, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> net.computeWeightedGradients(noOp, w2, LayerSum.SCALED_BRANCHES, x, y));
        assertTrue(e.getMessage().contains("changes the feature map's shape"), e.getMessage());
    }

    @Test
    void fixedBatchNormScaleKeepsEveryGammaOfTheStepAtOne() {
        Arch active = branches();
        for (boolean fixed : new boolean[]{true, false}) {
            Supernet net = new Supernet(space, SupernetTest.OPT, 43);
            double[][] w = lambdas(active, 6);
            for (int s = 0; s < 3; s++) {
                net.weightedTrainStep(active, w, LayerSum.SCALED_BRANCHES, fixed, SupernetTest.data.x(s, 32), SupernetTest.data.y(s, 32), s, 0);
            }
            double worst = 0;
            for (CandidateBlock b : List.of(net.stem(), net.head(), net.block(3, active.ops(3).get(0)))) {
                for (org.deeplearning4j.nn.api.Layer l : ((Dl4jBlock) b).network().getLayers()) {
                    if (l.conf().getLayer() instanceof BatchNormalization) {
                        worst = Math.max(worst, l.getParam("gamma").sub(1.0).amaxNumber().doubleValue());
                    }
                }
            }
            if (fixed) {
                assertEquals(0.0, worst, "gamma moved although fixed");
            } else {
                assertTrue(worst > 1e-4, "gamma should train when not fixed: " + worst);
            }
        }
    }

    @Test
    void multiOpLayersInInferenceExportAndRetrainingComputeTheSumOfBranchesPlusTheInputOnce() {
        Supernet net = SupernetTest.doublePrecision(space, 47);
        // a keep-shape layer with two ops, an emptied keep-shape layer, one op elsewhere
        List<List<Op>> ops = new ArrayList<>();
        boolean two = false;
        boolean empty = false;
        for (Layer l : space.layers()) {
            List<Op> b = l.candidates().stream().filter(op -> !(op instanceof Op.Identity)).toList();
            if (l.keepsShape() && !two) {
                two = true;
            } else if (l.keepsShape() && !empty) {
                empty = true;
                b = List.of();
            } else {
                b = List.of(b.get(0));
            }
            ops.add(b);
        }
        Arch arch = Arch.multi(ops);
        for (int s = 0; s < 3; s++) {
            net.trainStep(Arch.single(ops.stream().map(l -> l.isEmpty() ? (Op) new Op.Identity() : l.get(0)).toList()),
                    SupernetTest.data.x(s, 32).castTo(DataType.DOUBLE), SupernetTest.data.y(s, 32), s, 0);
        }
        INDArray x = x(6);
        double[][] ones = new double[space.size()][];
        for (int i = 0; i < ones.length; i++) {
            ones[i] = new double[arch.ops(i).size()];
            Arrays.fill(ones[i], 1.0);
        }
        int[] y = SupernetTest.data.y(6, 32);
        INDArray predicted = net.predict(arch, x);
        double byHand = lossByHand(net, arch, ones, x, y, false);
        double loss = Supernet.crossEntropy(predicted, Supernet.oneHot(y, space.classes(), 0).castTo(DataType.DOUBLE));
        assertEquals(byHand, loss, 1e-9, "inference vs sum of branches + input");
        ComputationGraph exported = net.export(arch);
        assertTrue(SupernetTest.maxAbsDiff(predicted, exported.outputSingle(false, x)) <= 1e-9, "export vs inference");
        // retraining builds the same graph with its own weights: given the supernet's, it computes the searched formula
        ComputationGraph standalone = ArchitectureGraph.standalone(space, arch, SupernetTest.OPT, 5);
        assertEquals(exported.numParams(), standalone.numParams(), "the retrained network has the searched layers");
        assertEquals(exported.getConfiguration().getVertexInputs(), standalone.getConfiguration().getVertexInputs(),
                "the retrained network is wired as searched");
        standalone.setParams(exported.params().castTo(DataType.FLOAT));
        INDArray out = standalone.outputSingle(false, x.castTo(DataType.FLOAT));
        assertTrue(SupernetTest.maxAbsDiff(predicted.castTo(DataType.FLOAT), out) <= 1e-4, "retrained graph vs inference: "
                + SupernetTest.maxAbsDiff(predicted.castTo(DataType.FLOAT), out));
    }

    private static double[][] copy(double[][] w) {
        double[][] c = new double[w.length][];
        for (int i = 0; i < w.length; i++) {
            c[i] = w[i].clone();
        }
        return c;
    }
}
