package io.sparknas.jobs.testing;

import java.util.stream.Stream;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestSettings;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
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

    /**
     * Copies committed stage directories of run {@code from} into run {@code to} under the same run root (a local path),
     * so {@code to} reads the same stages without running them again: the stages after them see them as committed.
     */
    public static void copyCommitted(Path root, String from, String to, String... stages) {
        for (String stage : stages) {
            Path src = root.resolve(from).resolve(stage);
            Path dst = root.resolve(to).resolve(stage);
            if (!Files.isRegularFile(src.resolve("_stage.json"))) {
                throw new IllegalStateException(src + " is not a committed stage");
            }
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.toList()) {
                    Path t = dst.resolve(src.relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(t);
                    } else {
                        Files.copy(f, t);
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
