package io.sparknas.jobs.testing;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.StageArgs;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The project's own presets (conf/), loaded exactly as a stage loads them, with test overrides. */
public final class TestConfigs {

    private TestConfigs() {
    }

    /** The project root (set by the POM; falls back to the working directory's parent for IDE runs). */
    public static Path projectRoot() {
        String p = System.getProperty("nas.test.project.root");
        return p != null ? Path.of(p) : Path.of("..").toAbsolutePath().normalize();
    }

    public static File preset(String name) {
        return projectRoot().resolve("conf").resolve(name).toFile();
    }

    /** Command-line arguments of a stage: {@code --config preset} then the given arguments. */
    public static StageArgs args(String preset, String... more) {
        List<String> a = new ArrayList<>();
        if (preset != null) {
            a.add("--config");
            a.add(preset(preset).getPath());
        }
        a.addAll(List.of(more));
        return StageArgs.parse(a.toArray(String[]::new), Set.of(), false);
    }

    public static Config config(StageArgs args) {
        return args.loadConfig();
    }
}
