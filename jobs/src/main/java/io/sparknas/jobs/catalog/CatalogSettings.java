package io.sparknas.jobs.catalog;

import java.nio.file.Files;
import java.io.IOException;
import io.sparknas.supernet.config.InvalidSettingsException;
import com.typesafe.config.Config;
import io.sparknas.supernet.config.SettingsReader;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The persistent catalog a run's tables are registered in ({@code nas.catalog}).
 *
 * @param register  whether {@code submit/pipeline.sh} registers a run's tables at its end
 * @param metastore directory of the embedded Derby metastore (absolute), or null for the cluster's own metastore
 *                  ({@code hive-site.xml} on the classpath)
 */
public record CatalogSettings(boolean register, Path metastore) {

    public static CatalogSettings from(Config config) {
        SettingsReader r = new SettingsReader(config);
        String dir = r.string("nas.catalog.metastore");
        return new CatalogSettings(r.bool("nas.catalog.register"), dir.isBlank() ? null : Path.of(dir).toAbsolutePath().normalize());
    }

    /** The database of a run: {@code nas_<run id>} in lower case, every character other than a letter, digit or '_' as '_'. */
    public static String database(String runId) {
        return "nas_" + runId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    /**
     * The Spark settings of a session that sees this catalog: Spark's Hive catalog, on the embedded Derby metastore under
     * {@link #metastore} when one is set. They must be given before the session starts.
     */
    public Map<String, String> sparkConf() {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("spark.sql.catalogImplementation", "hive");
        if (metastore != null) {
            try {
                Files.createDirectories(metastore);
            } catch (IOException e) {
                throw new InvalidSettingsException("Cannot create nas.catalog.metastore = " + metastore + ": " + e.getMessage()
                        + ": give a writable local directory, or \"\" for the cluster's own metastore.");
            }
            conf.put("spark.hadoop.javax.jdo.option.ConnectionURL", "jdbc:derby:;databaseName=" + metastore.resolve("metastore_db") + ";create=true");
            conf.put("spark.sql.warehouse.dir", metastore.resolve("warehouse").toUri().toString());
            // derby.log beside the metastore, not in the working directory
            System.setProperty("derby.stream.error.file", metastore.resolve("derby.log").toString());
        }
        return conf;
    }
}
