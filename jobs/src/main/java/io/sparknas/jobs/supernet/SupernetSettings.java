package io.sparknas.jobs.supernet;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.config.InvalidSettingsException;
import io.sparknas.search.strategy.CostAwareLoss;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.DdpnasStrategy;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.Supernet;

import java.util.List;
import java.util.Set;

/**
 * Settings of the supernet-train stage ({@code nas.space}, {@code nas.supernet}; defaults and meanings in lib-supernet's reference.conf).
 */
public record SupernetSettings(RunSettings run, SpaceSettings space, StageIndex stageIndex, long seed, Supernet.Init init, String sampler, int epochs,
                               int batchSize, int stepsPerRound, int workers, double learningRate, double momentum,
                               double weightDecay, String schedule, int warmupEpochs, double labelSmoothing, Augmenter augmenter,
                               int evalPaths, int recalibrationBatches, int evalBatchSize, List<Integer> finetuneEpochs,
                               List<Double> finetuneLearningRates, List<Integer> finetuneWarmupEpochs, DaNasStrategy.Settings danas,
                               String danasCost, DdpnasStrategy.Settings ddpnas, DsoNasStrategy.Settings dsonas,
                               String dsonasPretrainedRun) {

    /**
     * The config sections the output of stage k depends on: the first stage's not on the fine-tuning epochs, so changing them
     * keeps the shared SPOS stages (supernet-train, search) of a PAD-NAS run.
     */
    public List<String> sections() {
        if (run.method().equals("danas")) {
            return List.of("nas.space", "nas.supernet", "nas.run.method", "nas.danas");
        }
        if (run.method().equals("ddpnas")) {
            // not nas.ddpnas.generation: the constraints are the search stage's, so changing them keeps the trained supernet
            return List.of("nas.space", "nas.supernet", "nas.run.method", "nas.ddpnas.epochs-per-update", "nas.ddpnas.momentum",
                    "nas.ddpnas.utility", "nas.ddpnas.utility-temperature", "nas.ddpnas.normalisation", "nas.ddpnas.learning-rate",
                    "nas.ddpnas.sampling");
        }
        if (run.method().equals("dsonas")) {
            return List.of("nas.space", "nas.supernet", "nas.run.method", "nas.dsonas");
        }
        return stageIndex.k() == 1 ? List.of("nas.space", "nas.supernet")
                : List.of("nas.space", "nas.supernet", FINETUNE_EPOCHS, FINETUNE_LEARNING_RATES, FINETUNE_WARMUP_EPOCHS);
    }

    static final String FINETUNE_EPOCHS = "nas.padnas.finetune-epochs";
    static final String FINETUNE_LEARNING_RATES = "nas.padnas.finetune-learning-rates";
    static final String FINETUNE_WARMUP_EPOCHS = "nas.padnas.finetune-warmup-epochs";

    /** Epochs of this stage: nas.supernet.epochs for the first, entry k-2 of nas.padnas.finetune-epochs for fine-tuning stage k. */
    public int stageEpochs() {
        return stageIndex.k() == 1 ? epochs : finetuneEpochs.get(stageIndex.k() - 2);
    }

    /** Peak learning rate of this stage (PAD-NAS section 4: 0.5 for the first supernet, 0.1 for each fine-tuning stage). */
    public double stageLearningRate() {
        return stageIndex.k() == 1 ? learningRate : finetuneLearningRates.get(stageIndex.k() - 2);
    }

    /** Warm-up epochs of this stage. */
    public int stageWarmupEpochs() {
        return stageIndex.k() == 1 ? warmupEpochs : finetuneWarmupEpochs.get(stageIndex.k() - 2);
    }

    public static SupernetSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        StageIndex k = StageIndex.from(args);
        List<Integer> ftEpochs = r.intsBetween(FINETUNE_EPOCHS, 1, 100_000);
        List<Double> ftRates = r.doublesBetween(FINETUNE_LEARNING_RATES, 1e-8, 100);
        List<Integer> ftWarmup = r.intsBetween(FINETUNE_WARMUP_EPOCHS, 0, 100_000);
        if (k.k() >= 2) {
            for (String key : List.of(FINETUNE_EPOCHS, FINETUNE_LEARNING_RATES, FINETUNE_WARMUP_EPOCHS)) {
                int n = key.equals(FINETUNE_EPOCHS) ? ftEpochs.size() : key.equals(FINETUNE_LEARNING_RATES) ? ftRates.size() : ftWarmup.size();
                if (n < k.k() - 1) {
                    throw new InvalidSettingsException(key + " has " + n + " entries, but supernet-train --stage-index "
                            + k.k() + " is fine-tuning stage " + (k.k() - 1) + ": give one entry per fine-tuning stage 2 .. M-1 (M = nas.padnas.stages).");
                }
            }
        }
        return new SupernetSettings(RunSettings.from(config, args),
                SpaceSettings.from(r),
                k,
                r.longBetween("nas.supernet.seed", Long.MIN_VALUE, Long.MAX_VALUE),
                Supernet.Init.valueOf(r.oneOf("nas.supernet.init", Set.of("independent", "aligned")).toUpperCase(java.util.Locale.ROOT)),
                r.oneOf("nas.supernet.sampler", Set.of("uniform")),
                r.intBetween("nas.supernet.epochs", 1, 100_000),
                r.intBetween("nas.supernet.batch-size", 1, 65_536),
                r.intBetween("nas.supernet.steps-per-round", 1, 1_000_000),
                r.intBetween("nas.supernet.workers", 1, 100_000),
                r.doubleBetween("nas.supernet.optimizer.learning-rate", 1e-8, 100),
                r.doubleBetween("nas.supernet.optimizer.momentum", 0, 0.999),
                r.doubleBetween("nas.supernet.optimizer.weight-decay", 0, 1),
                r.oneOf("nas.supernet.optimizer.schedule", Set.of("cosine", "linear")),
                r.intBetween("nas.supernet.optimizer.warmup-epochs", 0, 100_000),
                r.doubleBetween("nas.supernet.optimizer.label-smoothing", 0, 0.5),
                new Augmenter(r.intBetween("nas.supernet.augment.crop-padding", 0, 64), r.bool("nas.supernet.augment.horizontal-flip")),
                r.intBetween("nas.supernet.eval.paths", 0, 100_000),
                r.intBetween("nas.supernet.eval.recalibration-batches", 1, 100_000),
                r.intBetween("nas.supernet.eval.batch-size", 1, 65_536),
                ftEpochs, ftRates, ftWarmup, danas(r), r.oneOf("nas.danas.cost", Set.of("flops", "params", "latency")),
                ddpnas(r, r.longBetween("nas.supernet.seed", Long.MIN_VALUE, Long.MAX_VALUE)), dsonas(r),
                pretrainedRun(config.getString("nas.dsonas.pretrained-run").trim()));
    }

    /** {@code nas.dsonas.pretrained-run}: empty, or a run id (a plain directory name under the run root, never a path). */
    static String pretrainedRun(String id) {
        return id.isEmpty() ? id : RunSettings.checkRunId("nas.dsonas.pretrained-run", id);
    }

    /** {@code nas.dsonas} (lib-search reference.conf), validated. */
    static DsoNasStrategy.Settings dsonas(SettingsReader r) {
        double share = r.doubleBetween("nas.dsonas.weight-share", 0.01, 0.99);
        if (Math.round(share * 100) != share * 100) {
            throw new InvalidSettingsException("nas.dsonas.weight-share = " + share + ": the split into D_w and D_lambda is fixed by image id "
                    + "in steps of 1%: give a multiple of 0.01, e.g. 0.8 (DSO-NAS section 4.3: 4/5 for the weights).");
        }
        return new DsoNasStrategy.Settings(share, r.intBetween("nas.dsonas.pretrain-epochs", 0, 100_000),
                r.intBetween("nas.dsonas.search-epochs", 1, 100_000), r.bool("nas.dsonas.until-one-op"),
                r.doubleBetween("nas.dsonas.learning-rate", 1e-9, 100), r.doubleBetween("nas.dsonas.momentum", 0, 0.999999),
                r.oneOf("nas.dsonas.momentum-schedule", Set.of("constant", "apg")), r.doubleBetween("nas.dsonas.gradient-clip", 0, 1e6),
                r.doubleBetween("nas.dsonas.sparsity", 0, 1e6), r.oneOf("nas.dsonas.budget", Set.of("none", "flops", "mac", "latency")),
                r.doubleBetween("nas.dsonas.latency-base", 0, 1), r.bool("nas.dsonas.fixed-batchnorm-scale"));
    }

    /** {@code nas.danas} (lib-search reference.conf), validated. */
    static DaNasStrategy.Settings danas(SettingsReader r) {
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
        if (gamma > 0 && !(target * CostAwareLoss.SCALE > Math.E)) {
            throw new InvalidSettingsException("nas.danas.target-cost = " + target + " with nas.danas.cost-exponent = " + gamma
                    + ": Eq. 10's logarithm needs 1000 x the target above e (costs enter it in thousandths of the cost's unit); "
                    + "set the target cost in MFLOPs (flops) or millions (params), or nas.danas.cost-exponent = 0 to drop the cost term.");
        }
        return new DaNasStrategy.Settings(r.oneOf("nas.danas.schedule", Set.of("easy-first", "hard-first", "all")), fractions,
                r.intBetween("nas.danas.warmup-epochs", 0, 100_000), r.intBetween("nas.danas.epochs-per-step", 1, 100_000),
                r.doubleBetween("nas.danas.prune-ratio", 0, 1), r.bool("nas.danas.prune"),
                r.doubleBetween("nas.danas.temperature", 1e-6, 1e6), new CostAwareLoss(target, gamma),
                r.oneOf("nas.danas.optimizer.kind", Set.of("adam", "sgd")), r.doubleBetween("nas.danas.optimizer.learning-rate", 1e-12, 100),
                r.doubleBetween("nas.danas.optimizer.beta1", 0, 0.999999), r.doubleBetween("nas.danas.optimizer.beta2", 0, 0.999999));
    }

    /** {@code nas.ddpnas} (lib-search reference.conf) without its generation part, validated; draws seeded by the supernet's seed. */
    static DdpnasStrategy.Settings ddpnas(SettingsReader r, long seed) {
        return new DdpnasStrategy.Settings(r.intBetween("nas.ddpnas.epochs-per-update", 1, 100_000),
                r.doubleBetween("nas.ddpnas.momentum", 0, 0.999999),
                r.oneOf("nas.ddpnas.utility", Set.of("softmax-of-mean", "mean-of-softmax")),
                r.doubleBetween("nas.ddpnas.utility-temperature", 1e-6, 1e6),
                r.oneOf("nas.ddpnas.normalisation", Set.of("softmax", "row-sum")),
                r.doubleBetween("nas.ddpnas.learning-rate", 1e-9, 1e6),
                r.oneOf("nas.ddpnas.sampling", Set.of("theta", "uniform")), seed);
    }
}
