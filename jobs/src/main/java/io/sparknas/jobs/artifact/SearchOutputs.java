package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage search commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class SearchOutputs {

    public static final String STAGE = "search";
    public static final String CANDIDATES = "candidates";
    public static final String PARETO_FRONT = "pareto_front";
    public static final String OP_DISTRIBUTION = "op_distribution";
    public static final int SCHEMA_VERSION = SchemaVersions.of("search");
    public static final StructType CANDIDATES_SCHEMA = new StructType()
            .add("generation", DataTypes.IntegerType, false).add("arch", DataTypes.StringType, false)
            .add("ops", DataTypes.createArrayType(DataTypes.StringType), false).add("accuracy", DataTypes.DoubleType, false)
            .add("cost", DataTypes.DoubleType, false).add("mflops", DataTypes.DoubleType, false)
            .add("mparams", DataTypes.DoubleType, false).add("latency_ms", DataTypes.DoubleType, true)
            .add("rank", DataTypes.IntegerType, false).add("crowding", DataTypes.DoubleType, false)
            .add("feasible", DataTypes.BooleanType, false).add("first_generation", DataTypes.IntegerType, false);
    public static final StructType FRONT_SCHEMA = new StructType()
            .add("arch", DataTypes.StringType, false).add("ops", DataTypes.createArrayType(DataTypes.StringType), false)
            .add("accuracy", DataTypes.DoubleType, false).add("cost", DataTypes.DoubleType, false)
            .add("mflops", DataTypes.DoubleType, false).add("mparams", DataTypes.DoubleType, false)
            .add("latency_ms", DataTypes.DoubleType, true).add("crowding", DataTypes.DoubleType, false);
    public static final StructType DISTRIBUTION_SCHEMA = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("op", DataTypes.StringType, false)
            .add("count", DataTypes.IntegerType, false).add("probability", DataTypes.DoubleType, false)
            .add("architectures", DataTypes.IntegerType, false).add("rank_bound", DataTypes.IntegerType, false);

    /** A committed search stage's architectures table: its Pareto front, or a method's read-off or generation ({@code generated_archs}). */
    public static String architecturesTable(StageRecord search) {
        return search.tables().containsKey(PARETO_FRONT) ? PARETO_FRONT : GeneratedArchsTable.TABLE;
    }

    private SearchOutputs() {
    }
}
