package io.sparknas.jobs.supernet;

import java.util.Locale;
import io.sparknas.supernet.sample.PathSampler;
import io.sparknas.supernet.sample.UniformPathSampler;
import io.sparknas.search.method.NasMethod;
import io.sparknas.search.method.NasMethods;
import io.sparknas.search.method.PadNasMethod;
import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.supernet.config.InvalidSettingsException;
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
                               int evalPaths, int recalibrationBatches, int evalBatchSize, String combine, long combineLimitBytes,
                               int blockImages, int maxStepsPerEpoch,
                               List<Integer> finetuneEpochs,
                               List<Double> finetuneLearningRates, List<Integer> finetuneWarmupEpochs, NasMethod.Configured method,
                               String dsonasPretrainedRun) {

    /** The config sections the output of this stage depends on, as the run's method says ({@link NasMethod.Configured#supernetSections}). */
    public List<String> sections() {
        return method.supernetSections(stageIndex.k());
    }

    static final String FINETUNE_EPOCHS = PadNasMethod.FINETUNE_EPOCHS;
    static final String FINETUNE_LEARNING_RATES = PadNasMethod.FINETUNE_LEARNING_RATES;
    static final String FINETUNE_WARMUP_EPOCHS = PadNasMethod.FINETUNE_WARMUP_EPOCHS;

    /** The path sampler named by {@code nas.supernet.sampler}. */
    public PathSampler pathSampler() {
        return switch (sampler) {
            case "uniform" -> new UniformPathSampler();
            default -> throw new IllegalArgumentException("unknown sampler " + sampler);
        };
    }

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
        RunSettings run = RunSettings.from(config, args);
        return new SupernetSettings(run,
                SpaceSettings.from(r),
                k,
                r.longBetween("nas.supernet.seed", Long.MIN_VALUE, Long.MAX_VALUE),
                Supernet.Init.valueOf(r.oneOf("nas.supernet.init", Set.of("independent", "aligned")).toUpperCase(Locale.ROOT)),
                r.oneOf("nas.supernet.sampler", Set.of("uniform")),
                r.intBetween("nas.supernet.epochs", 1, 100_000),
                r.intBetween("nas.supernet.batch-size", 1, 65_536),
                r.intBetween("nas.supernet.steps-per-round", 1, 1_000_000),
                r.intBetween("nas.supernet.workers", 1, 100_000),
                r.doubleBetween("nas.supernet.optimizer.learning-rate", 1e-8, 100),
                r.doubleBetween("nas.supernet.optimizer.momentum", 0, 0.999),
                r.doubleBetween("nas.supernet.optimizer.weight-decay", 0, 1),
                schedule(r.oneOf("nas.supernet.optimizer.schedule", Set.of("auto", "cosine", "linear", "constant")), run.method()),
                r.intBetween("nas.supernet.optimizer.warmup-epochs", 0, 100_000),
                r.doubleBetween("nas.supernet.optimizer.label-smoothing", 0, 0.5),
                new Augmenter(r.intBetween("nas.supernet.augment.crop-padding", 0, 64), r.bool("nas.supernet.augment.horizontal-flip")),
                r.intBetween("nas.supernet.eval.paths", 0, 100_000),
                r.intBetween("nas.supernet.eval.recalibration-batches", 1, 100_000),
                r.intBetween("nas.supernet.eval.batch-size", 1, 65_536),
                r.oneOf("nas.supernet.combine", Set.of("auto", "driver", "executors")),
                r.bytesBetween("nas.supernet.combine-limit", 1, Long.MAX_VALUE),
                r.intBetween("nas.supernet.block-images", 1, 1_000_000),
                r.intBetween("nas.supernet.max-steps-per-epoch", 0, Integer.MAX_VALUE),
                ftEpochs, ftRates, ftWarmup, method(config, run.method(), r.longBetween("nas.supernet.seed", Long.MIN_VALUE, Long.MAX_VALUE)),
                pretrainedRun(config.getString("nas.dsonas.pretrained-run").trim()));
    }

    /** {@code nas.supernet.optimizer.schedule}: {@code auto} is the run's method's ({@link NasMethod#learningRateSchedule}). */
    static String schedule(String configured, String method) {
        return configured.equals("auto") ? NasMethods.byName(method).map(NasMethod::learningRateSchedule).orElse("cosine") : configured;
    }

    /** {@code nas.dsonas.pretrained-run}: empty, or a run id (a plain directory name under the run root, never a path). */
    static String pretrainedRun(String id) {
        return id.isEmpty() ? id : RunSettings.checkRunId("nas.dsonas.pretrained-run", id);
    }

    /**
     * The run's method with its settings read. Every registered method's settings are read and validated, not only the
     * chosen one's, so a bad value in any method's section fails before any work, whichever method runs.
     */
    static NasMethod.Configured method(Config config, String name, long seed) {
        NasMethod.Configured chosen = null;
        for (NasMethod m : NasMethods.all()) {
            NasMethod.Configured c = m.configure(config, seed);
            if (m.name().equals(name)) {
                chosen = c;
            }
        }
        if (chosen == null) {
            throw new InvalidSettingsException("nas.run.method = " + name + " is not a method of this version: " + NasMethods.names() + ".");
        }
        return chosen;
    }
}
