package io.sparknas.jobs.config;

import io.sparknas.supernet.config.SettingsReader;
import io.sparknas.supernet.space.SearchSpaces;

import java.util.Set;

/** The search space settings every stage that builds the space reads ({@code nas.space}; meanings in lib-supernet's reference.conf). */
public record SpaceSettings(String family, double width, int stemStride, int maxLayersPerStage) {

    public static SpaceSettings from(SettingsReader r) {
        return new SpaceSettings(r.oneOf("nas.space.family", SearchSpaces.FAMILIES),
                r.doubleBetween("nas.space.width", 0.05, 4.0),
                r.intIn("nas.space.stem-stride", Set.of(1, 2)),
                r.intBetween("nas.space.max-layers-per-stage", 0, 100));
    }

    /** The space's options at a data set's resolution, channels and classes. */
    public SearchSpaces.Options options(int resolution, int channels, int classes) {
        return new SearchSpaces.Options(family, width, resolution, channels, stemStride, classes, maxLayersPerStage);
    }
}
