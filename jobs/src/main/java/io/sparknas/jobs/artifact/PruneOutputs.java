package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage prune commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class PruneOutputs {

    public static final String STAGE = "prune";
    public static final String PRUNED_SPACE = "pruned_space";
    public static final String PRUNING = "pruning";
    public static final int SCHEMA_VERSION = SchemaVersions.of("prune");
    public static final StructType PRUNING_SCHEMA = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("op", DataTypes.StringType, false)
            .add("probability", DataTypes.DoubleType, false).add("kept", DataTypes.BooleanType, false);

    private PruneOutputs() {
    }
}
