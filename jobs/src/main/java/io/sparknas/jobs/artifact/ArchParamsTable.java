package io.sparknas.jobs.artifact;

import io.sparknas.search.strategy.TrainingStrategy.ArchParam;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The {@code arch_params} table of supernet-train: per epoch, layer and op the strategy's parameters (DA-NAS: {@code logit} and
 * {@code probability} = softmax of the live logits; DDPNAS {@code theta}; DSO-NAS {@code lambda} and {@code gamma}, its
 * sparsity weight) and, for an op the strategy has pruned, a {@code pruned} row whose value is the 1-based epoch at whose end
 * it was pruned. Empty for uniform sampling.
 */
public final class ArchParamsTable {

    public static final String TABLE = "arch_params";

    public static final StructType SCHEMA = new StructType()
            .add("method", DataTypes.StringType, false).add("epoch", DataTypes.IntegerType, false)
            .add("layer", DataTypes.IntegerType, false).add("op", DataTypes.StringType, false)
            .add("value", DataTypes.DoubleType, false).add("kind", DataTypes.StringType, false);

    private ArchParamsTable() {
    }

    public static Row row(String method, ArchParam p) {
        return RowFactory.create(method, p.epoch(), p.layer(), p.op(), p.value(), p.kind());
    }

    public static void write(SparkSession spark, List<Row> rows, String uri) {
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(uri);
    }

    public static List<Row> read(SparkSession spark, String uri) {
        return spark.read().schema(SCHEMA).parquet(uri).orderBy("epoch", "layer", "kind", "op").collectAsList();
    }

    /**
     * One kind of value of the last epoch that holds it: per layer and candidate of {@code space} (NaN where the epoch has no
     * value for the op, e.g. DSO-NAS's identity), and which ops were pruned by then.
     */
    public record LastEpoch(int epoch, double[][] values, boolean[][] pruned) {
    }

    /** The last epoch's values of {@code kind} in the table at {@code uri}; empty when no row has that kind (another method's table). */
    public static Optional<LastEpoch> lastEpoch(SparkSession spark, String uri, SearchSpace space, String kind) {
        List<Row> rows = spark.read().schema(SCHEMA).parquet(uri).collectAsList();
        int last = rows.stream().filter(r -> r.getString(5).equals(kind)).mapToInt(r -> r.getInt(1)).max().orElse(-1);
        if (last < 0) {
            return Optional.empty();
        }
        double[][] values = new double[space.size()][];
        boolean[][] pruned = new boolean[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            values[l] = new double[space.layer(l).candidates().size()];
            Arrays.fill(values[l], Double.NaN);
            pruned[l] = new boolean[values[l].length];
        }
        for (Row r : rows) {
            // rows of other kinds may be per layer (op "*": DA-NAS's classification-share)
            if (r.getInt(1) != last || !r.getString(5).equals(kind) && !r.getString(5).equals("pruned")) {
                continue;
            }
            int l = r.getInt(2);
            int i = space.layer(l).candidates().indexOf(Op.parse(r.getString(3)));
            if (i < 0) {
                throw new IllegalArgumentException("arch_params names op " + r.getString(3) + " at layer " + l + ", not a candidate of the space");
            }
            if (r.getString(5).equals(kind)) {
                values[l][i] = r.getDouble(4);
            } else if (r.getString(5).equals("pruned")) {
                pruned[l][i] = true;
            }
        }
        return Optional.of(new LastEpoch(last, values, pruned));
    }
}
