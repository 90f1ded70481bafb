package io.sparknas.jobs.supernet;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.Supernet;

import java.util.List;
import java.util.Set;

/**
 * Settings of the supernet-train stage ({@code nas.space}, {@code nas.supernet}; defaults and meanings in lib-supernet's reference.conf).
 */
public record SupernetSettings(RunSettings run, SpaceSettings space, StageIndex stageIndex, long seed, Supernet.Init init, String sampler, int epochs,
                               int batchSize, int stepsPerRound, int parallelism, double learningRate, double momentum,
                               double weightDecay, String schedule, int warmupEpochs, double labelSmoothing, Augmenter augmenter,
                               int evalPaths, int recalibrationBatches, int evalBatchSize, int finetuneEpochs) {

    /** The config sections the stage's output depends on. */
    public static final List<String> SECTIONS = List.of("nas.space", "nas.supernet", "nas.padnas.finetune-epochs");

    /** Epochs of this stage: nas.supernet.epochs for the first, nas.padnas.finetune-epochs for a fine-tuning stage (k >= 2). */
    public int stageEpochs() {
        return stageIndex.k() == 1 ? epochs : finetuneEpochs;
    }

    public static SupernetSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        return new SupernetSettings(RunSettings.from(config, args),
                SpaceSettings.from(r),
                StageIndex.from(args),
                r.longBetween("nas.supernet.seed", Long.MIN_VALUE, Long.MAX_VALUE),
                Supernet.Init.valueOf(r.oneOf("nas.supernet.init", Set.of("independent", "aligned")).toUpperCase(java.util.Locale.ROOT)),
                r.oneOf("nas.supernet.sampler", Set.of("uniform")),
                r.intBetween("nas.supernet.epochs", 1, 100_000),
                r.intBetween("nas.supernet.batch-size", 1, 65_536),
                r.intBetween("nas.supernet.steps-per-round", 1, 1_000_000),
                r.intBetween("nas.supernet.parallelism", 0, 100_000),
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
                r.intBetween("nas.padnas.finetune-epochs", 1, 100_000));
    }
}
