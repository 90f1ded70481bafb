package io.sparknas.jobs.store;

import io.sparknas.jobs.InputDataException;

import java.util.Map;

/**
 * The schema version of every stage's tables, as this version of spark-nas writes and reads them: one place, so that a
 * change of a table's columns is one number here, and a reader refuses a committed stage written with another
 * ({@link RunStore#committed}) instead of failing later on a missing column or, worse, reading a changed one.
 */
public final class SchemaVersions {

    private static final Map<String, Integer> BY_STAGE = Map.of(
            "ingest", 2,
            "easiness", 1,
            "latency-profile", 1,
            "supernet-train", 2,
            "search", 2,
            "prune", 1,
            "retrain", 1,
            "ranking", 2,
            "report", 1);

    private SchemaVersions() {
    }

    /** The schema version of a stage's tables. */
    public static int of(String stage) {
        Integer v = BY_STAGE.get(stage);
        if (v == null) {
            throw new IllegalArgumentException("No schema version for stage '" + stage + "': add it to " + SchemaVersions.class.getName());
        }
        return v;
    }

    /** Refuses a committed stage whose tables have another schema version than this code reads. */
    static void check(StageRecord r, String file) {
        Integer expected = BY_STAGE.get(r.stage());
        if (expected == null || r.tables() == null) {
            return;
        }
        for (Map.Entry<String, StageRecord.Table> t : r.tables().entrySet()) {
            if (t.getValue().schemaVersion() != expected) {
                throw new InputDataException("Stage " + r.stageDir() + " of run " + r.runId() + " has table " + t.getKey() + " of schema_version "
                        + t.getValue().schemaVersion() + " (" + file + "), but this version of spark-nas reads schema_version " + expected
                        + ": re-run stage " + r.stageDir() + " with --force, or read it with the version that wrote it (" + r.codeVersion() + ").");
            }
        }
    }
}
