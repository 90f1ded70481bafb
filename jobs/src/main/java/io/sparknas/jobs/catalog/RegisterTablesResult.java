package io.sparknas.jobs.catalog;

import io.sparknas.jobs.StageResult;

import java.util.List;

/** What register-tables did: the database, the tables now in it, and the stale ones it dropped. */
public record RegisterTablesResult(String database, List<String> tables, List<String> dropped, String metastore) implements StageResult {

    @Override
    public String summary() {
        return "Registered " + tables.size() + " tables of the run in database " + database + " (" + metastore + ")"
                + (dropped.isEmpty() ? "" : "; dropped " + dropped.size() + " no longer committed: " + String.join(", ", dropped))
                + "\nQuery them by name: SELECT * FROM " + database + "." + (tables.isEmpty() ? "<table>" : tables.get(0))
                + " (submit/nas-sql --database " + database + ", or any Spark session on the same metastore)";
    }
}
