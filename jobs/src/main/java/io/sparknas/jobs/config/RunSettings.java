package io.sparknas.jobs.config;

import java.time.Duration;
import io.sparknas.search.method.NasMethods;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.supernet.config.SettingsReader;
import com.typesafe.config.Config;

import java.net.URI;
import java.nio.file.Paths;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;

/**
 * Where a run lives and how a stage treats existing outputs ({@code nas.run}).
 *
 * @param root   run root as a URI: {@code file:/abs/path} or {@code s3a://bucket/prefix}
 * @param runId  the run's name (directory under the root)
 * @param method search method of the run (spos, padnas, danas, ddpnas, dsonas)
 * @param force  overwrite a committed stage
 * @param resume continue a stage from its last checkpoint
 * @param config the whole resolved configuration (stored in {@code _stage.json})
 * @param checkpointInterval a checkpointing stage writes a checkpoint at the first round boundary after this much time since
 *                           its last one ({@code nas.run.checkpoint-interval}); speed only, never the result
 */
public record RunSettings(URI root, String runId, String method, boolean force, boolean resume, Config config,
                          Duration checkpointInterval) {

    /** The registered methods ({@link NasMethods}). */
    public static final Set<String> METHODS = Set.copyOf(NasMethods.names());

    public static RunSettings from(Config config, StageArgs args) {
        SettingsReader r = new SettingsReader(config);
        String root = r.required("nas.run.root", "set the run root to a local path or an s3a://bucket/prefix URI");
        String id = r.string("nas.run.id");
        if (id.isBlank()) {
            id = "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        } else {
            checkRunId("nas.run.id", id);
        }
        String method = r.oneOf("nas.run.method", METHODS);
        return new RunSettings(toUri(root), id, method, args.force(), args.resume(), config,
                r.durationAtLeast("nas.run.checkpoint-interval", Duration.ZERO));
    }

    /**
     * Refuses a run id that is not a plain directory name (so it can never reach outside the run root, e.g. {@code ../x}):
     * letters, digits, '.', '_' and '-', not starting with '.', '_' or '-'.
     *
     * @param key the configuration key (or property) the id came from, named in the error
     */
    public static String checkRunId(String key, String id) {
        if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
            throw new InvalidSettingsException("Bad value for " + key + " = \"" + id
                    + "\": a run id is a directory name of letters, digits, '.', '_' and '-' (not starting with '.', '_' or '-').");
        }
        return id;
    }

    /** A local path (relative to the working directory) or a URI with a scheme. */
    public static URI toUri(String root) {
        if (root.matches("^[A-Za-z][A-Za-z0-9+.-]*://.*") || root.startsWith("file:")) {
            URI u = URI.create(root);
            return u.getPath() != null && u.getPath().endsWith("/") && u.getPath().length() > 1
                    ? URI.create(root.substring(0, root.length() - 1)) : u;
        }
        return Paths.get(root).toAbsolutePath().normalize().toUri();
    }
}
