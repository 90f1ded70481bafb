package io.sparknas.jobs.config;

import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.supernet.config.SettingsReader;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Loads the {@code nas.*} configuration: {@code -D} overrides over the {@code --config} file over the merged
 * {@code reference.conf} of every module, then validates it once, eagerly, before any work starts.
 *
 * <p>Validation: every key under {@code nas} must exist in a reference.conf (a typo names the nearest valid key),
 * and every value must have the reference's type ({@link Config#checkValid}). Value ranges are checked by each
 * settings record through {@link SettingsReader}.
 */
public final class NasConfig {

    /** Root of every key the project reads. */
    public static final String ROOT = "nas";

    private NasConfig() {
    }

    /**
     * @param configFile a HOCON file or {@code null} for the defaults only
     * @param overrides  {@code path -> value} from {@code -Dnas.x.y=value}; a value starting with {@code [} or <code>{</code>
     *                   is parsed as HOCON (lists, objects), anything else is a string converted on read
     */
    public static Config load(File configFile, Map<String, String> overrides) {
        Config reference = ConfigFactory.defaultReference();
        Config file = ConfigFactory.empty();
        if (configFile != null) {
            if (!configFile.isFile()) {
                throw new InvalidSettingsException("Config file " + configFile + " does not exist or is not a file "
                        + "(--config expects a HOCON file such as conf/fashion-mnist-tiny.conf).");
            }
            try {
                file = ConfigFactory.parseFile(configFile, ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new InvalidSettingsException("Cannot parse config file " + configFile + ": " + e.getMessage(), e);
            }
        }
        Config user = overridesConfig(overrides).withFallback(file);
        Config merged;
        try {
            merged = user.withFallback(reference).resolve();
        } catch (ConfigException e) {
            throw new InvalidSettingsException("Cannot resolve the configuration: " + e.getMessage(), e);
        }
        validate(user, merged, reference);
        return typed(merged, reference);
    }

    /**
     * Replaces each string where reference.conf has a number or boolean (how {@code -D} values arrive) by the value a
     * config file would give, so {@code -Dnas.search.max-retries=1000} is the same configuration, and the same stage
     * config hash, as writing {@code max-retries = 1000} in a file or leaving the default of 1000. Call after
     * {@link #validate}, which has proven every such string converts.
     */
    private static Config typed(Config merged, Config reference) {
        Config out = merged;
        for (String path : leafPaths(reference.getObject(ROOT), ROOT)) {
            if (!merged.hasPath(path) || !reference.hasPath(path)) {
                continue;
            }
            ConfigValue v = merged.getValue(path);
            ConfigValueType want = reference.getValue(path).valueType();
            if (v.valueType() != ConfigValueType.STRING || (want != ConfigValueType.NUMBER && want != ConfigValueType.BOOLEAN)) {
                continue;
            }
            ConfigValue parsed = ConfigFactory.parseString("v = " + ((String) v.unwrapped()).trim()).getValue("v");
            if (parsed.valueType() != want) {
                // e.g. "yes" for a boolean: Typesafe Config converts it on read, the file syntax would not
                parsed = ConfigValueFactory.fromAnyRef(want == ConfigValueType.NUMBER ? merged.getNumber(path) : merged.getBoolean(path));
            }
            out = out.withValue(path, parsed.withOrigin(v.origin()));
        }
        return out;
    }

    static Config overridesConfig(Map<String, String> overrides) {
        Config c = ConfigFactory.empty();
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String key = e.getKey();
            if (!key.equals(ROOT) && !key.startsWith(ROOT + ".")) {
                throw new InvalidSettingsException("Override -D" + key + "=" + e.getValue()
                        + " is outside '" + ROOT + ".': only nas.* keys are configuration (Spark settings go to spark-submit --conf).");
            }
            String v = e.getValue().trim();
            ConfigValue value;
            if (v.startsWith("[") || v.startsWith("{")) {
                try {
                    value = ConfigFactory.parseString("v = " + v, ConfigParseOptions.defaults().setOriginDescription("-D" + key))
                            .getValue("v");
                } catch (ConfigException ex) {
                    throw new InvalidSettingsException("Override -D" + key + "=" + v + " is not a valid HOCON list or object: "
                            + ex.getMessage(), ex);
                }
            } else {
                value = ConfigValueFactory.fromAnyRef(e.getValue(), "-D" + key);
            }
            try {
                c = c.withValue(key, value);
            } catch (ConfigException.BadPath ex) {
                throw new InvalidSettingsException("Override -D" + key + " is not a valid key path: " + ex.getMessage(), ex);
            }
        }
        return c;
    }

    private static void validate(Config user, Config merged, Config reference) {
        List<String> known = leafPaths(reference.getObject(ROOT), ROOT);
        List<String> problems = new ArrayList<>();
        if (user.hasPath(ROOT)) {
            for (String path : leafPaths(user.getObject(ROOT), ROOT)) {
                if (!reference.hasPathOrNull(path) && !underFreeFormObject(reference, path)) {
                    ConfigValue v = user.getValue(path);
                    problems.add("Unknown configuration key '" + path + "' (" + origin(v) + "). Did you mean '"
                            + nearest(path, known) + "'?");
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidSettingsException(String.join("\n", problems));
        }
        // checkValid accepts a string where the reference has a number or boolean (that is how -D values arrive):
        // convert every such value now, so a bad one fails at start-up whichever stage reads it.
        for (String path : known) {
            if (!merged.hasPath(path) || !reference.hasPath(path)) {
                continue;
            }
            ConfigValueType want = reference.getValue(path).valueType();
            try {
                if (want == ConfigValueType.NUMBER) {
                    merged.getNumber(path);
                } else if (want == ConfigValueType.BOOLEAN) {
                    merged.getBoolean(path);
                }
            } catch (ConfigException e) {
                problems.add("Bad value for " + path + " = " + merged.getValue(path).render(ConfigRenderOptions.concise()) + " ("
                        + origin(merged.getValue(path)) + "): expected " + (want == ConfigValueType.NUMBER ? "a number" : "true or false") + ".");
            }
        }
        if (!problems.isEmpty()) {
            throw new InvalidSettingsException(String.join("\n", problems));
        }
        try {
            merged.checkValid(reference, ROOT);
        } catch (ConfigException.ValidationFailed e) {
            List<String> msgs = new ArrayList<>();
            for (ConfigException.ValidationProblem p : e.problems()) {
                String value = merged.hasPath(p.path()) ? merged.getValue(p.path()).render(ConfigRenderOptions.concise()) : "(missing)";
                msgs.add("Bad value for " + p.path() + " = " + value + " (" + p.origin().description() + "): " + p.problem());
            }
            throw new InvalidSettingsException(String.join("\n", msgs), e);
        }
    }

    /** An object in reference.conf that is empty ({@code {}}) accepts any keys (maps such as extra options). */
    private static boolean underFreeFormObject(Config reference, String path) {
        String p = path;
        while (p.contains(".")) {
            p = p.substring(0, p.lastIndexOf('.'));
            if (reference.hasPath(p) && reference.getValue(p).valueType() == ConfigValueType.OBJECT
                    && reference.getObject(p).isEmpty()) {
                return true;
            }
        }
        return false;
    }

    static List<String> leafPaths(ConfigObject obj, String prefix) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, ConfigValue> e : obj.entrySet()) {
            String path = prefix + "." + quoteIfNeeded(e.getKey());
            if (e.getValue() instanceof ConfigObject child && !child.isEmpty()) {
                out.addAll(leafPaths(child, path));
            } else {
                out.add(path);
            }
        }
        return out;
    }

    private static String quoteIfNeeded(String key) {
        return key.matches("[A-Za-z0-9_-]+") ? key : ConfigValueFactory.fromAnyRef(key).render();
    }

    private static String origin(ConfigValue v) {
        String d = v.origin().description();
        return d == null ? "unknown origin" : d;
    }

    /** The valid key closest to {@code path} by edit distance. */
    static String nearest(String path, List<String> candidates) {
        String best = null;
        int bestD = Integer.MAX_VALUE;
        for (String c : new TreeSet<>(candidates)) {
            int d = editDistance(path, c);
            if (d < bestD) {
                bestD = d;
                best = c;
            }
        }
        return best;
    }

    static int editDistance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** The resolved subtree as sorted, comment-free JSON (what is logged and stored in {@code _stage.json}). */
    public static String renderJson(Config config, String path) {
        return config.getValue(path).render(ConfigRenderOptions.concise().setFormatted(false));
    }

    /** The resolved configuration as HOCON for the log. */
    public static String renderForLog(Config config) {
        return config.getObject(ROOT).render(ConfigRenderOptions.defaults().setOriginComments(false).setComments(false).setJson(false));
    }

    /** SHA-256 over the JSON rendering of the given subtrees (missing ones count as null): the config part of a stage's identity. */
    public static String hash(Config config, List<String> paths) {
        Map<String, String> parts = new LinkedHashMap<>();
        for (String p : paths) {
            parts.put(p, config.hasPath(p) ? renderJson(config, p) : "null");
        }
        return sha256(parts.toString());
    }

    public static String sha256(String text) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            return HexFormat.of().formatHex(md.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
