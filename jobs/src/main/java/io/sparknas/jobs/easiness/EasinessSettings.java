package io.sparknas.jobs.easiness;

import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.reference.ReferenceNetworks;

import java.util.List;

/** Settings of the easiness stage ({@code nas.easiness}; defaults and meanings in the jobs reference.conf). */
public record EasinessSettings(RunSettings run, SpaceSettings space, List<String> networks, List<String> modelZips, long seed, int epochs,
                               int trainImages, int batchSize, int averagingFrequency, int workers, double learningRate, double momentum,
                               double weightDecay, double width, int bins, int recalibrationBatches) {

    public static final List<String> SECTIONS = List.of("nas.easiness");

    /** dl4j-spark training of the reference networks, as retrain trains (no per-epoch evaluation, no augmentation). */
    StandaloneTrainer.Settings trainer() {
        return new StandaloneTrainer.Settings(seed, epochs, batchSize, averagingFrequency, learningRate, momentum, weightDecay, new Augmenter(0, false),
                workers, recalibrationBatches, 0, true);
    }

    public static EasinessSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        List<String> networks = r.strings("nas.easiness.networks");
        List<String> zips = r.strings("nas.easiness.model-zips");
        for (String n : networks) {
            if (!ReferenceNetworks.FAMILIES.contains(n)) {
                throw new InvalidSettingsException("Bad entry '" + n + "' in nas.easiness.networks: the reference networks are " + ReferenceNetworks.FAMILIES
                        + "; give trained models as nas.easiness.model-zips instead.");
            }
        }
        if (networks.stream().distinct().count() != networks.size()) {
            throw new InvalidSettingsException("nas.easiness.networks = " + networks + " names a network twice: each votes once.");
        }
        if (networks.isEmpty() && zips.isEmpty()) {
            throw new InvalidSettingsException("nas.easiness.networks and nas.easiness.model-zips are both empty: name the reference networks to "
                    + "train (e.g. [resnet, vgg, mobilenet]) or give trained DL4J model zips.");
        }
        return new EasinessSettings(RunSettings.from(config, args), SpaceSettings.from(r), networks, zips,
                r.longBetween("nas.easiness.seed", Long.MIN_VALUE, Long.MAX_VALUE),
                r.intBetween("nas.easiness.epochs", 1, 100_000),
                r.intBetween("nas.easiness.train-images", 0, Integer.MAX_VALUE),
                r.intBetween("nas.easiness.batch-size", 1, 65_536),
                r.intBetween("nas.easiness.averaging-frequency", 1, 1_000_000),
                r.intBetween("nas.easiness.workers", 1, 100_000),
                r.doubleBetween("nas.easiness.learning-rate", 1e-8, 100),
                r.doubleBetween("nas.easiness.momentum", 0, 0.999),
                r.doubleBetween("nas.easiness.weight-decay", 0, 1),
                r.doubleBetween("nas.easiness.width", 0.01, 100),
                r.intBetween("nas.easiness.bins", 2, 10_000),
                r.intBetween("nas.easiness.recalibration-batches", 0, 100_000));
    }
}
