package io.sparknas.search.strategy;

import java.util.Set;
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
import java.util.stream.IntStream;

/**
 * DDPNAS dynamic distribution pruning (Zheng et al., DDPNAS section 3.2, Eq. 1-5, Algorithm 1).
 *
 * <ul>
 *   <li>Per layer a categorical distribution theta over its ops (Eq. 1), uniform at the start. Every epoch K architectures
 *       are drawn <b>disjointly</b> (Algorithm 1 line 3): per layer a permutation of its remaining ops, drawn without
 *       replacement in proportion to theta ({@code sampling = uniform}: the authors' code's uniform draw); architecture k
 *       takes entry k. K is the largest number of remaining ops of any layer; a layer with n < K ops continues with further
 *       permutations of its ops, so each of them is trained floor(K/n) or ceil(K/n) times and every op at least once.</li>
 *   <li>The K architectures share no op of a layer with K ops, only stem and head, so they train at the same time on
 *       different workers ({@link DisjointPlan}). By default each gets a whole pass of train per epoch (Eq. 19's cost T x
 *       sum K; the authors' code trains each for an epoch): the epoch is K passes of G steps per worker, and in pass p
 *       worker w trains architecture (p + w) mod K, so over the K passes each architecture meets every worker's shard once.
 *       With {@code pass-per-architecture = false} the K share one pass: its W x G worker-steps are laid out worker by
 *       worker and cut into K equal runs (G W / K steps each). With at most K workers, per-part averaging averages every op
 *       of a K-op layer over the one worker that trained it in the round: exact, the same as training it alone.</li>
 *   <li>After the epoch the trainer evaluates the K architectures on val, BatchNorm recalibrated ({@link #evaluations},
 *       {@link #observeEvaluations}): {@code P[l, op, t]} = the val accuracy of the architecture that used op at layer l in
 *       epoch t (Eq. 2; the mean where a layer with fewer ops used it more than once).</li>
 *   <li>Every T epochs: the utility {@code P_bar = 1/T sum_t P} (Eq. 3); {@code V = g V + (1 - g) softmax(P_bar / temp)} over
 *       the layer's remaining ops (Eq. 4); {@code theta = theta + lr V} (Eq. 5), normalised over all the layer's ops, pruned
 *       ones included ("we retain the corresponding probability for the pruned operation for normalization"), by softmax
 *       (the paper) or by the row sum (the authors' code); then in every layer the remaining op of lowest theta is pruned,
 *       keeping one op of each section (the parameter ops and the non-parameter op identity, section 3.2).</li>
 *   <li>Stopping rule: when every layer is down to one op per section; since each update prunes exactly one op per layer
 *       that still can lose one, the number of epochs is fixed up front: T x max over layers of (ops - sections).</li>
 * </ul>
 * The defaults take Eq. 4's temperature (0.01) and the normalisation after Eq. 5 (row sum) from the authors' code: with
 * the printed temperature 1 and a softmax, theta stays within a few hundredths of uniform (docs/deviations.md, with the
 * measurement in docs/performance.md). Constrained generation (Eq. 9-10) reads theta off {@code arch_params}:
 * {@link io.sparknas.search.generation.ExpectationKnapsack}.
 */
public final class DdpnasStrategy implements TrainingStrategy {

    /**
     * @param epochsPerUpdate    T: epochs between distribution updates and prunes (section 4: 3; Fig. 6: below 4)
     * @param momentum           g of Eq. 4
     * @param utility            {@code softmax-of-mean} (Eq. 3-4) or {@code mean-of-softmax} (the authors' code)
     * @param utilityTemperature temperature of Eq. 4's softmax (the paper: 1; the authors' code: 1/100)
     * @param normalisation      of theta after Eq. 5: {@code softmax} (the paper) or {@code row-sum} (the authors' code)
     * @param learningRate       factor of V in Eq. 5 (1: Eq. 5 as printed)
     * @param sampling           {@code theta} (the paper: without replacement according to theta) or {@code uniform}
     * @param passPerArchitecture true: each of the epoch's K architectures trains on a whole pass of train (Eq. 19); false:
     *                           the K share one pass
     * @param seed               seed of the disjoint draws
     */
    public record Settings(int epochsPerUpdate, double momentum, String utility, double utilityTemperature, String normalisation,
                           double learningRate, String sampling, boolean passPerArchitecture, long seed) {

        public Settings {
            if (epochsPerUpdate < 1 || !(momentum >= 0 && momentum < 1) || !(utilityTemperature > 0) || !(learningRate > 0)
                    || !List.of("softmax-of-mean", "mean-of-softmax").contains(utility) || !List.of("softmax", "row-sum").contains(normalisation)
                    || !List.of("theta", "uniform").contains(sampling)) {
                throw new IllegalArgumentException("DDPNAS settings out of range: " + this);
            }
        }

        /** {@code nas.ddpnas} (this module's reference.conf) without its generation part, read and validated; draws seeded by the supernet's seed. */
        public static Settings read(Config config, long seed) {
            SettingsReader r = new SettingsReader(config);
            return new Settings(r.intBetween("nas.ddpnas.epochs-per-update", 1, 100_000),
                    r.doubleBetween("nas.ddpnas.momentum", 0, 0.999999),
                    r.oneOf("nas.ddpnas.utility", Set.of("softmax-of-mean", "mean-of-softmax")),
                    r.doubleBetween("nas.ddpnas.utility-temperature", 1e-6, 1e6),
                    r.oneOf("nas.ddpnas.normalisation", Set.of("softmax", "row-sum")),
                    r.doubleBetween("nas.ddpnas.learning-rate", 1e-9, 1e6),
                    r.oneOf("nas.ddpnas.sampling", Set.of("theta", "uniform")), config.getBoolean("nas.ddpnas.pass-per-architecture"), seed);
        }
    }

    private final SearchSpace full;
    private final Settings s;
    private final double[][] theta;
    private final double[][] velocity;
    /** 0: remaining; else the 1-based epoch at whose end the op was pruned. */
    private final int[][] prunedAt;
    /** Sum over the current window's epochs of P (Eq. 2), and of softmax(P / temp) for the code's variant. */
    private final double[][] windowSum;
    private final double[][] windowSoftmaxSum;
    private int windowEpochs;
    /** The epoch whose architectures were last drawn and evaluated, and its P (per layer, per op; NaN: not used). */
    private int evaluatedEpoch = -1;
    private double[][] lastPerformance;
    private final int epochs;
    private int workers = 1;
    private int[] weightSteps;

    public DdpnasStrategy(SearchSpace space, Settings s) {
        this.full = space;
        this.s = s;
        int layers = space.size();
        theta = new double[layers][];
        velocity = new double[layers][];
        prunedAt = new int[layers][];
        windowSum = new double[layers][];
        windowSoftmaxSum = new double[layers][];
        int prunes = 0;
        for (int l = 0; l < layers; l++) {
            int n = space.layer(l).candidates().size();
            theta[l] = new double[n];
            Arrays.fill(theta[l], 1.0 / n);
            velocity[l] = new double[n];
            prunedAt[l] = new int[n];
            windowSum[l] = new double[n];
            windowSoftmaxSum[l] = new double[n];
            prunes = Math.max(prunes, n - sections(space.layer(l).candidates()));
        }
        this.epochs = s.epochsPerUpdate() * Math.max(1, prunes);
    }

    @Override
    public String method() {
        return "ddpnas";
    }

    /** Whether an op is in the non-parameter section (identity: skip the layer). */
    public static boolean nonParameter(Op op) {
        return op instanceof Op.Identity;
    }

    /** Sections a layer's ops fill: 1 or 2 (parameter ops, non-parameter op). */
    static int sections(List<Op> ops) {
        boolean p = ops.stream().anyMatch(o -> !nonParameter(o));
        boolean n = ops.stream().anyMatch(DdpnasStrategy::nonParameter);
        return (p ? 1 : 0) + (n ? 1 : 0);
    }

    @Override
    public SearchSpace space() {
        return PrunedCandidates.space(full, prunedAt);
    }

    private List<Op> remaining(int l) {
        return PrunedCandidates.live(full, prunedAt, l);
    }

    private int[] remainingIndices(int l) {
        return IntStream.range(0, prunedAt[l].length).filter(i -> prunedAt[l][i] == 0).toArray();
    }

    @Override
    public int epochs() {
        return epochs;
    }

    @Override
    public EpochPlan epochPlan(int e) {
        int[] classes = IntStream.range(0, full.classes()).toArray();
        int window = e / s.epochsPerUpdate() + 1;
        int k = kAt(e);
        return new EpochPlan(classes, false, String.format(Locale.ROOT, "update %d/%d epoch %d/%d, %d disjoint architectures%s",
                window, epochs / s.epochsPerUpdate(), e % s.epochsPerUpdate() + 1, s.epochsPerUpdate(), k,
                s.passPerArchitecture() ? ", a pass each" : " sharing a pass"), "val", 1.0, false, s.passPerArchitecture() ? k : 1);
    }

    /** K: the largest number of remaining ops of any layer. */
    public int k() {
        int k = 1;
        for (int l = 0; l < full.size(); l++) {
            k = Math.max(k, remainingIndices(l).length);
        }
        return k;
    }

    /**
     * K of epoch e, known before training: every update prunes exactly one op of each layer that still holds two ops of a
     * section, so after u updates a layer of n ops in s sections holds max(s, n - u).
     */
    int kAt(int e) {
        int updates = e / s.epochsPerUpdate();
        int k = 1;
        for (int l = 0; l < full.size(); l++) {
            List<Op> ops = full.layer(l).candidates();
            k = Math.max(k, Math.max(sections(ops), ops.size() - updates));
        }
        return k;
    }

    @Override
    public void trainingShape(int workers, int[] weightSteps) {
        if (workers < 1 || weightSteps.length != epochs) {
            throw new IllegalArgumentException("training shape: " + workers + " workers, " + weightSteps.length + " epochs of " + epochs);
        }
        this.workers = workers;
        this.weightSteps = weightSteps.clone();
    }

    /**
     * The K disjoint architectures of epoch e (Algorithm 1 line 3), a function of the seed, the epoch and the current theta and
     * pruning: per layer a permutation of its remaining ops drawn without replacement in proportion to theta (or uniformly).
     */
    public List<Arch> sample(int e) {
        int k = k();
        int[][] perLayer = new int[full.size()][k];
        for (int l = 0; l < full.size(); l++) {
            Random rnd = new Random(s.seed() * 0x9E3779B97F4A7C15L ^ (e * 1_000_003L + l) * 0xC2B2AE3D27D4EB4FL);
            int[] ops = remainingIndices(l);
            int filled = 0;
            while (filled < k) {
                List<Integer> left = new ArrayList<>(Arrays.stream(ops).boxed().toList());
                while (!left.isEmpty() && filled < k) {
                    double total = 0;
                    for (int i : left) {
                        total += weight(l, i);
                    }
                    double u = rnd.nextDouble() * total;
                    int pick = left.size() - 1;
                    for (int j = 0; j < left.size(); j++) {
                        u -= weight(l, left.get(j));
                        if (u < 0) {
                            pick = j;
                            break;
                        }
                    }
                    perLayer[l][filled++] = left.remove(pick);
                }
            }
        }
        List<Arch> archs = new ArrayList<>();
        for (int a = 0; a < k; a++) {
            List<Op> ops = new ArrayList<>();
            for (int l = 0; l < full.size(); l++) {
                ops.add(full.layer(l).candidates().get(perLayer[l][a]));
            }
            archs.add(Arch.single(ops));
        }
        return archs;
    }

    private double weight(int l, int i) {
        return s.sampling().equals("uniform") ? 1 : Math.max(theta[l][i], 1e-300);
    }

    @Override
    public RoundPlan plan(int e, Phase phase) {
        if (phase != Phase.WEIGHTS) {
            throw new IllegalArgumentException("DDPNAS has no architecture steps: its distribution follows val accuracy (Eq. 2-5)");
        }
        if (weightSteps == null) {
            throw new IllegalStateException("DDPNAS needs trainingShape(workers, weightSteps) before plan()");
        }
        List<Arch> archs = sample(e);
        if (archs.size() != kAt(e)) {
            throw new IllegalStateException("DDPNAS epoch " + (e + 1) + " draws " + archs.size() + " architectures where its plan has " + kAt(e));
        }
        int passes = s.passPerArchitecture() ? archs.size() : 1;
        return new DisjointPlan(archs, workers, weightSteps[e] / passes, s.passPerArchitecture());
    }

    @Override
    public void observe(int e, double[][] gradientSum, long steps) {
        throw new IllegalStateException("DDPNAS has no architecture steps");
    }

    @Override
    public List<Arch> evaluations(int e) {
        return sample(e);
    }

    @Override
    public void observeEvaluations(int e, double[] accuracy) {
        List<Arch> archs = sample(e);
        if (accuracy.length != archs.size()) {
            throw new IllegalArgumentException(accuracy.length + " accuracies for " + archs.size() + " architectures");
        }
        double[][] p = new double[full.size()][];
        for (int l = 0; l < full.size(); l++) {
            List<Op> cands = full.layer(l).candidates();
            double[] sum = new double[cands.size()];
            int[] count = new int[cands.size()];
            for (int a = 0; a < archs.size(); a++) {
                int i = cands.indexOf(archs.get(a).op(l));
                sum[i] += accuracy[a];
                count[i]++;
            }
            p[l] = new double[cands.size()];
            for (int i = 0; i < cands.size(); i++) {
                p[l][i] = count[i] == 0 ? Double.NaN : sum[i] / count[i];
                if (prunedAt[l][i] == 0 && count[i] == 0) {
                    throw new IllegalStateException("layer " + l + " op " + cands.get(i).code() + " was not sampled in epoch " + (e + 1));
                }
            }
            int[] rem = remainingIndices(l);
            double[] pl = p[l];
            double[] sm = softmax(Arrays.stream(rem).mapToDouble(i -> pl[i] / s.utilityTemperature()).toArray());
            for (int j = 0; j < rem.length; j++) {
                windowSum[l][rem[j]] += p[l][rem[j]];
                windowSoftmaxSum[l][rem[j]] += sm[j];
            }
        }
        windowEpochs++;
        evaluatedEpoch = e;
        lastPerformance = p;
    }

    @Override
    public List<ArchParam> endEpoch(int e) {
        if (evaluatedEpoch != e) {
            throw new IllegalStateException("DDPNAS epoch " + (e + 1) + " ended before its architectures were evaluated");
        }
        List<ArchParam> rows = new ArrayList<>();
        for (int l = 0; l < full.size(); l++) {
            List<Op> cands = full.layer(l).candidates();
            for (int i = 0; i < cands.size(); i++) {
                if (!Double.isNaN(lastPerformance[l][i])) {
                    rows.add(new ArchParam(e + 1, l, cands.get(i).name(), lastPerformance[l][i], "performance"));
                }
            }
        }
        if ((e + 1) % s.epochsPerUpdate() == 0) {
            for (int l = 0; l < full.size(); l++) {
                int[] rem = remainingIndices(l);
                double[] u = update(l, rem);
                List<Op> cands = full.layer(l).candidates();
                for (int j = 0; j < rem.length; j++) {
                    rows.add(new ArchParam(e + 1, l, cands.get(rem[j]).name(), u[j], "utility"));
                }
                prune(l, e + 1);
            }
            for (double[] w : windowSum) {
                Arrays.fill(w, 0);
            }
            for (double[] w : windowSoftmaxSum) {
                Arrays.fill(w, 0);
            }
            windowEpochs = 0;
        }
        for (int l = 0; l < full.size(); l++) {
            List<Op> cands = full.layer(l).candidates();
            for (int i = 0; i < cands.size(); i++) {
                rows.add(new ArchParam(e + 1, l, cands.get(i).name(), theta[l][i], "theta"));
                if (prunedAt[l][i] != 0) {
                    rows.add(new ArchParam(e + 1, l, cands.get(i).name(), prunedAt[l][i], "pruned"));
                }
            }
        }
        return rows;
    }

    /** Eq. 3-4's normalised utility of the remaining ops (aligned with {@code rem}). */
    private double[] utility(int l, int[] rem) {
        if (s.utility().equals("mean-of-softmax")) {
            return Arrays.stream(rem).mapToDouble(i -> windowSoftmaxSum[l][i] / windowEpochs).toArray();
        }
        return softmax(Arrays.stream(rem).mapToDouble(i -> windowSum[l][i] / windowEpochs / s.utilityTemperature()).toArray());
    }

    /** Eq. 4-5 for layer l's remaining ops {@code rem}, then the normalisation over all its ops; returns the utility (Eq. 3-4). */
    private double[] update(int l, int[] rem) {
        double[] u = utility(l, rem);
        for (int j = 0; j < rem.length; j++) {
            int i = rem[j];
            velocity[l][i] = s.momentum() * velocity[l][i] + (1 - s.momentum()) * u[j];
            theta[l][i] += s.learningRate() * velocity[l][i];
        }
        if (s.normalisation().equals("softmax")) {
            theta[l] = softmax(theta[l]);
        } else {
            double sum = Arrays.stream(theta[l]).sum();
            for (int i = 0; i < theta[l].length; i++) {
                theta[l][i] /= sum;
            }
        }
        return u;
    }

    /** Prunes the remaining op of lowest theta whose section keeps another op (ties: the later op); none at the stopping rule. */
    private void prune(int l, int epoch) {
        List<Op> cands = full.layer(l).candidates();
        int worst = -1;
        for (int i : remainingIndices(l)) {
            boolean np = nonParameter(cands.get(i));
            long sameSection = Arrays.stream(remainingIndices(l)).filter(j -> nonParameter(cands.get(j)) == np).count();
            if (sameSection > 1 && (worst < 0 || theta[l][i] <= theta[l][worst])) {
                worst = i;
            }
        }
        if (worst >= 0) {
            prunedAt[l][worst] = epoch;
        }
    }

    static double[] softmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double[] out = new double[x.length];
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            out[i] = Math.exp(x[i] - max);
            sum += out[i];
        }
        for (int i = 0; i < x.length; i++) {
            out[i] /= sum;
        }
        return out;
    }

    /** Whether every layer is down to one op per section (the stopping rule). */
    public boolean stopped() {
        for (int l = 0; l < full.size(); l++) {
            if (remainingIndices(l).length > sections(remaining(l))) {
                return false;
            }
        }
        return true;
    }

    /** Remaining ops per layer, the op of highest theta per layer, and whether the stopping rule holds. */
    @Override
    public String epochSummary() {
        List<String> best = new ArrayList<>();
        for (int l = 0; l < theta.length; l++) {
            int b = -1;
            for (int i = 0; i < theta[l].length; i++) {
                if (prunedAt[l][i] == 0 && (b < 0 || theta[l][i] > theta[l][b])) {
                    b = i;
                }
            }
            best.add(full.layer(l).candidates().get(b).code());
        }
        return "remaining ops per layer " + space().layers().stream().map(l -> String.valueOf(l.candidates().size())).toList()
                + ", highest theta per layer " + String.join("-", best) + (stopped() ? " (one op per section left: the stopping rule)" : "");
    }

    /** DDPNAS outputs its architectures by constrained generation in the search stage (Eq. 9-10), not here. */
    @Override
    public Optional<Arch> readOff() {
        return Optional.empty();
    }

    /** Copy of theta (every op of the full space). */
    public double[][] theta() {
        double[][] out = new double[theta.length][];
        for (int l = 0; l < theta.length; l++) {
            out[l] = theta[l].clone();
        }
        return out;
    }

    /** Copy of the pruning epochs (0: remaining). */
    public int[][] prunedAt() {
        int[][] out = new int[prunedAt.length][];
        for (int l = 0; l < prunedAt.length; l++) {
            out[l] = prunedAt[l].clone();
        }
        return out;
    }

    /** Lines per layer: theta, velocity, pruned, window sums; then the window's epochs; doubles exact (hex). */
    @Override
    public String state() {
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < theta.length; l++) {
            line(b, "theta", l, theta[l]);
            line(b, "velocity", l, velocity[l]);
            line(b, "window", l, windowSum[l]);
            line(b, "window-softmax", l, windowSoftmaxSum[l]);
            b.append("pruned ").append(l);
            for (int v : prunedAt[l]) {
                b.append(' ').append(v);
            }
            b.append('\n');
        }
        b.append("window-epochs ").append(windowEpochs).append('\n');
        b.append("evaluated ").append(evaluatedEpoch).append('\n');
        if (lastPerformance != null) {
            for (int l = 0; l < lastPerformance.length; l++) {
                line(b, "performance", l, lastPerformance[l]);
            }
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String name, int l, double[] v) {
        b.append(name).append(' ').append(l);
        for (double x : v) {
            b.append(' ').append(Double.toHexString(x));
        }
        b.append('\n');
    }

    @Override
    public void restore(String state) {
        int seen = 0;
        double[][] perf = null;
        for (String line : state.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "window-epochs" -> windowEpochs = Integer.parseInt(f[1]);
                case "evaluated" -> evaluatedEpoch = Integer.parseInt(f[1]);
                case "theta", "velocity", "window", "window-softmax", "pruned", "performance" -> {
                    int l = Integer.parseInt(f[1]);
                    if (l >= theta.length || f.length - 2 != theta[l].length) {
                        throw new IllegalArgumentException("DDPNAS state does not fit the space: line '" + f[0] + " " + l + "' has "
                                + (f.length - 2) + " values");
                    }
                    if (f[0].equals("pruned")) {
                        for (int i = 0; i < theta[l].length; i++) {
                            prunedAt[l][i] = Integer.parseInt(f[2 + i]);
                        }
                    } else {
                        double[] target = switch (f[0]) {
                            case "theta" -> theta[l];
                            case "velocity" -> velocity[l];
                            case "window" -> windowSum[l];
                            case "window-softmax" -> windowSoftmaxSum[l];
                            default -> {
                                if (perf == null) {
                                    perf = new double[theta.length][];
                                }
                                perf[l] = new double[theta[l].length];
                                yield perf[l];
                            }
                        };
                        for (int i = 0; i < target.length; i++) {
                            target[i] = Double.parseDouble(f[2 + i]);
                        }
                    }
                    seen += f[0].equals("performance") ? 0 : 1;
                }
                default -> throw new IllegalArgumentException("DDPNAS state: unknown line " + f[0]);
            }
        }
        if (seen != 5 * theta.length) {
            throw new IllegalArgumentException("DDPNAS state holds " + seen / 5 + " layers, the space " + theta.length);
        }
        lastPerformance = perf;
    }

    /**
     * The executors' part, for G = {@code stepsPerPass} steps per worker per pass over its shard. A pass each: worker w's step
     * {@code p G + g} trains architecture {@code (p + w) mod K}. A shared pass: worker w's step g trains architecture
     * {@code floor((w G + g) K / (W G))} (the pass's W x G worker-steps laid out worker by worker, cut into K equal runs).
     */
    record DisjointPlan(List<Arch> archs, int workers, int stepsPerPass, boolean passEach) implements RoundPlan {

        int archOf(int worker, int step) {
            if (passEach) {
                return (step / stepsPerPass + worker) % archs.size();
            }
            long total = (long) workers * stepsPerPass;
            return (int) Math.min(archs.size() - 1, ((long) worker * stepsPerPass + step) * archs.size() / total);
        }

        @Override
        public StepPlan step(int worker, int step, Random rnd) {
            return StepPlan.path(archs.get(archOf(worker, step)));
        }

        @Override
        public double[][] parameterGradient(StepPlan step, StepResult result) {
            throw new IllegalStateException("DDPNAS has no architecture steps");
        }
    }
}
