package io.sparknas.jobs.supernet;

import io.sparknas.search.strategy.TrainingStrategy.ArchParam;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.List;

/**
 * The {@code arch_params} table of supernet-train: per epoch, layer and op the strategy's parameters (DA-NAS: {@code logit} and
 * {@code probability} = softmax of the live logits; DDPNAS {@code theta}; DSO-NAS {@code lambda}) and, for an op the strategy
 * has pruned, a {@code pruned} row whose value is the 1-based epoch at whose end it was pruned. Empty for uniform sampling.
 */
public final class ArchParamsTable {

    public static final String TABLE = "arch_params";

    public static final StructType SCHEMA = new StructType()
            .add("method", DataTypes.StringType, false).add("epoch", DataTypes.IntegerType, false)
            .add("layer", DataTypes.IntegerType, false).add("op", DataTypes.StringType, false)
            .add("value", DataTypes.DoubleType, false).add("kind", DataTypes.StringType, false);

    private ArchParamsTable() {
    }

    static Row row(String method, ArchParam p) {
        return RowFactory.create(method, p.epoch(), p.layer(), p.op(), p.value(), p.kind());
    }

    static void write(SparkSession spark, List<Row> rows, String uri) {
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(uri);
    }

    static List<Row> read(SparkSession spark, String uri) {
        return spark.read().schema(SCHEMA).parquet(uri).orderBy("epoch", "layer", "kind", "op").collectAsList();
    }
}
