package io.sparknas.jobs;

import com.typesafe.config.Config;
import io.sparknas.jobs.config.InvalidSettingsException;
import io.sparknas.jobs.config.StageArgs;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates a configuration and prints the values of the keys asked for, one per line, without starting Spark:
 * {@code ConfigQuery [--config FILE] [-Dnas.k=v ...] [--run-root URI] [--run-id ID] [--stages a,b] nas.key ...}.
 * With {@code --stages}, the settings of each named stage are built too, so a bad value fails before the first stage runs.
 * The pipeline script uses it to fail fast and to learn the run root and id. Exit status 2 with a one-line cause on
 * standard error when the configuration is invalid.
 */
public final class ConfigQuery {

    private ConfigQuery() {
    }

    public static void main(String[] args) {
        try {
            query(args).forEach(System.out::println);
        } catch (InvalidSettingsException | InputDataException e) {
            System.err.println("spark-nas config: " + e.getMessage().replace('\n', ' '));
            System.exit(2);
        }
    }

    static List<String> query(String... args) {
        StageArgs parsed = StageArgs.parse(args, Set.of("stages"), true);
        Config config = parsed.loadConfig();
        String stages = parsed.options().getOrDefault("stages", "");
        for (String stage : stages.split(",")) {
            if (!stage.isBlank()) {
                StageCatalog.byName(stage.trim()).validate(config, parsed);
            }
        }
        List<String> out = new ArrayList<>();
        for (String key : parsed.positional()) {
            if (!config.hasPath(key)) {
                throw new InvalidSettingsException("No configuration key " + key + ".");
            }
            out.add(config.getValue(key).unwrapped().toString());
        }
        return out;
    }
}
