package io.sparknas.search.strategy;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;

import java.util.List;
import java.util.Optional;

/**
 * A method's plan of supernet training (the seam of docs/architecture.md, "Training strategies"): which classes and splits each epoch
 * reads, what every worker's steps compute (a single path, or weights over each layer's candidates), and how the method's
 * own parameters (DA-NAS logits, DDPNAS theta, DSO-NAS lambda) follow from what the rounds return. A strategy lives on the
 * driver, never trains a network itself, and is a pure function of its settings, its seed and what it observed, so that
 * {@link #state()} / {@link #restore(String)} in the supernet checkpoint let {@code --resume} continue a run exactly.
 *
 * <p>Per epoch the trainer runs the weight rounds of {@link EpochPlan#weightPasses()} passes over the train split with
 * {@link #plan(int, Phase)} for {@link Phase#WEIGHTS}, then (when {@link EpochPlan#architectureSteps()}) one pass over the val split with the plan for
 * {@link Phase#ARCHITECTURE}, calling {@link #observe} after every architecture round; then {@link #endEpoch}, which may
 * shrink the candidate sets and returns the epoch's {@code arch_params} rows.
 */
public interface TrainingStrategy {

    /** What a round's steps optimise: the supernet's weights on train (DA-NAS Eq. 9) or the strategy's parameters on val (Eq. 10). */
    enum Phase { WEIGHTS, ARCHITECTURE }

    /** Method name as in {@code nas.run.method} ({@code spos}, {@code danas}, ...). */
    String method();

    /** The space with the candidates still alive (shrinks when the strategy prunes). */
    SearchSpace space();

    /** Epochs of the whole stage, fixed when the strategy is made (a schedule never depends on what training observes). */
    int epochs();

    /** What epoch {@code e} (0-based) reads and runs. */
    EpochPlan epochPlan(int e);

    /** The executors' part of a round in epoch {@code e}: shipped to the tasks, a snapshot of the strategy's parameters. */
    RoundPlan plan(int e, Phase phase);

    /**
     * The summed dLoss/d(strategy parameters) of one architecture round, over {@code steps} steps of all workers (summed in
     * one fixed tree over the worker indices), aligned with {@link #space()}'s candidates. Updates the parameters on the driver.
     */
    void observe(int e, double[][] gradientSum, long steps);

    /**
     * Called once before training: the number of workers and each epoch's weight steps per worker (fixed by the data and
     * the settings; all of the epoch's {@link EpochPlan#weightPasses()}), for a strategy that lays its plan out over the
     * epoch (DDPNAS: K architectures, each a whole pass or an equal share of one).
     */
    default void trainingShape(int workers, int[] weightSteps) {
    }

    /**
     * Architectures the trainer evaluates on val (BatchNorm recalibrated) after epoch {@code e}'s rounds and before
     * {@link #endEpoch}, for a method whose parameters follow val accuracy (DDPNAS Eq. 2); none by default.
     */
    default List<Arch> evaluations(int e) {
        return List.of();
    }

    /** Their val accuracies, aligned with {@link #evaluations(int)}. */
    default void observeEvaluations(int e, double[] accuracy) {
        throw new IllegalStateException(method() + " evaluates no architectures during training");
    }

    /**
     * True when the strategy has nothing left to decide after the epoch that just ended (DSO-NAS's mobile setting: at most one
     * op per layer remains): the trainer stops there, before {@link #epochs()} (a bound then, not a schedule). A function of
     * the strategy's state, so a resumed run stops where the uninterrupted one did.
     */
    default boolean converged() {
        return false;
    }

    /**
     * One log line for the end of an epoch, after {@link #endEpoch}: what the method's parameters say now (candidates left,
     * the current read-off); empty for a method with nothing to report (uniform sampling).
     */
    default String epochSummary() {
        return "";
    }

    /** The end of epoch {@code e}: may prune candidates; returns the epoch's {@code arch_params} rows (none for uniform sampling). */
    List<ArchParam> endEpoch(int e);

    /** The architectures the method outputs from its parameters (DA-NAS: argmax per layer), or empty when a search follows. */
    Optional<Arch> readOff();

    /** Everything {@link #restore} needs to continue exactly (text, stored in the checkpoint and the supernet artifact). */
    String state();

    void restore(String state);

    /**
     * What one epoch reads (the data views of the methods, all filtered on the executors).
     *
     * @param classes            the class indices trained and validated on, ascending; every class when the epoch uses all
     * @param architectureSteps  whether architecture rounds follow the weight rounds
     * @param label              what the epoch is, for logs and the Spark UI (e.g. "warm-up 1/10 on 100 classes")
     * @param architectureSplit  what architecture rounds read: {@code val} (DA-NAS Eq. 10), or {@code train}: the train images
     *                           the weight rounds leave out (DSO-NAS's D_lambda)
     * @param weightShare        the share of the train split weight rounds read (DSO-NAS's D_w, e.g. 0.8): the images whose
     *                           id-fixed part is below it, in steps of 1%; 1: all
     * @param interleaved        false: all weight rounds, then all architecture rounds of up to nas.supernet.steps-per-round
     *                           steps each; true: architecture rounds of one step each (one update of the strategy's
     *                           parameters per minibatch of every worker), spread evenly between the weight rounds (DSO-NAS
     *                           Algorithm 1 alternates lambda and weight steps)
     * @param weightPasses       passes over the weight view per worker in the epoch: 1, or K when each of K architectures
     *                           trained side by side gets a whole pass (DDPNAS Eq. 19). The weight steps of the epoch are
     *                           then K passes of G steps each, and no weight round spans two passes
     */
    record EpochPlan(int[] classes, boolean architectureSteps, String label, String architectureSplit, double weightShare,
                     boolean interleaved, int weightPasses) {

        public EpochPlan {
            if (weightPasses < 1) {
                throw new IllegalArgumentException("weight passes " + weightPasses + " (at least 1)");
            }
            if (!architectureSplit.equals("val") && !architectureSplit.equals("train")) {
                throw new IllegalArgumentException("architecture split " + architectureSplit + " (val | train)");
            }
            if (!(weightShare > 0 && weightShare <= 1) || architectureSplit.equals("train") && architectureSteps && weightShare >= 1) {
                throw new IllegalArgumentException("weight share " + weightShare + " leaves no train images for architecture steps");
            }
        }

        /** One pass of weight rounds. */
        public EpochPlan(int[] classes, boolean architectureSteps, String label, String architectureSplit, double weightShare,
                         boolean interleaved) {
            this(classes, architectureSteps, label, architectureSplit, weightShare, interleaved, 1);
        }

        /** Weight rounds on all of train, architecture rounds (if any) on val, after them. */
        public EpochPlan(int[] classes, boolean architectureSteps, String label) {
            this(classes, architectureSteps, label, "val", 1.0, false);
        }
    }

    /**
     * One {@code arch_params} row.
     *
     * @param op   the op's name, or {@code *} for a row about the whole layer
     * @param kind {@code logit}, {@code probability}, {@code theta}, {@code lambda}, {@code performance} (DDPNAS Eq. 2: val
     *             accuracy of the epoch's architecture that used the op), {@code utility} (DDPNAS Eq. 3-4), {@code pruned}
     *             (value: the 1-based epoch at whose end the op was pruned), {@code logit-movement} (DA-NAS: the logit's
     *             change since the step began) or {@code classification-share} (DA-NAS, per layer: the classification
     *             loss's share of the epoch's summed |dL/da|, the rest being the cost term's)
     */
    record ArchParam(int epoch, int layer, String op, double value, String kind) {
    }
}
