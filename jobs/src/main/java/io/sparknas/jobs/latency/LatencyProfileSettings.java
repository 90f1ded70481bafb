package io.sparknas.jobs.latency;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.jobs.config.SpaceSettings;
import io.sparknas.jobs.config.StageArgs;

import java.util.List;

/** Settings of the latency-profile stage ({@code nas.space}, {@code nas.latency}; defaults and meanings in lib-supernet's reference.conf). */
public record LatencyProfileSettings(RunSettings run, SpaceSettings space, int batchSize, int warmup, int repeats,
                                     int parallelism, long seed) {

    /** The config sections the stage's output depends on. */
    public static final List<String> SECTIONS = List.of("nas.space", "nas.latency");

    public static LatencyProfileSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        return new LatencyProfileSettings(RunSettings.from(config, args),
                SpaceSettings.from(r),
                r.intBetween("nas.latency.batch-size", 1, 4096),
                r.intBetween("nas.latency.warmup", 0, 100_000),
                r.intBetween("nas.latency.repeats", 1, 100_000),
                r.intBetween("nas.latency.parallelism", 1, 100_000),
                r.longBetween("nas.latency.seed", Long.MIN_VALUE, Long.MAX_VALUE));
    }
}
