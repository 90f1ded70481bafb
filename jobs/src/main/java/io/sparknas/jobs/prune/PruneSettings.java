package io.sparknas.jobs.prune;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.config.StageIndex;

import java.util.List;

/** Settings of the prune stage ({@code nas.space}, {@code nas.padnas.prune-threshold}; meanings in lib-search's reference.conf). */
public record PruneSettings(RunSettings run, SpaceSettings space, StageIndex stageIndex, double threshold) {

    public static final List<String> SECTIONS = List.of("nas.space", "nas.padnas.prune-threshold");

    public static PruneSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        return new PruneSettings(RunSettings.from(config, args), SpaceSettings.from(r), StageIndex.from(args),
                r.doubleBetween("nas.padnas.prune-threshold", 0, 0.999));
    }
}
