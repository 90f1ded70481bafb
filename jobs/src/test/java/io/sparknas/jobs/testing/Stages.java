package io.sparknas.jobs.testing;

import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestSettings;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Builds stage settings the way a stage's main does, from a preset plus -D overrides. */
public final class Stages {

    private Stages() {
    }

    public static StageArgs args(String preset, Path root, String runId, boolean force, Map<String, String> overrides) {
        List<String> a = new ArrayList<>();
        if (preset != null) {
            a.add("--config");
            a.add(TestConfigs.preset(preset).getPath());
        }
        a.addAll(List.of("--run-root", root.toString(), "--run-id", runId));
        if (force) {
            a.add("--force");
        }
        overrides.forEach((k, v) -> a.add("-D" + k + "=" + v));
        return StageArgs.parse(a.toArray(String[]::new), Set.of(), false);
    }

    public static IngestSettings ingest(String preset, Path root, String runId, boolean force, Map<String, String> overrides) {
        StageArgs args = args(preset, root, runId, force, overrides);
        return IngestSettings.from(args.loadConfig(), args);
    }
}
