package io.sparknas.jobs.cli;

import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.search.SearchSettings;
import io.sparknas.jobs.retrain.RetrainSettings;
import io.sparknas.jobs.retrain.RankingSettings;
import io.sparknas.jobs.report.ReportSettings;
import io.sparknas.jobs.prune.PruneSettings;
import io.sparknas.jobs.easiness.EasinessSettings;
import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestSettings;
import io.sparknas.jobs.latency.LatencyProfileSettings;
import io.sparknas.jobs.supernet.SupernetSettings;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The pipeline's stages in order, each with its settings factory, so a whole pipeline's configuration can be checked before its first stage. */
public enum StageCatalog {
    INGEST("ingest", IngestSettings::from),
    EASINESS("easiness", EasinessSettings::from),
    LATENCY_PROFILE("latency-profile", LatencyProfileSettings::from),
    SUPERNET_TRAIN("supernet-train", SupernetSettings::from),
    SEARCH("search", SearchSettings::from),
    PRUNE("prune", PruneSettings::from),
    RETRAIN("retrain", RetrainSettings::from),
    RANKING("ranking", RankingSettings::from),
    REPORT("report", ReportSettings::from);

    private final String stageName;
    private final StageLauncher.SettingsFactory<?> settings;

    StageCatalog(String stageName, StageLauncher.SettingsFactory<?> settings) {
        this.stageName = stageName;
        this.settings = settings;
    }

    public String stageName() {
        return stageName;
    }

    /** Builds (and so validates) this stage's settings. */
    public Object validate(Config config, StageArgs args) {
        return settings.create(config, args);
    }

    public static StageCatalog byName(String name) {
        return Arrays.stream(values()).filter(s -> s.stageName.equals(name)).findFirst()
                .orElseThrow(() -> new InvalidSettingsException("Unknown stage '" + name + "'; stages: "
                        + Arrays.stream(values()).map(StageCatalog::stageName).collect(Collectors.joining(", ")) + "."));
    }
}
