package io.sparknas.jobs.cli;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.search.method.NasMethod;
import io.sparknas.search.method.NasMethods;
import io.sparknas.supernet.config.SettingsReader;
import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.StageArgs;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Validates a configuration and prints the values of the keys asked for, one per line, without starting Spark:
 * {@code ConfigQuery [--config FILE] [-Dnas.k=v ...] [--run-root URI] [--run-id ID] [--stages a,b] nas.key ... [stage-plan] [plan-keys]}.
 * With {@code --stages}, the settings of each named stage are built too, so a bad value fails before the first stage runs.
 * The word {@code stage-plan} prints the stages of the run's method's pipeline on one line, space-separated
 * ({@link NasMethod#stagePlan}), the word {@code plan-keys} the keys that plan reads. The pipeline script and the Airflow DAGs use it to fail fast, to learn the run root and id,
 * and to get their stage list. Exit status 2 with a one-line cause on standard error when the configuration is invalid.
 */
public final class ConfigQuery {

    /** The positional word that asks for the method's stage plan. */
    static final String STAGE_PLAN = "stage-plan";
    /** The positional word that asks for the keys the method's stage plan reads. */
    static final String PLAN_KEYS = "plan-keys";

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
            if (key.equals(STAGE_PLAN)) {
                String method = new SettingsReader(config).oneOf("nas.run.method", RunSettings.METHODS);
                out.add(String.join(" ", NasMethods.of(method).stagePlan(config)));
                continue;
            }
            if (key.equals(PLAN_KEYS)) {
                String method = new SettingsReader(config).oneOf("nas.run.method", RunSettings.METHODS);
                out.add(String.join(" ", NasMethods.of(method).planKeys()));
                continue;
            }
            if (!config.hasPath(key)) {
                throw new InvalidSettingsException("No configuration key " + key + ".");
            }
            out.add(config.getValue(key).unwrapped().toString());
        }
        return out;
    }
}
