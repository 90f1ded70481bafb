package io.sparknas.jobs.config;

import com.typesafe.config.Config;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates a configuration and prints the values of the keys asked for, one per line, without starting Spark:
 * {@code ConfigQuery [--config FILE] [-Dnas.k=v ...] [--run-root URI] [--run-id ID] nas.key ...}.
 * The pipeline script uses it to fail fast on a bad config and to learn the run root and id before the first stage.
 * Exit status 2 with a one-line cause on standard error when the configuration is invalid.
 */
public final class ConfigQuery {

    private ConfigQuery() {
    }

    public static void main(String[] args) {
        try {
            StageArgs parsed = StageArgs.parse(args, Set.of(), true);
            Config config = parsed.loadConfig();
            List<String> out = new ArrayList<>();
            for (String key : parsed.positional()) {
                if (!config.hasPath(key)) {
                    throw new InvalidSettingsException("No configuration key " + key + ".");
                }
                out.add(config.getValue(key).unwrapped().toString());
            }
            out.forEach(System.out::println);
        } catch (InvalidSettingsException e) {
            System.err.println("spark-nas config: " + e.getMessage().replace('\n', ' '));
            System.exit(2);
        }
    }

    /** For tests: the same as main without exiting. */
    static List<String> query(String... args) {
        StageArgs parsed = StageArgs.parse(args, Set.of(), true);
        Config config = parsed.loadConfig();
        return parsed.positional().stream().map(k -> config.getValue(k).unwrapped().toString()).toList();
    }
}
