package io.sparknas.jobs.catalog;

import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;

/**
 * Settings of the register-tables job.
 *
 * @param run     run root and id (the id is required)
 * @param catalog where the tables are registered
 */
public record RegisterTablesSettings(RunSettings run, CatalogSettings catalog) {

    public static RegisterTablesSettings from(Config config, StageArgs args) {
        if (config.getString("nas.run.id").isBlank()) {
            throw new InvalidSettingsException("register-tables needs the run to register: pass --run-id ID (and --run-root URI).");
        }
        return new RegisterTablesSettings(RunSettings.from(config, args), CatalogSettings.from(config));
    }

    public String database() {
        return CatalogSettings.database(run.runId());
    }
}
