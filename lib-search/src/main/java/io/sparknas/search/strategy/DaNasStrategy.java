package io.sparknas.search.strategy;

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
 * DA-NAS supernet training (Dai et al. 2020, sections 4.2-4.3, Algorithm 1).
 *
 * <ul>
 *   <li>Every layer's output is {@code sum_i p_i o_i(x)} over its live candidates, {@code p ~ GumbelSoftmax(a, tau)} drawn per
 *       step (Eq. 6-7, {@link GumbelSoftmax}); weight rounds on the train images of the current classes optimise Eq. 9 with
 *       the logits fixed.</li>
 *   <li>Architecture rounds on the val images of the same classes optimise Eq. 10 ({@link CostAwareLoss}) with the expected
 *       cost {@code C = fixed + sum_l sum_i p_{l,i} cost(l, i)} (Eq. 8); the workers' summed dL/da is applied once per round
 *       on the driver ({@link LogitOptimizer}), so every worker samples from the same logits.</li>
 *   <li>Schedule (Algorithm 1): {@link Settings#warmupEpochs} weight-only epochs on the easiest {@code delta[0]} classes, then
 *       steps s = 1..S of {@link Settings#epochsPerStep} epochs on the easiest {@code delta[s]} classes; at the end of every
 *       step ("S <- Reduce S") each layer drops {@code round(pi * n)} of its n live candidates with the lowest softmax(a),
 *       never the last one. The result is the argmax of a per layer.</li>
 * </ul>
 * Ablations (the paper's Tables 4 and 6): schedule {@code hard-first}, {@code all} (every class from the start), pruning off.
 */
public final class DaNasStrategy implements TrainingStrategy {

    /**
     * @param schedule       {@code easy-first} (Algorithm 1), {@code hard-first}, or {@code all} (every epoch on all classes)
     * @param classFractions delta: fractions of all classes for the warm-up (entry 0) and each step s (entry s)
     * @param warmupEpochs   weight-only epochs on delta[0]
     * @param epochsPerStep  epochs of each step s >= 1
     * @param pruneRatio     pi: share of each layer's live candidates dropped at the end of every step
     * @param prune          false: no pruning (ablation)
     * @param temperature    tau of the Gumbel-softmax (fixed)
     * @param loss           Eq. 10's target cost and strength
     * @param optimizer      {@code adam} or {@code sgd} for the logits
     * @param alternate      true: one logit update per architecture minibatch of every worker, the val steps spread between
     *                       the weight rounds (Algorithm 1's alternation of Eq. 9 and 10); false: all weight rounds, then the
     *                       val pass in rounds of nas.supernet.steps-per-round steps, one update per round
     */
    public record Settings(String schedule, List<Double> classFractions, int warmupEpochs, int epochsPerStep, double pruneRatio,
                           boolean prune, double temperature, CostAwareLoss loss, String optimizer, double learningRate, double beta1,
                           double beta2, boolean alternate) {
        /** {@code nas.danas} (this module's reference.conf), read and validated. */
        public static Settings read(Config config) {
            SettingsReader r = new SettingsReader(config);
            List<Double> fractions = r.doublesBetween("nas.danas.class-fractions", 1e-9, 1);
            if (fractions.size() < 2) {
                throw new InvalidSettingsException("nas.danas.class-fractions = " + fractions + ": give the warm-up's fraction and at least one "
                        + "step's, e.g. [0.1, 0.3, 0.6, 1.0] (DA-NAS section 5.1: 100, 300, 600, 1000 of 1000 classes).");
            }
            for (int i = 1; i < fractions.size(); i++) {
                if (fractions.get(i) < fractions.get(i - 1)) {
                    throw new InvalidSettingsException("nas.danas.class-fractions = " + fractions + " decreases at entry " + i
                            + ": each step adds classes (DA-NAS Algorithm 1), so give non-decreasing fractions.");
                }
            }
            if (fractions.get(fractions.size() - 1) != 1.0) {
                throw new InvalidSettingsException("nas.danas.class-fractions = " + fractions + " does not end at 1.0: the last step of "
                        + "DA-NAS trains on every class (Algorithm 1), so end the list with 1.0.");
            }
            double target = r.doubleBetween("nas.danas.target-cost", 0, 1e12);
            double gamma = r.doubleBetween("nas.danas.cost-exponent", 0, 100);
            if (gamma > 0 && !(target > 0)) {
                throw new InvalidSettingsException("nas.danas.target-cost = " + target + " with nas.danas.cost-exponent = " + gamma
                        + ": Eq. 10 needs a positive target cost (beta, in the cost's unit: MFLOPs, millions of parameters or ms); "
                        + "set one, or nas.danas.cost-exponent = 0 to drop the cost term.");
            }
            return new Settings(r.oneOf("nas.danas.schedule", Set.of("easy-first", "hard-first", "all")), fractions,
                    r.intBetween("nas.danas.warmup-epochs", 0, 100_000), r.intBetween("nas.danas.epochs-per-step", 1, 100_000),
                    r.doubleBetween("nas.danas.prune-ratio", 0, 1), r.bool("nas.danas.prune"),
                    r.doubleBetween("nas.danas.temperature", 1e-6, 1e6),
                    new CostAwareLoss(target, gamma, r.oneOf("nas.danas.cost-pull", Set.of("always", "above-target")).equals("above-target")),
                    r.oneOf("nas.danas.optimizer.kind", Set.of("adam", "sgd")), r.doubleBetween("nas.danas.optimizer.learning-rate", 1e-12, 100),
                    r.doubleBetween("nas.danas.optimizer.beta1", 0, 0.999999), r.doubleBetween("nas.danas.optimizer.beta2", 0, 0.999999),
                    r.bool("nas.danas.alternate"));
        }
    }

    private final SearchSpace full;
    private final Settings s;
    /** Classes from easiest to hardest (as the schedule takes them). */
    private final int[] order;
    private final double[][] opCost;
    private final double fixedCost;
    private final double[][] logits;
    /** 0: alive; else the 1-based epoch at whose end the op was pruned. */
    private final int[][] prunedAt;
    private final LogitOptimizer optimizer;
    /** Logits at the start of the current step (after the last pruning): what the epoch rows' logit movement is against. */
    private final double[][] stepStart;
    /** This epoch's summed |dL/da| per layer: classification part (F dL_cls/dp) and cost part (L_cls F'(C) cost). */
    private final double[] classificationNorm;
    private final double[] costNorm;
    /** Logit updates (architecture rounds observed) in this epoch. */
    private int updates;
    /** The first part of {@link #epochSummary()}, set by {@link #endEpoch}. */
    private String lastSummary = "";

    /**
     * @param space          the full space (every candidate starts alive)
     * @param easiestFirst   class indices ranked from easiest to hardest (class_easiness); ignored for schedule {@code all}
     * @param opCost         cost of candidate i of layer l in the cost model's unit (Eq. 8's {@code C(b_j(o_i(x)))})
     * @param fixedCost      cost of stem and head
     */
    public DaNasStrategy(SearchSpace space, Settings s, int[] easiestFirst, double[][] opCost, double fixedCost) {
        this.full = space;
        this.s = s;
        int classes = space.classes();
        int[] rank = easiestFirst.clone();
        if (rank.length != classes || Arrays.stream(rank).sorted().distinct().count() != classes
                || Arrays.stream(rank).anyMatch(c -> c < 0 || c >= classes)) {
            throw new IllegalArgumentException("class ranking " + Arrays.toString(rank) + " is not a permutation of the " + classes + " classes");
        }
        if (s.schedule().equals("hard-first")) {
            for (int i = 0; i < classes / 2; i++) {
                int t = rank[i];
                rank[i] = rank[classes - 1 - i];
                rank[classes - 1 - i] = t;
            }
        }
        this.order = rank;
        this.opCost = opCost;
        this.fixedCost = fixedCost;
        this.logits = new double[space.size()][];
        this.prunedAt = new int[space.size()][];
        int n = 0;
        for (int l = 0; l < space.size(); l++) {
            int c = space.layer(l).candidates().size();
            if (opCost[l].length != c) {
                throw new IllegalArgumentException("layer " + l + ": " + opCost[l].length + " costs for " + c + " candidates");
            }
            logits[l] = new double[c];
            prunedAt[l] = new int[c];
            n += c;
        }
        this.optimizer = new LogitOptimizer(s.optimizer(), s.learningRate(), s.beta1(), s.beta2(), 1e-8, n);
        this.stepStart = logits();
        this.classificationNorm = new double[space.size()];
        this.costNorm = new double[space.size()];
    }

    @Override
    public String method() {
        return "danas";
    }

    /** Steps s = 1..S after the warm-up. */
    public int steps() {
        return s.classFractions().size() - 1;
    }

    @Override
    public int epochs() {
        return s.warmupEpochs() + steps() * s.epochsPerStep();
    }

    /** 0 for a warm-up epoch, else its step s in 1..S. */
    public int stepOf(int e) {
        return e < s.warmupEpochs() ? 0 : 1 + (e - s.warmupEpochs()) / s.epochsPerStep();
    }

    /** Classes of step s: the first max(1, round(delta[s] * classes)) of the ranking ({@code all}: every class). */
    public int classesOf(int step) {
        int c = full.classes();
        return s.schedule().equals("all") ? c : (int) Math.max(1, Math.min(c, Math.round(s.classFractions().get(step) * c)));
    }

    @Override
    public EpochPlan epochPlan(int e) {
        int step = stepOf(e);
        int n = classesOf(step);
        int[] cls = Arrays.copyOf(order, n);
        Arrays.sort(cls);
        String label = step == 0 ? String.format(Locale.ROOT, "warm-up epoch %d/%d on %d classes", e + 1, s.warmupEpochs(), n)
                : String.format(Locale.ROOT, "step %d/%d epoch %d/%d on %d classes", step, steps(),
                (e - s.warmupEpochs()) % s.epochsPerStep() + 1, s.epochsPerStep(), n);
        return new EpochPlan(cls, step > 0, label, "val", 1.0, s.alternate());
    }

    @Override
    public SearchSpace space() {
        return PrunedCandidates.space(full, prunedAt);
    }

    private List<Op> alive(int l) {
        return PrunedCandidates.live(full, prunedAt, l);
    }

    private double[] aliveValues(double[][] v, int l) {
        double[] out = new double[alive(l).size()];
        int k = 0;
        for (int i = 0; i < v[l].length; i++) {
            if (prunedAt[l][i] == 0) {
                out[k++] = v[l][i];
            }
        }
        return out;
    }

    @Override
    public RoundPlan plan(int e, Phase phase) {
        List<List<Op>> ops = new ArrayList<>();
        double[][] a = new double[full.size()][];
        double[][] c = new double[full.size()][];
        for (int l = 0; l < full.size(); l++) {
            ops.add(alive(l));
            a[l] = aliveValues(logits, l);
            c[l] = aliveValues(opCost, l);
        }
        return new GumbelPlan(Arch.multi(ops), a, c, fixedCost, s.temperature(), s.loss());
    }

    /**
     * Applies the round's mean dL/da. A {@link GumbelPlan}'s gradient carries two more rows after the layers': per layer the
     * summed |dL/da| of the classification part and of the cost part, which this epoch's rows and summary report.
     */
    @Override
    public void observe(int e, double[][] gradientSum, long steps) {
        int layers = full.size();
        if (gradientSum.length == layers + 2) {
            for (int l = 0; l < layers; l++) {
                classificationNorm[l] += gradientSum[layers][l];
                costNorm[l] += gradientSum[layers + 1][l];
            }
        } else if (gradientSum.length != layers) {
            throw new IllegalArgumentException(gradientSum.length + " gradient rows for " + layers + " layers");
        }
        FlatParameters f = FlatParameters.of(logits, prunedAt, gradientSum, steps);
        optimizer.step(f.values, f.gradient, f.live);
        f.copyTo(logits);
        updates++;
    }

    /** The classification part's share of this epoch's |dL/da| over every layer (NaN before any architecture step). */
    public double classificationShare() {
        double c = Arrays.stream(classificationNorm).sum();
        double k = Arrays.stream(costNorm).sum();
        return c / (c + k);
    }

    /** The largest |logit - its value at the start of the current step| over the live candidates. */
    public double logitMovement() {
        double m = 0;
        for (int l = 0; l < full.size(); l++) {
            for (int i = 0; i < logits[l].length; i++) {
                if (prunedAt[l][i] == 0) {
                    m = Math.max(m, Math.abs(logits[l][i] - stepStart[l][i]));
                }
            }
        }
        return m;
    }

    @Override
    public List<ArchParam> endEpoch(int e) {
        int step = stepOf(e);
        boolean stepEnd = step > 0 && (e - s.warmupEpochs()) % s.epochsPerStep() == s.epochsPerStep() - 1;
        List<ArchParam> rows = new ArrayList<>();
        lastSummary = "";
        if (step > 0) {
            // what decided this epoch's logits, before any pruning at its end
            for (int l = 0; l < full.size(); l++) {
                double total = classificationNorm[l] + costNorm[l];
                if (total > 0) {
                    // none for a layer down to one live candidate: its logit gradient is 0
                    rows.add(new ArchParam(e + 1, l, "*", classificationNorm[l] / total, "classification-share"));
                }
                List<Op> cands = full.layer(l).candidates();
                for (int i = 0; i < cands.size(); i++) {
                    if (prunedAt[l][i] == 0) {
                        rows.add(new ArchParam(e + 1, l, cands.get(i).name(), logits[l][i] - stepStart[l][i], "logit-movement"));
                    }
                }
            }
            lastSummary = String.format(Locale.ROOT, "%d logit updates, classification share of |dL/da| %.3f, logits moved at most %.4f "
                    + "since step %d began%s; ", updates, classificationShare(), logitMovement(), step, stepEnd && s.prune() ? " (then pruned)" : "");
        }
        Arrays.fill(classificationNorm, 0);
        Arrays.fill(costNorm, 0);
        updates = 0;
        if (stepEnd && s.prune()) {
            for (int l = 0; l < full.size(); l++) {
                prune(l, e + 1);
            }
        }
        if (stepEnd || step == 0) {
            for (int l = 0; l < full.size(); l++) {
                stepStart[l] = logits[l].clone();
            }
        }
        for (int l = 0; l < full.size(); l++) {
            double[] p = GumbelSoftmax.softmax(aliveValues(logits, l), 1);
            List<Op> cands = full.layer(l).candidates();
            int k = 0;
            for (int i = 0; i < cands.size(); i++) {
                String op = cands.get(i).name();
                rows.add(new ArchParam(e + 1, l, op, logits[l][i], "logit"));
                if (prunedAt[l][i] == 0) {
                    rows.add(new ArchParam(e + 1, l, op, p[k++], "probability"));
                } else {
                    rows.add(new ArchParam(e + 1, l, op, 0, "probability"));
                    rows.add(new ArchParam(e + 1, l, op, prunedAt[l][i], "pruned"));
                }
            }
        }
        return rows;
    }

    /** Drops round(pi * n) of layer l's n live candidates with the lowest logit (= lowest softmax(a)); keeps at least one. */
    private void prune(int l, int epoch) {
        int n = alive(l).size();
        int drop = (int) Math.min(n - 1, Math.round(s.pruneRatio() * n));
        for (int d = 0; d < drop; d++) {
            int worst = -1;
            for (int i = 0; i < logits[l].length; i++) {
                // ties: the later candidate goes first, so the order of the space decides and nothing else
                if (prunedAt[l][i] == 0 && (worst < 0 || logits[l][i] <= logits[l][worst])) {
                    worst = i;
                }
            }
            prunedAt[l][worst] = epoch;
        }
    }

    /** Live candidates per layer dropped at the end of a step with n live: what {@link #endEpoch} prunes. */
    public int dropCount(int n) {
        return s.prune() ? (int) Math.min(n - 1, Math.round(s.pruneRatio() * n)) : 0;
    }

    @Override
    public Optional<Arch> readOff() {
        boolean[][] live = new boolean[full.size()][];
        for (int l = 0; l < full.size(); l++) {
            live[l] = new boolean[prunedAt[l].length];
            for (int i = 0; i < live[l].length; i++) {
                live[l][i] = prunedAt[l][i] == 0;
            }
        }
        return Optional.of(argmax(full, logits, live));
    }

    /**
     * DA-NAS's final architecture (section 4.3: "directly picked by maximizing the architecture distribution"): per layer the
     * live candidate with the highest logit (the first of equals, in the space's order).
     */
    public static Arch argmax(SearchSpace space, double[][] logits, boolean[][] live) {
        List<Op> ops = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            int best = -1;
            for (int i = 0; i < logits[l].length; i++) {
                if (live[l][i] && (best < 0 || logits[l][i] > logits[l][best])) {
                    best = i;
                }
            }
            if (best < 0) {
                throw new IllegalArgumentException("layer " + l + " has no live candidate");
            }
            ops.add(space.layer(l).candidates().get(best));
        }
        return Arch.single(ops);
    }

    /**
     * The last epoch's logit updates, classification share of |dL/da| and logit movement; live candidates per layer, the
     * expected cost against beta (Eq. 8, 10) and the argmax read-off.
     */
    @Override
    public String epochSummary() {
        return lastSummary + "live candidates per layer " + space().layers().stream().map(l -> String.valueOf(l.candidates().size())).toList()
                + ", expected cost " + String.format("%.3f", expectedCost()) + " (target " + s.loss().beta() + "), argmax "
                + readOff().orElseThrow().id();
    }

    /** Expected cost under softmax(a) of the live candidates (Eq. 8 without noise), in the cost model's unit. */
    public double expectedCost() {
        double c = fixedCost;
        for (int l = 0; l < full.size(); l++) {
            double[] p = GumbelSoftmax.softmax(aliveValues(logits, l), 1);
            double[] oc = aliveValues(opCost, l);
            for (int i = 0; i < p.length; i++) {
                c += p[i] * oc[i];
            }
        }
        return c;
    }

    /** Copy of the logits (every candidate of the full space; pruned ones frozen). */
    public double[][] logits() {
        double[][] out = new double[logits.length][];
        for (int l = 0; l < logits.length; l++) {
            out[l] = logits[l].clone();
        }
        return out;
    }

    /** Lines {@code logits l a_0 .. a_n}, {@code pruned l e_0 .. e_n} per layer, then {@code optimizer ...}; doubles exact (hex). */
    @Override
    public String state() {
        StringBuilder b = new StringBuilder(LayerValuesState.write("logits", logits, prunedAt, optimizer.state()));
        for (int l = 0; l < logits.length; l++) {
            b.append("diagnostics step-start ").append(l);
            for (double v : stepStart[l]) {
                b.append(' ').append(Double.toHexString(v));
            }
            b.append('\n');
        }
        b.append("diagnostics norms");
        for (int l = 0; l < logits.length; l++) {
            b.append(' ').append(Double.toHexString(classificationNorm[l])).append(' ').append(Double.toHexString(costNorm[l]));
        }
        return b.append("\ndiagnostics updates ").append(updates).append('\n').toString();
    }

    @Override
    public void restore(String state) {
        StringBuilder rest = new StringBuilder();
        for (String line : state.split("\n")) {
            String[] f = line.trim().split(" ");
            if (!f[0].equals("diagnostics")) {
                rest.append(line).append('\n');
                continue;
            }
            switch (f[1]) {
                case "step-start" -> {
                    int l = Integer.parseInt(f[2]);
                    for (int i = 0; i < stepStart[l].length; i++) {
                        stepStart[l][i] = Double.parseDouble(f[3 + i]);
                    }
                }
                case "norms" -> {
                    for (int l = 0; l < logits.length; l++) {
                        classificationNorm[l] = Double.parseDouble(f[2 + 2 * l]);
                        costNorm[l] = Double.parseDouble(f[3 + 2 * l]);
                    }
                }
                case "updates" -> updates = Integer.parseInt(f[2]);
                default -> throw new IllegalArgumentException("DA-NAS state: unknown line " + line);
            }
        }
        LayerValuesState.read(rest.toString(), "DA-NAS", "logits", logits, prunedAt, optimizer::restore);
    }

    /**
     * The executors' part: per step a Gumbel-softmax sample per layer over its live candidates; for architecture steps, dL/da of
     * Eq. 10 through the sample (noise fixed).
     */
    record GumbelPlan(Arch active, double[][] logits, double[][] cost, double fixedCost, double tau, CostAwareLoss loss) implements RoundPlan {

        @Override
        public StepPlan step(int worker, int step, Random rnd) {
            double[][] p = new double[logits.length][];
            for (int l = 0; l < logits.length; l++) {
                p[l] = GumbelSoftmax.sample(logits[l], tau, rnd);
            }
            return new StepPlan(active, p);
        }

        /** Eq. 8 under the step's weights. */
        double expectedCost(double[][] p) {
            double c = fixedCost;
            for (int l = 0; l < p.length; l++) {
                for (int i = 0; i < p[l].length; i++) {
                    c += p[l][i] * cost[l][i];
                }
            }
            return c;
        }

        /**
         * dL/da for L = L_cls * F(C): dL/dp = F dL_cls/dp + L_cls F'(C) cost, then through the Gumbel-softmax (linear in
         * dL/dp, so the two parts go through separately and add). Rows 0..L-1: the layers' gradients; row L: per layer
         * the L1 norm of the classification part; row L+1: that of the cost part (summed over steps like the gradient).
         */
        @Override
        public double[][] parameterGradient(StepPlan step, StepResult result) {
            double[][] p = step.weights();
            double c = expectedCost(p);
            double f = loss.factor(c);
            double df = loss.factorDerivative(c);
            double[][] dw = result.archGradient();
            double[][] g = new double[p.length + 2][];
            g[p.length] = new double[p.length];
            g[p.length + 1] = new double[p.length];
            for (int l = 0; l < p.length; l++) {
                double[] cls = new double[p[l].length];
                double[] cst = new double[p[l].length];
                for (int i = 0; i < cls.length; i++) {
                    cls[i] = f * dw[l][i];
                    cst[i] = result.loss() * df * cost[l][i];
                }
                double[] gc = GumbelSoftmax.logitGradient(p[l], tau, cls);
                double[] gk = GumbelSoftmax.logitGradient(p[l], tau, cst);
                g[l] = new double[cls.length];
                for (int i = 0; i < cls.length; i++) {
                    g[l][i] = gc[i] + gk[i];
                    g[p.length][l] += Math.abs(gc[i]);
                    g[p.length + 1][l] += Math.abs(gk[i]);
                }
            }
            return g;
        }
    }
}
