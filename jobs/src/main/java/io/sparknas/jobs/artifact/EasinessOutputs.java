package io.sparknas.jobs.artifact;

import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.Row;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.store.SchemaVersions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What stage easiness commits: its directory name, the schema version of its tables, each table's name and schema.
 * The stage writes these tables and every later stage reads them from here, so no stage imports another.
 */
public final class EasinessOutputs {

    public static final String STAGE = "easiness";
    public static final String SAMPLE_ENTROPY = "sample_entropy";
    public static final String CLASS_EASINESS = "class_easiness";
    public static final String NETWORK_AGREEMENT = "network_agreement";
    public static final String NETWORK_ACCURACY = "network_accuracy";
    public static final int SCHEMA_VERSION = SchemaVersions.of("easiness");
    public static final StructType SAMPLE_SCHEMA = new StructType()
            .add("id", DataTypes.StringType, false).add("class_index", DataTypes.IntegerType, false)
            .add("network", DataTypes.StringType, false).add("entropy", DataTypes.DoubleType, false)
            .add("correct", DataTypes.BooleanType, false);
    public static final StructType CLASS_SCHEMA = new StructType()
            .add("class_index", DataTypes.IntegerType, false).add("score", DataTypes.DoubleType, false)
            .add("rank", DataTypes.IntegerType, false)
            .add("histogram", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
            .add("network_histograms", DataTypes.createMapType(DataTypes.StringType, DataTypes.createArrayType(DataTypes.DoubleType, false), false), false)
            .add("network_scores", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), false);
    public static final StructType AGREEMENT_SCHEMA = new StructType()
            .add("network_a", DataTypes.StringType, false).add("network_b", DataTypes.StringType, false)
            .add("spearman", DataTypes.DoubleType, false).add("kendall_tau", DataTypes.DoubleType, false);
    public static final StructType ACCURACY_SCHEMA = new StructType()
            .add("network", DataTypes.StringType, false).add("class_index", DataTypes.IntegerType, false)
            .add("test_accuracy", DataTypes.DoubleType, false).add("test_images", DataTypes.LongType, false)
            .add("train_mean_entropy", DataTypes.DoubleType, false);

    /** Class indices from easiest (rank 1) to hardest, from the easiness stage's {@code class_easiness}. */
    public static int[] ranking(SparkSession spark, RunStore store, int classes) {
        List<Row> rows = spark.read().parquet(store.tableUri(STAGE, CLASS_EASINESS))
                .select("class_index", "rank").orderBy("rank").collectAsList();
        if (rows.size() != classes) {
            throw new InputDataException("class_easiness of " + store.stageDir(STAGE) + " ranks " + rows.size() + " classes, the run has "
                    + classes + ": re-run submit/easiness.sh --force.");
        }
        return rows.stream().mapToInt(r -> r.getInt(0)).toArray();
    }

    private EasinessOutputs() {
    }
}
