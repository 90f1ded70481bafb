package io.sparknas.jobs.artifact;

import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage supernet-train commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class SupernetTrainOutputs {

    public static final String STAGE = "supernet-train";
    public static final String SUPERNET = "supernet";
    public static final String METRICS = "train_metrics";
    public static final String PATH_EVAL = "path_eval";
    public static final String SPACE = "space";
    public static final int SCHEMA_VERSION = SchemaVersions.of("supernet-train");
    public static final StructType METRICS_SCHEMA = new StructType()
            .add("epoch", DataTypes.IntegerType, false).add("round", DataTypes.IntegerType, false)
            .add("steps", DataTypes.LongType, false).add("images", DataTypes.LongType, false)
            .add("loss", DataTypes.DoubleType, false).add("train_accuracy", DataTypes.DoubleType, false)
            .add("learning_rate", DataTypes.DoubleType, false).add("seconds", DataTypes.DoubleType, false)
            .add("images_per_second", DataTypes.DoubleType, false).add("compute_seconds", DataTypes.DoubleType, false)
            .add("overhead_share", DataTypes.DoubleType, false)
            // weights (train split) or architecture (val split, the strategy's parameters), and the epoch's number of classes
            .add("phase", DataTypes.StringType, false).add("classes", DataTypes.IntegerType, false)
            // images per class index the round's steps read, counted on the executors
            .add("class_images", DataTypes.createArrayType(DataTypes.LongType, false), false)
            // image rows the round's tasks read from the bucket files (about steps x batch x workers, never the shards)
            .add("rows_read", DataTypes.LongType, false);
    public static final StructType PATH_EVAL_SCHEMA = new StructType()
            .add("arch", DataTypes.StringType, false).add("val_accuracy", DataTypes.DoubleType, false)
            .add("val_images", DataTypes.LongType, false).add("mflops", DataTypes.DoubleType, false)
            .add("mparams", DataTypes.DoubleType, false);

    private SupernetTrainOutputs() {
    }
}
