package io.sparknas.jobs.artifact;

import java.util.List;
import java.util.ArrayList;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.Row;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage latency-profile commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class LatencyProfileOutputs {

    public static final String STAGE = "latency-profile";
    public static final String LATENCY = "latency";
    public static final int SCHEMA_VERSION = SchemaVersions.of("latency-profile");
    public static final StructType SCHEMA = new StructType()
            .add("part", DataTypes.StringType, false).add("op", DataTypes.StringType, false)
            .add("in_height", DataTypes.IntegerType, false).add("in_channels", DataTypes.IntegerType, false)
            .add("out_channels", DataTypes.IntegerType, false).add("stride", DataTypes.IntegerType, false)
            .add("batch_size", DataTypes.IntegerType, false).add("median_ms", DataTypes.DoubleType, false)
            .add("p90_ms", DataTypes.DoubleType, false).add("repeats", DataTypes.IntegerType, false)
            .add("host", DataTypes.StringType, false);

    /** The committed latency table of a run, checked: a clear error when the stage is missing or of another schema version. */
    public static LatencyTable read(SparkSession spark, RunStore store) {
        StageRecord record = store.committed(STAGE).orElseThrow(() -> new InputDataException("Run " + store.runId()
                + " has no committed latency-profile stage at " + store.stageDir(STAGE) + ": run submit/latency-profile.sh first, or "
                + "choose a cost model that needs no measurement (mflops, mparams)."));
        return read(spark, store, record);
    }

    /** The latency table of a committed latency-profile stage, checked against its record. */
    public static LatencyTable read(SparkSession spark, RunStore store, StageRecord record) {
        StageRecord.Table t = record.tables().get(LATENCY);
        if (t == null || t.schemaVersion() != SCHEMA_VERSION) {
            throw new InputDataException("Table latency-profile/" + LATENCY + " of run " + store.runId() + " has schema version "
                    + (t == null ? "none" : t.schemaVersion()) + "; this version reads " + SCHEMA_VERSION + ". Re-run latency-profile (--force).");
        }
        List<Row> rows = spark.read().parquet(store.tableUri(record.stageDir(), LATENCY)).collectAsList();
        if (rows.size() != t.rows()) {
            throw new InputDataException("Table " + store.tableUri(record.stageDir(), LATENCY) + " has " + rows.size() + " rows; its _stage.json says "
                    + t.rows() + ". Re-run latency-profile (--force).");
        }
        List<LatencyTable.Measurement> m = new ArrayList<>();
        int batch = -1;
        for (Row r : rows) {
            m.add(new LatencyTable.Measurement(new LatencyProbe(r.getAs("part"), r.getAs("op"), r.<Integer>getAs("in_height"),
                    r.<Integer>getAs("in_channels"), r.<Integer>getAs("out_channels"), r.<Integer>getAs("stride")), r.<Double>getAs("median_ms")));
            batch = r.<Integer>getAs("batch_size");
        }
        return LatencyTable.of(batch, record.properties().getOrDefault("device", "unknown"), m);
    }

    private LatencyProfileOutputs() {
    }
}
