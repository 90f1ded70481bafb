package io.sparknas.supernet.config;

import java.util.function.Function;
import java.time.Duration;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigRenderOptions;

import java.util.List;
import java.util.Set;

/**
 * Typed, range-checked reads of one config section, so that every settings record validates in the same way and
 * every bad value is reported with its key, its value, where it came from and what is allowed.
 * Defaults live only in reference.conf: every key read here must exist there.
 */
public final class SettingsReader {

    private final Config config;

    public SettingsReader(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    public String string(String path) {
        try {
            return config.getString(path);
        } catch (ConfigException e) {
            throw bad(path, "a string", e);
        }
    }

    /** A string that must not be empty; {@code hint} says how to set it. */
    public String required(String path, String hint) {
        String s = string(path);
        if (s.isBlank()) {
            throw new InvalidSettingsException(path + " is empty: " + hint + " (in your --config file or as -D" + path + "=...).");
        }
        return s;
    }

    public String oneOf(String path, Set<String> allowed) {
        String s = string(path);
        if (!allowed.contains(s)) {
            throw new InvalidSettingsException("Bad value for " + path + " = \"" + s + "\" (" + origin(path) + "): expected one of "
                    + String.join(", ", allowed.stream().sorted().toList()) + ".");
        }
        return s;
    }

    public int intBetween(String path, int min, int max) {
        int v;
        try {
            v = config.getInt(path);
        } catch (ConfigException e) {
            throw bad(path, "a whole number from " + min + " to " + max, e);
        }
        if (v < min || v > max) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + v + " (" + origin(path) + "): expected a whole number from "
                    + min + " to " + max + ".");
        }
        return v;
    }

    public int intIn(String path, Set<Integer> allowed) {
        int v;
        try {
            v = config.getInt(path);
        } catch (ConfigException e) {
            throw bad(path, "one of " + allowed, e);
        }
        if (!allowed.contains(v)) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + v + " (" + origin(path) + "): expected one of "
                    + allowed.stream().sorted().toList() + ".");
        }
        return v;
    }

    public long longBetween(String path, long min, long max) {
        long v;
        try {
            v = config.getLong(path);
        } catch (ConfigException e) {
            throw bad(path, "a whole number from " + min + " to " + max, e);
        }
        if (v < min || v > max) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + v + " (" + origin(path) + "): expected a whole number from "
                    + min + " to " + max + ".");
        }
        return v;
    }

    public double doubleBetween(String path, double min, double max) {
        double v;
        try {
            v = config.getDouble(path);
        } catch (ConfigException e) {
            throw bad(path, "a number from " + min + " to " + max, e);
        }
        if (!(v >= min && v <= max)) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + v + " (" + origin(path) + "): expected a number from "
                    + min + " to " + max + ".");
        }
        return v;
    }

    /** A duration ("10m", "30s", "2h"), at least {@code min}. */
    public Duration durationAtLeast(String path, Duration min) {
        Duration v;
        try {
            v = config.getDuration(path);
        } catch (ConfigException e) {
            throw bad(path, "a duration such as 10m, 30s or 2h", e);
        }
        if (v.compareTo(min) < 0) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + config.getValue(path).render(ConfigRenderOptions.concise())
                    + " (" + origin(path) + "): expected a duration of at least " + min.toSeconds() + " s.");
        }
        return v;
    }

    /** A size in bytes ({@code 256 MiB}, {@code 1g}, {@code 1048576}) within [min, max]. */
    public long bytesBetween(String path, long min, long max) {
        long v;
        try {
            v = config.getBytes(path);
        } catch (ConfigException e) {
            throw bad(path, "a size such as 256 MiB, 1g or 1048576", e);
        }
        if (v < min || v > max) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + v + " bytes (" + origin(path) + "): expected " + min + " to " + max + " bytes.");
        }
        return v;
    }

    public boolean bool(String path) {
        try {
            return config.getBoolean(path);
        } catch (ConfigException e) {
            throw bad(path, "true or false", e);
        }
    }

    /** A non-empty list of whole numbers, each from min to max. */
    public List<Integer> intsBetween(String path, int min, int max) {
        return listBetween(path, config::getIntList, min, max, "whole numbers");
    }

    /** A non-empty list of numbers, each from min to max. */
    public List<Double> doublesBetween(String path, double min, double max) {
        return listBetween(path, config::getDoubleList, min, max, "numbers");
    }

    private <T extends Number> List<T> listBetween(String path, Function<String, List<T>> read, double min, double max,
                                                   String what) {
        List<T> v;
        try {
            v = List.copyOf(read.apply(path));
        } catch (ConfigException e) {
            throw bad(path, "a list of " + what + " from " + number(min) + " to " + number(max), e);
        }
        if (v.isEmpty() || v.stream().anyMatch(x -> !(x.doubleValue() >= min && x.doubleValue() <= max))) {
            throw new InvalidSettingsException("Bad value for " + path + " = " + v + " (" + origin(path) + "): expected a non-empty list of "
                    + what + " from " + number(min) + " to " + number(max) + ".");
        }
        return v;
    }

    private static String number(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.valueOf((long) d) : String.valueOf(d);
    }

    public List<String> strings(String path) {
        try {
            return List.copyOf(config.getStringList(path));
        } catch (ConfigException e) {
            throw bad(path, "a list of strings", e);
        }
    }

    private String origin(String path) {
        try {
            return config.getValue(path).origin().description();
        } catch (ConfigException e) {
            return "unknown origin";
        }
    }

    private InvalidSettingsException bad(String path, String expected, ConfigException e) {
        if (e instanceof ConfigException.Missing) {
            return new InvalidSettingsException("Missing configuration key " + path + " (it belongs in a module's reference.conf; "
                    + "the application jar may be stale: rebuild it).", e);
        }
        String value;
        try {
            value = config.getValue(path).render(ConfigRenderOptions.concise());
        } catch (ConfigException ex) {
            value = "?";
        }
        return new InvalidSettingsException("Bad value for " + path + " = " + value + " (" + origin(path) + "): expected " + expected + ".", e);
    }
}
