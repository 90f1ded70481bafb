package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage report commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class ReportOutputs {

    public static final String STAGE = "report";
    public static final String SUMMARY = "summary";
    public static final int SCHEMA_VERSION = SchemaVersions.of("report");
    public static final StructType SUMMARY_SCHEMA = new StructType()
            .add("run", DataTypes.StringType, false).add("method", DataTypes.StringType, false)
            .add("search_seconds", DataTypes.DoubleType, false).add("search_cpu_hours", DataTypes.DoubleType, false)
            .add("evaluations", DataTypes.LongType, false).add("front_size", DataTypes.IntegerType, false)
            .add("best_supernet_accuracy", DataTypes.DoubleType, true).add("best_arch", DataTypes.StringType, true)
            .add("test_accuracy", DataTypes.DoubleType, true).add("mparams", DataTypes.DoubleType, true)
            .add("mflops", DataTypes.DoubleType, true).add("kendall_tau", DataTypes.DoubleType, true);

    private ReportOutputs() {
    }
}
