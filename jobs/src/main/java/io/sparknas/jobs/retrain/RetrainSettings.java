package io.sparknas.jobs.retrain;

import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.jobs.artifact.SearchOutputs;
import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.supernet.net.Augmenter;

import java.util.List;

/**
 * Settings of the retrain stage ({@code nas.space}, {@code nas.retrain}; meanings in jobs' reference.conf).
 *
 * @param arch  an architecture id given with {@code --arch} (retrained instead of the front's), or empty
 * @param index {@code --stage-index k}: the search stage k whose architectures are retrained ({@link #source()}), and so the
 *              directory ({@code retrain}, {@code retrain-k}); every method's chain of stages gets its own retrain, ranking
 *              and report (SPOS's {@code search} -> {@code retrain}, PAD-NAS M = 3's {@code search-2} -> {@code retrain-2})
 */
public record RetrainSettings(RunSettings run, SpaceSettings space, String arch, long seed, StageIndex index, int topK, double maxCost,
                              int epochs, int batchSize, int averagingFrequency, double learningRate, double momentum, double weightDecay,
                              Augmenter augmenter, int workers, int recalibrationBatches, int epochValImages,
                              boolean oneDnnHelpers, int trainImages) {

    public static final String ARCH_OPTION = "arch";
    public static final List<String> SECTIONS = List.of("nas.space", "nas.retrain");

    /** The search stage this retrain (and ranking, report) reads: {@code search} or {@code search-k}. */
    public String source() {
        return index.dir(SearchOutputs.STAGE);
    }

    /** What the stage's configuration hash adds to its sections: the source stage, and the architecture of {@code --arch}. */
    public String hashSuffix() {
        return "|source=" + source() + (arch.isEmpty() ? "" : "|" + arch);
    }

    /** The training part of these settings. */
    public StandaloneTrainer.Settings trainer() {
        return new StandaloneTrainer.Settings(seed, epochs, batchSize, averagingFrequency, learningRate, momentum, weightDecay, augmenter, workers,
                recalibrationBatches, epochValImages, oneDnnHelpers);
    }

    public static RetrainSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        return new RetrainSettings(RunSettings.from(config, args), SpaceSettings.from(r), args.options().getOrDefault(ARCH_OPTION, ""),
                r.longBetween("nas.retrain.seed", Long.MIN_VALUE, Long.MAX_VALUE), StageIndex.from(args),
                r.intBetween("nas.retrain.top-k", 0, 100_000),
                r.doubleBetween("nas.retrain.max-cost", 0, 1e12),
                r.intBetween("nas.retrain.epochs", 1, 100_000),
                r.intBetween("nas.retrain.batch-size", 1, 65_536),
                r.intBetween("nas.retrain.averaging-frequency", 1, 1_000_000),
                r.doubleBetween("nas.retrain.learning-rate", 1e-8, 100),
                r.doubleBetween("nas.retrain.momentum", 0, 0.999),
                r.doubleBetween("nas.retrain.weight-decay", 0, 1),
                new Augmenter(r.intBetween("nas.retrain.augment.crop-padding", 0, 64), r.bool("nas.retrain.augment.horizontal-flip")),
                r.intBetween("nas.retrain.workers", 1, 100_000),
                r.intBetween("nas.retrain.recalibration-batches", 0, 100_000),
                r.intBetween("nas.retrain.epoch-val-images", 0, Integer.MAX_VALUE),
                r.bool("nas.retrain.onednn-helpers"),
                r.intBetween("nas.retrain.train-images", 0, Integer.MAX_VALUE));
    }
}
