package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage ranking commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class RankingOutputs {

    public static final String STAGE = "ranking";
    public static final String RANKING = "ranking";
    public static final int SCHEMA_VERSION = SchemaVersions.of("ranking");
    public static final StructType SCHEMA = new StructType()
            .add("arch", DataTypes.StringType, false).add("cost", DataTypes.DoubleType, false)
            .add("supernet_accuracy", DataTypes.DoubleType, false).add("standalone_accuracy", DataTypes.DoubleType, false)
            .add("on_front", DataTypes.BooleanType, false).add("kendall_tau", DataTypes.DoubleType, true)
            .add("kendall_tau_undefined", DataTypes.StringType, true);

    private RankingOutputs() {
    }
}
