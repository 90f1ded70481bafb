package io.sparknas.jobs.sql;

import java.util.Map;
import com.typesafe.config.Config;
import io.sparknas.jobs.catalog.CatalogSettings;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Settings of the sql job.
 *
 * @param run    run root and id (the id is required)
 * @param query  SQL text: one or more statements separated by ';' (the last one's result is printed); null with
 *               {@code --file -}: statements are read from standard input and each one's result is printed ({@link SqlQueryJob#session})
 * @param format {@code table} (aligned, for people) or {@code tsv} (header line, tab-separated, for scripts)
 * @param limit  rows printed at most
 * @param database with {@code --database NAME}: query Spark's persistent catalog ({@code nas.catalog}) with NAME as the current
 *                 database (e.g. {@code nas_<run>}, registered by register-tables) instead of a run's views; else null
 * @param catalog  the catalog {@code --database} reads
 */
public record SqlSettings(RunSettings run, String query, String format, int limit, String database, CatalogSettings catalog) {

    public static final Set<String> OPTIONS = Set.of("file", "format", "limit", "database");

    public SqlSettings(RunSettings run, String query, String format, int limit) {
        this(run, query, format, limit, null, null);
    }

    public static SqlSettings from(Config config, StageArgs args) {
        String database = args.options().get("database");
        if (database == null && config.getString("nas.run.id").isBlank()) {
            throw new InvalidSettingsException("nas-sql needs the run to query: pass --run-id ID (and --run-root URI), or --database nas_<run> "
                    + "for a run registered in the catalog.");
        }
        if (database != null && !database.matches("[A-Za-z0-9_]+")) {
            throw new InvalidSettingsException("Bad --database " + database + ": a database name is letters, digits and '_' (a run's is nas_<run id>).");
        }
        CatalogSettings catalog = database == null ? null : CatalogSettings.from(config);
        RunSettings run = RunSettings.from(config, args);
        String query;
        if (args.options().containsKey("file")) {
            if (!args.positional().isEmpty()) {
                throw new InvalidSettingsException("Give either a query or --file FILE, not both.");
            }
            if (args.options().get("file").equals("-")) {
                return new SqlSettings(run, null, format(args), limit(args), database, catalog);
            }
            Path f = Path.of(args.options().get("file"));
            try {
                query = Files.readString(f, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new InvalidSettingsException("Cannot read --file " + f + ": " + e.getMessage(), e);
            }
        } else if (args.positional().size() == 1) {
            query = args.positional().get(0);
        } else {
            throw new InvalidSettingsException("nas-sql takes one query (quoted) or --file FILE; got " + args.positional().size() + " arguments.");
        }
        return new SqlSettings(run, query, format(args), limit(args), database, catalog);
    }

    /** The Spark settings the session needs before it starts: the persistent catalog's with {@code --database}. */
    public Map<String, String> sparkConf() {
        return catalog == null ? Map.of() : catalog.sparkConf();
    }

    /** Whether statements come from standard input ({@code --file -}). */
    public boolean session() {
        return query == null;
    }

    private static String format(StageArgs args) {
        String format = args.options().getOrDefault("format", "table");
        if (!Set.of("table", "tsv").contains(format)) {
            throw new InvalidSettingsException("Bad --format " + format + ": expected table or tsv.");
        }
        return format;
    }

    private static int limit(StageArgs args) {
        int limit;
        try {
            limit = Integer.parseInt(args.options().getOrDefault("limit", "1000"));
        } catch (NumberFormatException e) {
            throw new InvalidSettingsException("Bad --limit " + args.options().get("limit") + ": expected a whole number.");
        }
        if (limit < 1) {
            throw new InvalidSettingsException("Bad --limit " + limit + ": expected at least 1.");
        }
        return limit;
    }
}
