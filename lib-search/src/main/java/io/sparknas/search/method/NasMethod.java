package io.sparknas.search.method;

import com.typesafe.config.Config;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;

import java.util.List;
import java.util.Optional;

/**
 * One NAS method, everything the stages need to know about it in one place (as NNI keeps a method in one strategy object):
 * its pipeline's stages, its settings (read from its own {@code nas.<method>} section and validated), the training strategy
 * it plans supernet-train with, and how the search stage finds its architectures. The methods are registered in
 * {@link NasMethods}; adding one means a class implementing this, its strategy, its {@code reference.conf} section and its
 * tests. A method plans; it never trains (the supernet trains, the stages in {@code jobs} read and write the run).
 */
public interface NasMethod {

    /** The value of {@code nas.run.method}. */
    String name();

    /**
     * The stages of the method's pipeline in order, as script names with {@code -k} for stage index k >= 2
     * ({@code submit/pipeline.sh} and the Airflow DAGs run this list).
     *
     * @throws io.sparknas.supernet.config.InvalidSettingsException when a key the plan depends on is out of range
     */
    List<String> stagePlan(Config config);

    /** The configuration keys {@link #stagePlan} reads (a scheduler re-plans when one of them is overridden). */
    List<String> planKeys();

    /** Reads and validates the method's settings for supernet-train (eagerly: a bad value fails before any work). */
    Configured configure(Config config, long seed);

    /** Why supernet-train of this method runs only as stage 1 (no PAD-NAS fine-tuning stages), or empty when it may. */
    Optional<String> firstStageOnly();

    /** How the search stage finds the method's architectures. */
    SearchKind searchKind();

    /** For {@link SearchKind#READ_OFF}: the kind of {@code arch_params} value read ({@code logit}, {@code lambda}). */
    default String readOffParameter() {
        throw new UnsupportedOperationException(name() + " has no read-off");
    }

    /**
     * For {@link SearchKind#READ_OFF}: the architecture read off the last epoch's parameters ({@code values[layer][candidate]},
     * NaN where a candidate has none) and pruning.
     */
    default ReadOff readOff(SearchSpace space, double[][] values, boolean[][] pruned) {
        throw new UnsupportedOperationException(name() + " has no read-off");
    }

    /**
     * The supernet's learning-rate schedule when {@code nas.supernet.optimizer.schedule = auto}: the method's paper's
     * ({@code cosine}, {@code linear} or {@code constant}; see {@code OptimizerSettings}). Cosine unless a method says otherwise.
     */
    default String learningRateSchedule() {
        return "cosine";
    }

    /** How search finds architectures: an evolutionary search over the trained supernet, a read-off, or a generation. */
    enum SearchKind {
        /** Constrained NSGA-II over the supernet (SPOS, PAD-NAS section 3.2). */
        EVOLUTION,
        /** The architecture read off the trained parameters (DA-NAS's argmax, DSO-NAS's non-zero lambdas). */
        READ_OFF,
        /** One architecture per cost constraint from the learned distribution (DDPNAS's ENG). */
        GENERATION
    }

    /**
     * @param arch     the architecture
     * @param name     short name of the rule ({@code argmax}, {@code non-zero lambda}; the search stage's {@code read_off} property)
     * @param chosenBy the rule in a sentence, citing the paper
     */
    record ReadOff(Arch arch, String name, String chosenBy) {
    }

    /** A method with its settings read: what supernet-train needs of it. */
    interface Configured {

        /** The configuration sections the output of supernet-train stage {@code stageIndex} depends on (its config hash). */
        List<String> supernetSections(int stageIndex);

        /** The run's tables the strategy needs, read by the stage before {@link #strategy}. */
        List<Need> needs();

        /** The training strategy of a supernet-train stage. */
        TrainingStrategy strategy(StrategyInputs in);

        /** Whether the method has a pre-training that another run may start from ({@code nas.dsonas.pretrained-run}). */
        default boolean pretrains() {
            return false;
        }

        /** Epochs of that pre-training (0 without one). */
        default int pretrainEpochs() {
            return 0;
        }
    }

    /**
     * A table of the run a strategy needs.
     *
     * @param kind    which table
     * @param setting the setting that asks for it, as the error names it when the table is missing
     * @param instead the setting that needs no table
     */
    record Need(Kind kind, String setting, String instead) {
        public enum Kind {
            /** The easiness stage's class ranking. */
            EASINESS,
            /** The latency-profile stage's latency table. */
            LATENCY
        }
    }
}
