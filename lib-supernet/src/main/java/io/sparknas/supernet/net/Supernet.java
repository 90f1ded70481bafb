package io.sparknas.supernet.net;

import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.api.ops.impl.reduce3.Dot;
import java.util.Arrays;
import io.sparknas.supernet.step.StepResult;
import io.sparknas.supernet.step.LayerSum;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The weight-sharing supernet of a {@link SearchSpace}: a shared stem, one {@link CandidateBlock} per (layer, candidate op),
 * a shared head and classifier. A path is computed by chaining the chosen blocks; residual connections (stride 1, equal
 * channels, IBConv ops) are added outside the blocks.
 *
 * <p>Two modes:
 * <ul>
 *   <li>single path ({@link #trainStep}): one op per layer, SPOS (Guo et al.) as used by PAD-NAS (section 3.1) and DDPNAS;</li>
 *   <li>weighted ({@link #weightedTrainStep}): every candidate of a layer, output {@code sum_i w_i o_i(x)} where {@code o_i} is
 *       the op with its residual, returning {@code dLoss/dw_i = <dLoss/dout, o_i(x)>} for DA-NAS's Gumbel-softmax weights
 *       (DA-NAS Eq. 6-7) and DSO-NAS's scaling factors lambda (DSO-NAS Eq. 14-16). A one-hot {@code w} equals the single path.</li>
 * </ul>
 * Not thread-safe: one instance per training task.
 */
public final class Supernet {

    private final SearchSpace space;
    private final OptimizerSettings opt;
    /** FLOAT; DOUBLE only in equivalence tests (see the package-private constructor). */
    private final DataType dataType;
    private final CandidateBlock stem;
    private final CandidateBlock head;
    private final Dl4jClassifier classifier;
    private final Map<String, CandidateBlock> ops = new LinkedHashMap<>();

    /** How the candidate ops start. */
    public enum Init {
        /** Every candidate with its own random weights (as the papers' supernets). */
        INDEPENDENT,
        /** Every path starts as the same network: see {@link AlignedInitialization}. */
        ALIGNED
    }

    /** A supernet with independently initialised candidates. */
    public Supernet(SearchSpace space, OptimizerSettings opt, long seed) {
        this(space, opt, seed, Init.INDEPENDENT);
    }

    public Supernet(SearchSpace space, OptimizerSettings opt, long seed, Init init) {
        this(space, opt, seed, init, DataType.FLOAT);
    }

    /**
     * A supernet computing in {@code dataType}. DOUBLE is for equivalence tests: in float, two correct implementations
     * whose sums round differently flip a ReLU where a pre-activation lies within rounding of 0 or 6, and one flipped
     * element moves a gradient far beyond any rounding tolerance; in double that does not happen.
     */
    Supernet(SearchSpace space, OptimizerSettings opt, long seed, Init init, DataType dataType) {
        this.space = space;
        this.opt = opt;
        this.dataType = dataType;
        int h = (space.resolution() + space.stemStride() - 1) / space.stemStride();
        this.stem = new Dl4jBlock("stem", LayerConfigs.stem(space), InputType.convolutional(space.resolution(), space.resolution(),
                space.inChannels()), opt, seed, dataType);
        long s = seed;
        for (Layer l : space.layers()) {
            for (Op op : l.candidates()) {
                if (op instanceof Op.Identity) {
                    continue;
                }
                int branchIn = Op.isShuffleUnit(op) ? l.shuffleBranchIn() : l.inChannels();
                ops.put(opKey(l.index(), op), new Dl4jBlock(opKey(l.index(), op), LayerConfigs.op(l, op),
                        InputType.convolutional(l.inHeight(), l.inHeight(), branchIn), opt, ++s, dataType));
                if (Op.isShuffleUnit(op) && l.stride() == 2) {
                    ops.put(projectionKey(l.index(), op), new Dl4jBlock(projectionKey(l.index(), op), LayerConfigs.projection(l, op),
                            InputType.convolutional(l.inHeight(), l.inHeight(), l.inChannels()), opt, ++s, dataType));
                }
            }
        }
        if (init == Init.ALIGNED) {
            for (Layer l : space.layers()) {
                AlignedInitialization.apply(l.candidates(), op -> blocks(l.index(), op).stream().map(b -> ((Dl4jBlock) b).network()).toList(),
                        l.keepsShape());
            }
        }
        int hh = space.headHeight();
        this.head = new Dl4jBlock("head", LayerConfigs.head(space), InputType.convolutional(hh, hh, space.lastChannels()), opt, ++s, dataType);
        this.classifier = new Dl4jClassifier(LayerConfigs.classifier(space), space.headChannels(), opt, ++s, dataType);
        if (h <= 0) {
            throw new IllegalArgumentException("input too small for the stem");
        }
    }

    public static String opKey(int layer, Op op) {
        return "L" + layer + "." + op.code();
    }

    /** Key of the projection branch of a ShuffleNetV2 unit at a stride-2 layer. */
    public static String projectionKey(int layer, Op op) {
        return opKey(layer, op) + ".proj";
    }

    public SearchSpace space() {
        return space;
    }

    public OptimizerSettings optimizer() {
        return opt;
    }

    public CandidateBlock stem() {
        return stem;
    }

    public CandidateBlock head() {
        return head;
    }

    public Dl4jClassifier classifier() {
        return classifier;
    }

    /** The block of an op at a layer (a ShuffleNetV2 unit's main branch); null for identity. */
    public CandidateBlock block(int layer, Op op) {
        return op instanceof Op.Identity ? null : ops.get(opKey(layer, op));
    }

    /** The blocks of an op at a layer: none for identity, the main branch, and the projection branch of a stride-2 ShuffleNetV2 unit. */
    private List<CandidateBlock> blocks(int layer, Op op) {
        if (op instanceof Op.Identity) {
            return List.of();
        }
        CandidateBlock proj = ops.get(projectionKey(layer, op));
        return proj == null ? List.of(ops.get(opKey(layer, op))) : List.of(ops.get(opKey(layer, op)), proj);
    }

    /** Every trainable part, in a stable order: stem, layer blocks, head, classifier. */
    public List<TrainablePart> parts() {
        List<TrainablePart> out = new ArrayList<>();
        out.add(stem);
        out.addAll(ops.values());
        out.add(head);
        out.add(classifier);
        return out;
    }

    /** Total parameters of all parts (BatchNorm running statistics included). */
    public long numParams() {
        return parts().stream().mapToLong(p -> p.params().length()).sum();
    }

    /** Keys of the parts a single-path architecture uses. */
    public List<String> partKeys(Arch arch) {
        List<String> keys = new ArrayList<>(List.of("stem"));
        for (int i = 0; i < arch.layers(); i++) {
            for (Op op : arch.ops(i)) {
                for (CandidateBlock b : blocks(i, op)) {
                    keys.add(b.key());
                }
            }
        }
        keys.add("head");
        keys.add("classifier");
        return keys;
    }

    private boolean residual(int layer, Op op) {
        return op instanceof Op.IBConv && space.layer(layer).keepsShape();
    }

    /**
     * Whether a layer holding {@code layerOps} (several, one or none) adds its input once to the sum of their branches (DSO-NAS
     * Eq. 4): where the layer keeps its shape and every op is an inverted bottleneck (none: the layer is the identity). A
     * ShuffleNetV2 unit passes half its input itself and has no shortcut.
     */
    private boolean shortcutOnce(int layer, List<Op> layerOps) {
        return space.layer(layer).keepsShape() && layerOps.stream().allMatch(op -> op instanceof Op.IBConv);
    }

    /** One SGD step on the single path {@code arch}. {@code labels} are class indices. */
    public StepResult trainStep(Arch arch, INDArray x, int[] labels, int iteration, int epoch) {
        StepResult r = computeGradients(arch, x, labels);
        applyUpdate(arch, iteration, epoch, r.batchSize());
        return r;
    }

    /** Forward and backward of the single path {@code arch}; each used block keeps its gradient for {@link #applyUpdate}. */
    public StepResult computeGradients(Arch arch, INDArray x, int[] labels) {
        arch.requireIn(space);
        int n = (int) x.size(0);
        INDArray h = stem.forward(x, true);
        for (int i = 0; i < arch.layers(); i++) {
            h = opForward(i, arch.op(i), h, Pass.TRAIN, true);
        }
        HeadPass hp = headPass(h, labels);
        INDArray eps = hp.eps();
        for (int i = arch.layers() - 1; i >= 0; i--) {
            eps = opBackward(i, arch.op(i), eps, true);
        }
        stem.backward(eps);
        return new StepResult(hp.loss(), hp.correct(), n, null);
    }

    /** Training, or inference / BatchNorm recalibration on NHWC activations (faster with oneDNN; see InferencePass). */
    private enum Pass { TRAIN, INFER, RECALIBRATE }

    private static INDArray forward(CandidateBlock b, INDArray x, Pass pass) {
        return switch (pass) {
            case TRAIN -> b.forward(x, true);
            case INFER -> b.inferNhwc(x);
            case RECALIBRATE -> b.recalibrationForwardNhwc(x);
        };
    }

    /** The channel axis of the activations of a pass: 1 (NCHW) in training, 3 (NHWC) in inference and recalibration. */
    private static int channelAxis(Pass pass) {
        return pass == Pass.TRAIN ? 1 : 3;
    }

    private static INDArray toNhwc(INDArray x) {
        INDArray out = ArrayPool.take(x.dataType(), x.size(0), x.size(2), x.size(3), x.size(1));
        return out.assign(x.permute(0, 2, 3, 1));
    }

    /**
     * The output of {@code op} at layer {@code i} for input {@code h}: identity passes {@code h}; an IBConv adds its residual
     * where the layer keeps its shape (unless {@code shortcut} is false: the caller adds it once for several ops); a
     * ShuffleNetV2 unit splits (stride 1: even channels pass, odd ones enter the branch) or projects (stride 2), and
     * concatenates.
     */
    private INDArray opForward(int i, Op op, INDArray h, Pass pass, boolean shortcut) {
        if (op instanceof Op.Identity) {
            return h;
        }
        // in inference and recalibration no block keeps an array: temporaries are freed at once (TrainingPass#release)
        boolean free = pass != Pass.TRAIN;
        CandidateBlock main = ops.get(opKey(i, op));
        if (op instanceof Op.IBConv) {
            INDArray o = forward(main, h, pass);
            if (!shortcut || !residual(i, op)) {
                return o;
            }
            // in inference the block's output is this pass's own: the residual goes in place
            return free ? o.addi(h) : o.add(h);
        }
        int axis = channelAxis(pass);
        INDArray first;
        INDArray second;
        if (space.layer(i).stride() == 1) {
            int c = (int) h.size(axis);
            first = h.get(channelSlice(axis, NDArrayIndex.interval(0, 2, c))).dup('c');
            INDArray branch = h.get(channelSlice(axis, NDArrayIndex.interval(1, 2, c))).dup('c');
            second = forward(main, branch, pass);
            if (free) {
                TrainingPass.release(branch);
            }
        } else {
            first = forward(ops.get(projectionKey(i, op)), h, pass);
            second = forward(main, h, pass);
        }
        INDArray out = Nd4j.concat(axis, first, second);
        if (free) {
            TrainingPass.release(first);
            TrainingPass.release(second);
        }
        return out;
    }

    /** Indices selecting {@code channels} on {@code axis} of a rank-4 array and everything on the other axes. */
    private static INDArrayIndex[] channelSlice(int axis, INDArrayIndex channels) {
        INDArrayIndex[] idx = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()};
        idx[axis] = channels;
        return idx;
    }

    /** dLoss/dInput of {@code op} at layer {@code i} from dLoss/dOutput, after a training {@link #opForward}; blocks keep their gradients. */
    private INDArray opBackward(int i, Op op, INDArray eps, boolean shortcut) {
        if (op instanceof Op.Identity) {
            return eps;
        }
        CandidateBlock main = ops.get(opKey(i, op));
        if (op instanceof Op.IBConv) {
            INDArray e = main.backward(eps);
            return shortcut && residual(i, op) ? e.addi(eps) : e;
        }
        Layer l = space.layer(i);
        int c = l.inChannels();
        int cout = l.outChannels();
        if (l.stride() == 1) {
            INDArray epsBranch = eps.get(NDArrayIndex.all(), NDArrayIndex.interval(c / 2, cout), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
            INDArray eBranch = main.backward(epsBranch);
            INDArray e = Nd4j.create(eps.dataType(), eps.size(0), c, eps.size(2), eps.size(3));
            e.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2, c), NDArrayIndex.all(), NDArrayIndex.all())
                    .assign(eps.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c / 2), NDArrayIndex.all(), NDArrayIndex.all()));
            e.get(NDArrayIndex.all(), NDArrayIndex.interval(1, 2, c), NDArrayIndex.all(), NDArrayIndex.all()).assign(eBranch);
            return e;
        }
        INDArray eProj = ops.get(projectionKey(i, op)).backward(
                eps.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c), NDArrayIndex.all(), NDArrayIndex.all()).dup('c'));
        INDArray eMain = main.backward(eps.get(NDArrayIndex.all(), NDArrayIndex.interval(c, cout), NDArrayIndex.all(), NDArrayIndex.all()).dup('c'));
        return eProj.addi(eMain);
    }

    /** Applies the kept gradients of every part {@code arch} uses (all candidates for a weighted step: pass {@link #allOps()}). */
    public void applyUpdate(Arch arch, int iteration, int epoch, int batchSize) {
        classifier.update(iteration, epoch, batchSize);
        head.update(iteration, epoch, batchSize);
        for (int i = 0; i < arch.layers(); i++) {
            for (Op op : arch.ops(i)) {
                for (CandidateBlock b : blocks(i, op)) {
                    b.update(iteration, epoch, batchSize);
                }
            }
        }
        stem.update(iteration, epoch, batchSize);
    }

    /** The "architecture" holding every candidate of every layer (what a weighted step trains). */
    public Arch allOps() {
        List<List<Op>> all = new ArrayList<>();
        for (Layer l : space.layers()) {
            all.add(l.candidates());
        }
        return Arch.multi(all);
    }

    /**
     * One SGD step with every candidate of every layer weighted by {@code w[layer][candidate]} (candidate order of the space).
     * Returns dLoss/dw in {@link StepResult#archGradient()}; the weights themselves are the caller's (a strategy's) to update.
     */
    public StepResult weightedTrainStep(double[][] w, INDArray x, int[] labels, int iteration, int epoch) {
        return weightedTrainStep(allOps(), w, x, labels, iteration, epoch);
    }

    /**
     * One SGD step on the ops of {@code active} (a subset of each layer's candidates, e.g. those a strategy has not pruned),
     * weighted by {@code w[layer][k]} for the k-th op of {@code active}'s layer; only the active ops' blocks are updated.
     */
    public StepResult weightedTrainStep(Arch active, double[][] w, INDArray x, int[] labels, int iteration, int epoch) {
        return weightedTrainStep(active, w, LayerSum.MIXTURE, false, x, labels, iteration, epoch);
    }

    /**
     * {@link #weightedTrainStep(Arch, double[][], INDArray, int[], int, int)} with the layers combined as {@code sum} says;
     * {@code fixedBatchNormScale}: every BatchNorm scale of the parts the step used stays 1 (DSO-NAS section 4.1: "the scaling
     * parameters in batch normalization layers are fixed to one" while pre-training and searching, so that a lambda cannot
     * be traded against the scale of its op's last BatchNorm).
     */
    public StepResult weightedTrainStep(Arch active, double[][] w, LayerSum sum, boolean fixedBatchNormScale, INDArray x, int[] labels,
                                        int iteration, int epoch) {
        StepResult r = computeWeightedGradients(active, w, sum, x, labels);
        applyUpdate(active, iteration, epoch, r.batchSize());
        if (fixedBatchNormScale) {
            for (String key : partKeys(active)) {
                if (!key.equals("classifier")) {
                    part(key).fixBatchNormScale();
                }
            }
        }
        return r;
    }

    /** The part of a key of {@link #partKeys}. */
    private CandidateBlock part(String key) {
        return key.equals("stem") ? stem : key.equals("head") ? head : ops.get(key);
    }

    /** Forward and backward of the weighted supernet over every candidate; every block keeps its gradient; returns dLoss/dw. */
    public StepResult computeWeightedGradients(double[][] w, INDArray x, int[] labels) {
        return computeWeightedGradients(allOps(), w, x, labels);
    }

    /** {@link #computeWeightedGradients(Arch, double[][], LayerSum, INDArray, int[])} as DA-NAS's mixture. */
    public StepResult computeWeightedGradients(Arch active, double[][] w, INDArray x, int[] labels) {
        return computeWeightedGradients(active, w, LayerSum.MIXTURE, x, labels);
    }

    /**
     * Forward and backward of the weighted supernet over the ops of {@code active}: layer i's output is
     * {@code sum_k w[i][k] o_k(h)} over {@code active.ops(i)} (DA-NAS Eq. 7) or {@code sum_k w[i][k] B_k(h) + h} (DSO-NAS Eq. 4),
     * as {@code sum} says; the blocks of those ops keep their gradients; returns dLoss/dw aligned with {@code active}'s ops
     * ({@code <dLoss/dOut, o_k(h)>}, resp. {@code <dLoss/dOut, B_k(h)>}, per example).
     */
    public StepResult computeWeightedGradients(Arch active, double[][] w, LayerSum sum, INDArray x, int[] labels) {
        active.requireIn(space);
        int n = (int) x.size(0);
        int layers = space.size();
        if (w.length != layers) {
            throw new IllegalArgumentException("weights for " + w.length + " layers, the space has " + layers);
        }
        boolean scaled = sum == LayerSum.SCALED_BRANCHES;
        boolean[] once = new boolean[layers];
        INDArray h = stem.forward(x, true);
        List<INDArray[]> outs = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            List<Op> cands = active.ops(i);
            if (w[i].length != cands.size()) {
                throw new IllegalArgumentException("layer " + i + ": " + w[i].length + " weights for " + cands.size() + " active candidates");
            }
            if (scaled) {
                if (cands.stream().anyMatch(op -> op instanceof Op.Identity)) {
                    throw new IllegalArgumentException("layer " + i + ": identity is no weighted op when the shortcut is added once (DSO-NAS Eq. 4)");
                }
                once[i] = shortcutOnce(i, cands);
                if (cands.isEmpty() && !once[i]) {
                    throw new IllegalArgumentException("layer " + i + " changes the feature map's shape and holds no op");
                }
            }
            INDArray[] o = new INDArray[cands.size()];
            INDArray acc = null;
            for (int c = 0; c < cands.size(); c++) {
                o[c] = opForward(i, cands.get(c), h, Pass.TRAIN, !scaled);
                acc = acc == null ? o[c].mul(w[i][c]) : scaledAdd(acc, w[i][c], o[c]);
            }
            if (once[i]) {
                acc = acc == null ? h : acc.addi(h);
            }
            outs.add(o);
            h = acc;
        }
        HeadPass hp = headPass(h, labels);
        INDArray eps = hp.eps();
        double[][] dw = new double[layers][];
        for (int i = layers - 1; i >= 0; i--) {
            List<Op> cands = active.ops(i);
            INDArray[] o = outs.get(i);
            dw[i] = new double[cands.size()];
            // the shortcut passes eps through unchanged (a copy: the ops' backward passes may reuse their input gradients)
            INDArray epsIn = once[i] ? eps.dup() : null;
            for (int c = 0; c < cands.size(); c++) {
                Op op = cands.get(c);
                // DL4J backpropagates the gradient of the summed loss (its updater divides by the batch size): divide here,
                // so dw is the gradient of the mean loss that the step reports.
                dw[i][c] = Nd4j.getExecutioner().exec(new Dot(eps, o[c])).getDouble(0) / n;
                INDArray ec = eps.mul(w[i][c]);
                INDArray e = opBackward(i, op, ec, !scaled);
                epsIn = epsIn == null ? e : epsIn.addi(e);
            }
            eps = epsIn;
        }
        stem.backward(eps);
        return new StepResult(hp.loss(), hp.correct(), n, dw);
    }

    /** {@code sum += w x} in place (BLAS axpy on contiguous arrays, no temporary; else through a scaled copy). */
    private static INDArray scaledAdd(INDArray sum, double w, INDArray x) {
        if (sum.ordering() == 'c' && x.ordering() == 'c' && !sum.isView() && !x.isView() && sum.dataType() == x.dataType()
                && sum.length() == x.length()) {
            Nd4j.getBlasWrapper().level1().axpy(sum.length(), w, x, sum);
            return sum;
        }
        return sum.addi(x.mul(w));
    }

    /** Loss, correct predictions and dLoss/dInput of the head and classifier for the features {@code h} of the last layer. */
    private record HeadPass(double loss, int correct, INDArray eps) {
    }

    private HeadPass headPass(INDArray h, int[] labels) {
        INDArray f = head.forward(h, true);
        INDArray probs = classifier.probabilities(f);
        INDArray y = oneHot(labels, space.classes(), opt.labelSmoothing()).castTo(dataType);
        return new HeadPass(crossEntropy(probs, y), correct(probs, labels), head.backward(classifier.backward(f, y)));
    }

    /** Class probabilities of a path in inference mode (BatchNorm running statistics). */
    public INDArray predict(Arch arch, INDArray x) {
        arch.requireIn(space);
        INDArray in = toNhwc(x);
        INDArray h = stem.inferNhwc(in);
        TrainingPass.release(in);
        for (int i = 0; i < arch.layers(); i++) {
            h = layerForward(i, arch.ops(i), h, Pass.INFER);
        }
        INDArray features = head.inferNhwc(h);
        TrainingPass.release(h);
        INDArray probs = classifier.probabilities(features);
        TrainingPass.release(features);
        return probs;
    }

    /**
     * Inference or recalibration output of layer {@code i}: one op's output, or for several ops (DSO-NAS) the sum of their
     * branches plus the layer's input once where the layer keeps its shape (Eq. 4); no op: the input (identity). Frees its
     * input and the partial sums once used.
     */
    private INDArray layerForward(int i, List<Op> layerOps, INDArray h, Pass pass) {
        if (layerOps.isEmpty()) {
            if (!space.layer(i).keepsShape()) {
                throw new IllegalArgumentException("layer " + i + " changes the feature map's shape and holds no op");
            }
            return h;
        }
        if (layerOps.size() == 1) {
            INDArray o = opForward(i, layerOps.get(0), h, pass, true);
            if (o != h) {
                TrainingPass.release(h);
            }
            return o;
        }
        boolean once = shortcutOnce(i, layerOps);
        INDArray sum = null;
        for (Op op : layerOps) {
            INDArray o = opForward(i, op, h, pass, false);
            if (sum == null) {
                sum = o == h ? o.dup() : o;
            } else {
                sum.addi(o);
                if (o != h) {
                    TrainingPass.release(o);
                }
            }
        }
        if (once) {
            sum.addi(h);
        }
        TrainingPass.release(h);
        return sum;
    }

    /** Correctly classified examples of a batch in inference mode. */
    public int countCorrect(Arch arch, INDArray x, int[] labels) {
        return correct(predict(arch, x), labels);
    }

    /**
     * BatchNorm recalibration of a path (SPOS): its blocks' running statistics become the average batch statistics over
     * {@code batches} in training-mode forward passes. Weights do not change. Needed before evaluating a path, because the
     * running statistics accumulated during training mix all paths.
     */
    public void recalibrate(Arch arch, Iterable<INDArray> batches) {
        List<CandidateBlock> used = recalibrationForwards(arch, batches);
        used.forEach(CandidateBlock::endRecalibration);
    }

    /**
     * The BatchNorm batch statistics of one batch in {@code arch}'s training-mode forward, per block key (layout of
     * {@link CandidateBlock#recordedStatistics}); the path's running statistics are left at this batch's. Distributed recalibration: tasks compute
     * these for a fixed list of batches, the driver sums them in batch order, {@link #setRunningStatistics} applies the sums,
     * so the result does not depend on which task computed which batch.
     */
    public Map<String, float[]> batchStatistics(Arch arch, INDArray batch) {
        List<CandidateBlock> used = recalibrationForwards(arch, List.of(batch));
        Map<String, float[]> out = new LinkedHashMap<>();
        for (CandidateBlock b : used) {
            out.put(b.key(), b.recordedStatistics());
            b.endRecalibration(b.recordedStatistics(), 1);
        }
        return out;
    }

    /**
     * Sets the BatchNorm running statistics of {@code arch}'s blocks to {@code sums / batches}, sums of
     * {@link #batchStatistics} over {@code batches} batches: the same as {@link #recalibrate} on those batches.
     */
    public void setRunningStatistics(Arch arch, Map<String, float[]> sums, int batches) {
        for (CandidateBlock b : pathBlocks(arch)) {
            float[] st = sums.get(b.key());
            if (st == null) {
                throw new IllegalArgumentException("no BatchNorm statistics for block " + b.key() + " of " + arch.id());
            }
            b.endRecalibration(st, batches);
        }
    }

    /** The blocks of a path in forward order: stem, each layer's op blocks, head. */
    private List<CandidateBlock> pathBlocks(Arch arch) {
        arch.requireIn(space);
        List<CandidateBlock> used = new ArrayList<>();
        used.add(stem);
        for (int i = 0; i < arch.layers(); i++) {
            for (Op op : arch.ops(i)) {
                used.addAll(blocks(i, op));
            }
        }
        used.add(head);
        return used;
    }

    /** Begins recalibration of a path's blocks and runs the training-mode forwards; returns the blocks (still recalibrating). */
    private List<CandidateBlock> recalibrationForwards(Arch arch, Iterable<INDArray> batches) {
        List<CandidateBlock> used = pathBlocks(arch);
        used.forEach(CandidateBlock::beginRecalibration);
        for (INDArray x : batches) {
            INDArray in = toNhwc(x);
            INDArray h = stem.recalibrationForwardNhwc(in);
            TrainingPass.release(in);
            for (int i = 0; i < arch.layers(); i++) {
                h = layerForward(i, arch.ops(i), h, Pass.RECALIBRATE);
            }
            TrainingPass.release(head.recalibrationForwardNhwc(h));
            TrainingPass.release(h);
        }
        return used;
    }

    /**
     * A stand-alone {@link ComputationGraph} of the architecture with the supernet's current weights (and BatchNorm
     * statistics): the same layer configurations, residual adds as {@link ElementWiseVertex}, several ops of one layer
     * (DSO-NAS) summed. Its output equals {@link #predict} for the same architecture.
     */
    public ComputationGraph export(Arch arch) {
        arch.requireIn(space);
        Map<String, String> copy = new LinkedHashMap<>();
        ComputationGraph cg = new ComputationGraph(ArchitectureGraph.configuration(space, arch, opt, null, copy, dataType, WorkspaceMode.NONE));
        cg.init();
        for (Map.Entry<String, String> e : copy.entrySet()) {
            String[] src = e.getValue().split("#");
            CandidateBlock b = src[0].equals("stem") ? stem : src[0].equals("head") ? head : ops.get(src[0]);
            int j = Integer.parseInt(src[1]);
            INDArray from = ((Dl4jBlock) b).network().getLayer(j).params();
            if (from != null && from.length() > 0) {
                cg.getLayer(e.getKey()).params().assign(from);
            }
        }
        cg.getLayer("classifier").params().assign(classifier.network().getLayer(0).params());
        return cg;
    }

    /** Images as uint8 HWC bytes to a float NCHW batch in [0, 1]. */
    public static INDArray toBatch(List<byte[]> pixels, int height, int width, int channels) {
        float[] buf = new float[pixels.size() * channels * height * width];
        int plane = height * width;
        for (int n = 0; n < pixels.size(); n++) {
            byte[] px = pixels.get(n);
            int base = n * channels * plane;
            for (int p = 0; p < plane; p++) {
                for (int c = 0; c < channels; c++) {
                    buf[base + c * plane + p] = (px[p * channels + c] & 0xff) / 255f;
                }
            }
        }
        return Nd4j.create(buf, new long[]{pixels.size(), channels, height, width}, 'c');
    }

    static INDArray oneHot(int[] labels, int classes, double smoothing) {
        float off = (float) (smoothing / classes);
        float on = (float) (1 - smoothing) + off;
        float[] y = new float[labels.length * classes];
        Arrays.fill(y, off);
        for (int i = 0; i < labels.length; i++) {
            y[i * classes + labels[i]] = on;
        }
        return Nd4j.create(y, new long[]{labels.length, classes}, 'c');
    }

    static double crossEntropy(INDArray probs, INDArray y) {
        float[] p = probs.dup('c').reshape(probs.length()).toFloatVector();
        float[] t = y.dup('c').reshape(y.length()).toFloatVector();
        double loss = 0;
        for (int i = 0; i < p.length; i++) {
            if (t[i] > 0) {
                loss -= t[i] * Math.log(Math.max(p[i], 1e-12f));
            }
        }
        return loss / probs.size(0);
    }

    static int correct(INDArray probs, int[] labels) {
        int k = (int) probs.size(1);
        float[] p = probs.dup('c').reshape(probs.length()).toFloatVector();
        int ok = 0;
        for (int i = 0; i < labels.length; i++) {
            int best = 0;
            for (int c = 1; c < k; c++) {
                if (p[i * k + c] > p[i * k + best]) {
                    best = c;
                }
            }
            ok += best == labels[i] ? 1 : 0;
        }
        return ok;
    }
}
