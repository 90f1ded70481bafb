package io.sparknas.jobs.retrain;

import io.sparknas.jobs.training.StandaloneTrainer;
import com.typesafe.config.Config;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.StageArgs;

import java.util.List;

/** Settings of the ranking stage ({@code nas.ranking}, training settings from {@code nas.retrain}; meanings in jobs' reference.conf). */
public record RankingSettings(RetrainSettings retrain, int models, int epochs, int trainImages, int batchSize, double learningRate) {

    public static final List<String> SECTIONS = List.of("nas.space", "nas.retrain", "nas.ranking");

    public static RankingSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        return new RankingSettings(RetrainSettings.from(config, args), r.intBetween("nas.ranking.models", 2, 10_000),
                r.intBetween("nas.ranking.epochs", 1, 100_000), r.intBetween("nas.ranking.train-images", 0, Integer.MAX_VALUE),
                r.intBetween("nas.ranking.batch-size", 0, 65_536), r.doubleBetween("nas.ranking.learning-rate", 0, 100));
    }

    /** The search stage to rank ({@code --stage-index k}: {@code search-k}); the stage's directory is {@code ranking(-k)}. */
    public String source() {
        return retrain.source();
    }

    StandaloneTrainer.Settings trainer() {
        StandaloneTrainer.Settings t = retrain.trainer();
        return new StandaloneTrainer.Settings(t.seed(), epochs, batchSize > 0 ? batchSize : t.batchSize(), t.averagingFrequency(),
                learningRate > 0 ? learningRate : t.learningRate(), t.momentum(), t.weightDecay(), t.augmenter(), t.workers(),
                t.recalibrationBatches(), t.epochValImages(), t.oneDnnHelpers());
    }
}
