package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage retrain commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class RetrainOutputs {

    public static final String STAGE = "retrain";
    public static final String FINAL_MODELS = "final_models";
    public static final String CONFUSION = "confusion";
    public static final String METRICS = "retrain_metrics";
    public static final String MODELS = "models";
    public static final int SCHEMA_VERSION = SchemaVersions.of("retrain");
    public static final StructType FINAL_SCHEMA = new StructType()
            .add("model", DataTypes.IntegerType, false).add("arch", DataTypes.StringType, false)
            .add("source", DataTypes.StringType, false).add("supernet_accuracy", DataTypes.DoubleType, true)
            .add("test_accuracy", DataTypes.DoubleType, false)
            .add("per_class_accuracy", DataTypes.createArrayType(DataTypes.DoubleType), false)
            .add("test_images", DataTypes.LongType, false).add("mparams", DataTypes.DoubleType, false)
            .add("mflops", DataTypes.DoubleType, false).add("latency_ms", DataTypes.DoubleType, true)
            .add("epochs", DataTypes.IntegerType, false).add("wall_seconds", DataTypes.DoubleType, false)
            .add("model_path", DataTypes.StringType, false);
    public static final StructType CONFUSION_SCHEMA = new StructType()
            .add("model", DataTypes.IntegerType, false).add("actual", DataTypes.IntegerType, false)
            .add("predicted", DataTypes.IntegerType, false).add("count", DataTypes.IntegerType, false);

    private RetrainOutputs() {
    }
}
