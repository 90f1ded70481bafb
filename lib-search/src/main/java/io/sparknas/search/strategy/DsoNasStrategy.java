package io.sparknas.search.strategy;

import java.util.stream.IntStream;
import io.sparknas.supernet.step.LayerSum;
import java.util.Set;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.supernet.config.SettingsReader;
import com.typesafe.config.Config;
import io.sparknas.supernet.step.StepResult;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * DSO-NAS supernet training in the mobile setting (Zhang et al., "You Only Search Once: Single Shot Neural Architecture Search
 * via Direct Sparse Optimization": sections 3.1-3.4, Fig. 3, Algorithm 1, section 4.1).
 *
 * <ul>
 *   <li>Every inverted-bottleneck op of a layer has a scaling factor lambda >= 0, initialised to 1; the layer computes
 *       {@code sum_i lambda_i B_i(x) + x}, the shortcut added once and unscaled where the layer keeps its shape (Eq. 4;
 *       {@link LayerSum#SCALED_BRANCHES}). Identity is not a weighted op: it is the shortcut, always there; a layer
 *       whose lambdas all reach zero becomes the identity.</li>
 *   <li>Algorithm 1: train split into D_w and D_lambda by image id ({@link Settings#weightShare}); {@link Settings#pretrainEpochs}
 *       epochs train the weights on D_w with every lambda = 1 (line 3), then every epoch alternates lambda steps on D_lambda
 *       and weight steps (NAG) on D_w (lines 4-7), in the ratio of the split, interleaved. BatchNorm scales stay at 1 in both
 *       (section 4.1).</li>
 *   <li>Lambda steps: {@link ApgNag} (Eq. 14-16) on the mean dLoss/dlambda of a round, summed over its workers' steps and
 *       applied once on the driver (averaging per-worker proximal steps would not give exact zeros).</li>
 *   <li>Sparsity weight per op (section 3.4): {@code none} (gamma), {@code flops} (Eq. 17: gamma x FLOPs of the layer's ops
 *       with lambda != 0 / FLOPs of all its ops, recomputed every step), {@code mac} (Eq. 18: gamma x MAC of the op / the
 *       largest MAC of any op), {@code latency} (Eq. 19 in the authors' code's sense, once per epoch: the op whose removal
 *       saves most latency gets the full gamma, the one saving least {@link Settings#latencyBase} x gamma).</li>
 *   <li>An op whose lambda is 0 at the end of a search epoch stops being computed (the authors rebuild their network without
 *       zero connections); a layer the space gives no identity (it changes the feature map's shape, or it is the first
 *       layer) keeps at least one op: when a step would zero all its lambdas, the op with the largest lambda before the
 *       step skips that step.</li>
 *   <li>Termination: {@link Settings#searchEpochs} search epochs, or earlier when {@link Settings#untilOneOp} and at most
 *       one op per layer remains (the mobile setting).</li>
 * </ul>
 * The result keeps per layer every op with lambda != 0 ({@link #readOff}): possibly several, possibly none.
 */
public final class DsoNasStrategy implements TrainingStrategy {

    /**
     * @param weightShare         D_w's share of the train split (the paper's ImageNet split: 0.8)
     * @param pretrainEpochs      weight-only epochs on D_w with every lambda = 1 (Algorithm 1 line 3)
     * @param searchEpochs        epochs of alternating lambda and weight steps (at most, with {@code untilOneOp})
     * @param untilOneOp          stop once at most one op per layer is left (the mobile setting)
     * @param learningRate        eta of the lambda steps (the authors: 0.1, constant)
     * @param momentum            mu of APG-NAG (the authors: 0.9)
     * @param momentumSchedule    {@code constant} or {@code apg}: Eq. 13, mu_(t-1) = (t - 2) / (t + 1)
     * @param gradientClip        the lambda gradient is clipped to +-this (the authors: 2); 0: not clipped
     * @param sparsity            gamma of Eq. 9
     * @param budget              {@code none}, {@code flops} (Eq. 17), {@code mac} (Eq. 18), {@code latency} (Eq. 19)
     * @param latencyBase         share of gamma the connection saving least latency gets (the authors' code: 0.5)
     * @param fixedBatchNormScale BatchNorm scales fixed at 1 while pre-training and searching (section 4.1)
     */
    public record Settings(double weightShare, int pretrainEpochs, int searchEpochs, boolean untilOneOp, double learningRate,
                           double momentum, String momentumSchedule, double gradientClip, double sparsity, String budget,
                           double latencyBase, boolean fixedBatchNormScale) {
        /** {@code nas.dsonas} (this module's reference.conf), read and validated. */
        public static Settings read(Config config) {
            SettingsReader r = new SettingsReader(config);
            double share = r.doubleBetween("nas.dsonas.weight-share", 0.01, 0.99);
            if (Math.round(share * 100) != share * 100) {
                throw new InvalidSettingsException("nas.dsonas.weight-share = " + share + ": the split into D_w and D_lambda is fixed by image id "
                        + "in steps of 1%: give a multiple of 0.01, e.g. 0.8 (DSO-NAS section 4.3: 4/5 for the weights).");
            }
            return new Settings(share, r.intBetween("nas.dsonas.pretrain-epochs", 0, 100_000),
                    r.intBetween("nas.dsonas.search-epochs", 1, 100_000), r.bool("nas.dsonas.until-one-op"),
                    r.doubleBetween("nas.dsonas.learning-rate", 1e-9, 100), r.doubleBetween("nas.dsonas.momentum", 0, 0.999999),
                    r.oneOf("nas.dsonas.momentum-schedule", Set.of("constant", "apg")), r.doubleBetween("nas.dsonas.gradient-clip", 0, 1e6),
                    r.doubleBetween("nas.dsonas.sparsity", 0, 1e6), r.oneOf("nas.dsonas.budget", Set.of("none", "flops", "mac", "latency")),
                    r.doubleBetween("nas.dsonas.latency-base", 0, 1), r.bool("nas.dsonas.fixed-batchnorm-scale"));
        }
    }

    private final SearchSpace full;
    private final Settings s;
    /** Per layer, its weighted ops: the candidates other than identity. */
    private final List<List<Op>> ops = new ArrayList<>();
    /** Per layer and weighted op: the budget's cost (FLOPs, MAC or latency of the op at that layer); unused for {@code none}. */
    private final double[][] cost;
    private final double[][] lambda;
    /** 0: computed; else the 1-based epoch at whose end the op's lambda was 0. */
    private final int[][] prunedAt;
    /** Per op, gamma's multiplier of the adaptive latency budget (recomputed at each epoch's end). */
    private final double[][] latencyScale;
    private final ApgNag optimizer;

    /**
     * @param space   the full space (every candidate starts with lambda = 1)
     * @param opCost  cost of candidate i of layer l for the budget (FLOPs, MAC or latency, in any one unit), aligned with the
     *                space's candidates; identity's entry is ignored; may be null for budget {@code none}
     */
    public DsoNasStrategy(SearchSpace space, Settings s, double[][] opCost) {
        this.full = space;
        this.s = s;
        if (!s.budget().equals("none") && opCost == null) {
            throw new IllegalArgumentException("budget " + s.budget() + " needs the ops' costs");
        }
        int n = 0;
        this.cost = new double[space.size()][];
        this.lambda = new double[space.size()][];
        this.prunedAt = new int[space.size()][];
        this.latencyScale = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            List<Op> cands = space.layer(l).candidates();
            List<Op> weighted = new ArrayList<>();
            List<Double> c = new ArrayList<>();
            for (int i = 0; i < cands.size(); i++) {
                if (cands.get(i) instanceof Op.Identity) {
                    continue;
                }
                if (cands.get(i) instanceof Op.Shuffle || cands.get(i) instanceof Op.Xception) {
                    throw new IllegalArgumentException("DSO-NAS scales inverted-bottleneck branches (Fig. 3); layer " + l + " of space "
                            + space.family() + " holds " + cands.get(i).name() + ": use nas.space.family = mobilenetv2 or mobilenetv2-large");
                }
                weighted.add(cands.get(i));
                if (opCost != null) {
                    if (opCost[l].length != cands.size()) {
                        throw new IllegalArgumentException("layer " + l + ": " + opCost[l].length + " costs for " + cands.size() + " candidates");
                    }
                    c.add(opCost[l][i]);
                }
            }
            if (weighted.isEmpty()) {
                throw new IllegalArgumentException("layer " + l + " has no op to scale");
            }
            ops.add(List.copyOf(weighted));
            cost[l] = opCost == null ? new double[weighted.size()] : c.stream().mapToDouble(Double::doubleValue).toArray();
            lambda[l] = new double[weighted.size()];
            Arrays.fill(lambda[l], 1.0);
            prunedAt[l] = new int[weighted.size()];
            latencyScale[l] = new double[weighted.size()];
            Arrays.fill(latencyScale[l], 1.0);
            n += weighted.size();
        }
        this.optimizer = new ApgNag(s.learningRate(), s.momentum(), s.momentumSchedule().equals("apg"), s.gradientClip(), n);
        if (s.budget().equals("latency")) {
            rescaleLatency();
        }

    }

    @Override
    public String method() {
        return "dsonas";
    }

    @Override
    public int epochs() {
        return s.pretrainEpochs() + s.searchEpochs();
    }

    @Override
    public EpochPlan epochPlan(int e) {
        int[] classes = IntStream.range(0, full.classes()).toArray();
        boolean search = e >= s.pretrainEpochs();
        String label = search ? String.format(Locale.ROOT, "search epoch %d/%d", e - s.pretrainEpochs() + 1, s.searchEpochs())
                : String.format(Locale.ROOT, "pre-training epoch %d/%d", e + 1, s.pretrainEpochs());
        return new EpochPlan(classes, search, label, "train", s.weightShare(), true);
    }

    /** Layer l's ops still computed. */
    private List<Op> live(int l) {
        List<Op> out = new ArrayList<>();
        for (int i = 0; i < ops.get(l).size(); i++) {
            if (prunedAt[l][i] == 0) {
                out.add(ops.get(l).get(i));
            }
        }
        return out;
    }

    private double[] liveValues(double[][] v, int l) {
        double[] out = new double[live(l).size()];
        int k = 0;
        for (int i = 0; i < v[l].length; i++) {
            if (prunedAt[l][i] == 0) {
                out[k++] = v[l][i];
            }
        }
        return out;
    }

    /** The space's candidates still computed: identity (the shortcut) stays where the space has it. */
    @Override
    public SearchSpace space() {
        SearchSpace sp = full;
        for (int l = 0; l < full.size(); l++) {
            List<Op> keep = new ArrayList<>(live(l));
            if (full.layer(l).candidates().contains(new Op.Identity())) {
                keep.add(new Op.Identity());
            }
            sp = sp.withCandidates(l, keep);
        }
        return sp;
    }

    @Override
    public RoundPlan plan(int e, Phase phase) {
        List<List<Op>> active = new ArrayList<>();
        double[][] w = new double[full.size()][];
        for (int l = 0; l < full.size(); l++) {
            active.add(live(l));
            w[l] = liveValues(lambda, l);
        }
        return new ScaledPlan(Arch.multi(active), w, s.fixedBatchNormScale());
    }

    @Override
    public void observe(int e, double[][] gradientSum, long steps) {
        FlatParameters f = FlatParameters.of(lambda, prunedAt, gradientSum, steps);
        double[][] gamma = new double[full.size()][];
        for (int l = 0; l < full.size(); l++) {
            gamma[l] = sparsityWeights(l);
        }
        double[][] before = lambda();
        optimizer.step(f.values, f.gradient, FlatParameters.flatten(gamma), f.live);
        f.copyTo(lambda);
        for (int l = 0, offset = 0; l < full.size(); offset += lambda[l].length, l++) {
            int kept = keepOneOp(l, before[l]);
            if (kept >= 0) {
                optimizer.restart(offset + kept);
            }
        }
    }

    /**
     * A layer the space gives no identity (one that changes the feature map's shape, or the first layer) cannot be
     * skipped: when a step zeroes every computed lambda of such a layer, the op whose lambda was largest before the step
     * keeps that value (it skips the step), and the caller restarts its APG momentum (the velocity that zeroed it would
     * zero it again on every later step, freezing it).
     *
     * @return the index of the op kept this way, or -1
     */
    private int keepOneOp(int l, double[] before) {
        if (full.layer(l).candidates().contains(new Op.Identity())) {
            return -1;
        }
        int best = -1;
        for (int i = 0; i < lambda[l].length; i++) {
            if (prunedAt[l][i] == 0) {
                if (lambda[l][i] > 0) {
                    return -1;
                }
                if (best < 0 || before[i] > before[best]) {
                    best = i;
                }
            }
        }
        if (best >= 0) {
            lambda[l][best] = before[best];
        }
        return best;
    }

    /** gamma of each of layer l's ops now (section 3.4). */
    double[] sparsityWeights(int l) {
        double[] out = new double[lambda[l].length];
        double gamma = s.sparsity();
        switch (s.budget()) {
            case "flops" -> {
                // Eq. 17: FLOPs of the layer's ops with lambda != 0 over those of the completely connected layer
                double kept = 0;
                double all = 0;
                for (int i = 0; i < lambda[l].length; i++) {
                    all += cost[l][i];
                    kept += prunedAt[l][i] == 0 && lambda[l][i] != 0 ? cost[l][i] : 0;
                }
                Arrays.fill(out, all > 0 ? gamma * kept / all : gamma);
            }
            case "mac" -> {
                // Eq. 18: the op's MAC over the largest MAC of any op of the network
                double max = 0;
                for (double[] c : cost) {
                    for (double v : c) {
                        max = Math.max(max, v);
                    }
                }
                for (int i = 0; i < out.length; i++) {
                    out[i] = max > 0 ? gamma * cost[l][i] / max : gamma;
                }
            }
            case "latency" -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = gamma * latencyScale[l][i];
                }
            }
            default -> Arrays.fill(out, gamma);
        }
        return out;
    }

    /**
     * Eq. 19 in the sense of the authors' code: with the network's latency the sum of its connections' (the paper's
     * assumption), LAT_e = total - lat(e) when connection e is removed; gamma_e = gamma x (base + (1 - base) x (LAT_max -
     * LAT_e) / (LAT_max - LAT_min)) over the computed ops, so the op whose removal saves most latency gets the full gamma.
     */
    private void rescaleLatency() {
        double total = 0;
        for (int l = 0; l < full.size(); l++) {
            for (int i = 0; i < cost[l].length; i++) {
                total += prunedAt[l][i] == 0 ? cost[l][i] : 0;
            }
        }
        double max = Double.NEGATIVE_INFINITY;
        double min = Double.POSITIVE_INFINITY;
        for (int l = 0; l < full.size(); l++) {
            for (int i = 0; i < cost[l].length; i++) {
                if (prunedAt[l][i] == 0) {
                    max = Math.max(max, total - cost[l][i]);
                    min = Math.min(min, total - cost[l][i]);
                }
            }
        }
        for (int l = 0; l < full.size(); l++) {
            for (int i = 0; i < cost[l].length; i++) {
                double without = total - cost[l][i];
                latencyScale[l][i] = max > min ? s.latencyBase() + (1 - s.latencyBase()) * (max - without) / (max - min) : 1.0;
            }
        }
    }

    @Override
    public List<ArchParam> endEpoch(int e) {
        if (e >= s.pretrainEpochs()) {
            for (int l = 0; l < full.size(); l++) {
                for (int i = 0; i < lambda[l].length; i++) {
                    if (prunedAt[l][i] == 0 && lambda[l][i] == 0) {
                        prunedAt[l][i] = e + 1;
                    }
                }
            }
            if (s.budget().equals("latency")) {
                rescaleLatency();
            }
        }
        List<ArchParam> rows = new ArrayList<>();
        for (int l = 0; l < full.size(); l++) {
            double[] gamma = sparsityWeights(l);
            for (int i = 0; i < lambda[l].length; i++) {
                String op = ops.get(l).get(i).name();
                rows.add(new ArchParam(e + 1, l, op, lambda[l][i], "lambda"));
                if (prunedAt[l][i] == 0) {
                    rows.add(new ArchParam(e + 1, l, op, gamma[i], "gamma"));
                } else {
                    rows.add(new ArchParam(e + 1, l, op, prunedAt[l][i], "pruned"));
                }
            }
        }
        return rows;
    }

    @Override
    public boolean converged() {
        if (!s.untilOneOp()) {
            return false;
        }
        for (int l = 0; l < full.size(); l++) {
            if (live(l).size() > 1) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Optional<Arch> readOff() {
        return Optional.of(nonZero(full, ops, lambda));
    }

    /**
     * DSO-NAS's result (section 3.2: "the final architecture can be directly obtained by removing useless connections"): per
     * layer every op whose lambda is not 0, in the space's order; none where all are 0 (the layer is the identity).
     *
     * @param ops    per layer the weighted ops, aligned with {@code lambda}
     */
    public static Arch nonZero(SearchSpace space, List<List<Op>> ops, double[][] lambda) {
        List<List<Op>> keep = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            List<Op> k = new ArrayList<>();
            for (int i = 0; i < lambda[l].length; i++) {
                if (lambda[l][i] != 0) {
                    k.add(ops.get(l).get(i));
                }
            }
            if (k.isEmpty() && !space.layer(l).candidates().contains(new Op.Identity())) {
                throw new IllegalArgumentException("layer " + l + " has no identity in the space but every lambda is 0");
            }
            keep.add(k);
        }
        return Arch.multi(keep);
    }

    /** Copy of the lambdas (per layer, the weighted ops of {@link #weightedOps()}). */
    public double[][] lambda() {
        double[][] out = new double[lambda.length][];
        for (int l = 0; l < lambda.length; l++) {
            out[l] = lambda[l].clone();
        }
        return out;
    }

    /** Per layer the ops lambda scales (the candidates other than identity). */
    public List<List<Op>> weightedOps() {
        return ops;
    }

    /** Ops computed per layer and the ops of non-zero lambda (the read-off). */
    @Override
    public String epochSummary() {
        return "ops computed per layer " + Arrays.toString(liveCounts()) + ", non-zero lambdas per layer " + readOff().orElseThrow().id();
    }

    /** Ops per layer still computed. */
    public int[] liveCounts() {
        return IntStream.range(0, full.size()).map(l -> live(l).size()).toArray();
    }

    /** Lines {@code lambda l ...}, {@code pruned l ...} per layer, then {@code optimizer ...}; doubles exact (hex). */
    @Override
    public String state() {
        return LayerValuesState.write("lambda", lambda, prunedAt, optimizer.state());
    }

    @Override
    public void restore(String state) {
        LayerValuesState.read(state, "DSO-NAS", "lambda", lambda, prunedAt, optimizer::restore);
        if (s.budget().equals("latency")) {
            rescaleLatency();
        }
    }

    /** The executors' part: every computed op scaled by its lambda, the shortcut once (Eq. 4); dLoss/dlambda as the step returns it. */
    record ScaledPlan(Arch active, double[][] lambda, boolean fixedBatchNormScale) implements RoundPlan {

        @Override
        public StepPlan step(int worker, int step, Random rnd) {
            return new StepPlan(active, lambda, LayerSum.SCALED_BRANCHES, fixedBatchNormScale);
        }

        @Override
        public double[][] parameterGradient(StepPlan step, StepResult result) {
            return result.archGradient();
        }
    }
}
