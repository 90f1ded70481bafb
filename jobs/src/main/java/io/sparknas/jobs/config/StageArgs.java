package io.sparknas.jobs.config;

import io.sparknas.supernet.config.InvalidSettingsException;
import com.typesafe.config.Config;

import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command line every stage shares (README, "Running stages"):
 * {@code [--config FILE] [--run-root URI] [--run-id ID] [--force] [--resume] [-Dnas.key=value ...]}, plus the
 * options a stage declares and positional arguments where the stage takes them.
 */
public record StageArgs(File configFile, Map<String, String> overrides, boolean force, boolean resume,
                        Map<String, String> options, List<String> positional) {

    public static final String USAGE = "[--config FILE] [--run-root URI] [--run-id ID] [--force] [--resume] [-Dnas.key=value ...]";

    /**
     * @param stageOptions names of the extra {@code --name value} options the stage accepts (without dashes)
     * @param positionalAllowed whether the stage takes positional arguments
     */
    public static StageArgs parse(String[] args, Set<String> stageOptions, boolean positionalAllowed) {
        File config = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        Map<String, String> options = new LinkedHashMap<>();
        List<String> positional = new ArrayList<>();
        boolean force = false;
        boolean resume = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--config" -> config = new File(value(args, ++i, a));
                case "--run-root" -> overrides.put("nas.run.root", value(args, ++i, a));
                case "--run-id" -> overrides.put("nas.run.id", value(args, ++i, a));
                case "--force" -> force = true;
                case "--resume" -> resume = true;
                default -> {
                    if (a.startsWith("-D")) {
                        String kv = a.length() == 2 ? value(args, ++i, a) : a.substring(2);
                        int eq = kv.indexOf('=');
                        if (eq <= 0) {
                            throw new InvalidSettingsException("Override '" + a + "' needs the form -Dnas.key=value.");
                        }
                        overrides.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
                    } else if (a.startsWith("--")) {
                        String name = a.substring(2);
                        int eq = name.indexOf('=');
                        String v = null;
                        if (eq > 0) {
                            v = name.substring(eq + 1);
                            name = name.substring(0, eq);
                        }
                        if (!stageOptions.contains(name)) {
                            throw new InvalidSettingsException("Unknown option " + a + ". Options: " + USAGE
                                    + (stageOptions.isEmpty() ? "" : " " + stageOptions.stream().sorted().map(o -> "--" + o + " VALUE").toList()));
                        }
                        options.put(name, v != null ? v : value(args, ++i, "--" + name));
                    } else if (positionalAllowed) {
                        positional.add(a);
                    } else {
                        throw new InvalidSettingsException("Unexpected argument '" + a + "'. Usage: " + USAGE);
                    }
                }
            }
        }
        return new StageArgs(config, Map.copyOf(overrides), force, resume, Map.copyOf(options), List.copyOf(positional));
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new InvalidSettingsException("Option " + option + " needs a value. Usage: " + USAGE);
        }
        return args[i];
    }

    /** Loads and validates the configuration these arguments name. */
    public Config loadConfig() {
        return NasConfig.load(configFile, overrides);
    }
}
