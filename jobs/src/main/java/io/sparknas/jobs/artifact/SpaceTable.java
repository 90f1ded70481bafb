package io.sparknas.jobs.artifact;

import io.sparknas.jobs.InputDataException;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.List;

/**
 * A search space as a table (supernet-train's {@code space}, prune's {@code pruned_space}): one row per searchable layer
 * with its shape and its current candidate op names. Reading restricts the run's full space to the listed candidates, so a
 * layer-wise space (PAD-NAS) is rebuilt exactly.
 */
public final class SpaceTable {

    public static final StructType SCHEMA = new StructType()
            .add("layer", DataTypes.IntegerType, false).add("stage", DataTypes.IntegerType, false)
            .add("in_channels", DataTypes.IntegerType, false).add("out_channels", DataTypes.IntegerType, false)
            .add("stride", DataTypes.IntegerType, false).add("in_height", DataTypes.IntegerType, false)
            .add("candidates", DataTypes.createArrayType(DataTypes.StringType), false);

    private SpaceTable() {
    }

    public static List<Row> rows(SearchSpace space) {
        List<Row> rows = new ArrayList<>();
        for (Layer l : space.layers()) {
            rows.add(RowFactory.create(l.index(), l.stage(), l.inChannels(), l.outChannels(), l.stride(), l.inHeight(),
                    l.candidates().stream().map(Op::name).toArray(String[]::new)));
        }
        return rows;
    }

    /** Writes {@code space} as one small Parquet file at {@code uri}; returns the row count. */
    public static int write(SparkSession spark, SearchSpace space, String uri) {
        List<Row> rows = rows(space);
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(uri);
        return rows.size();
    }

    /** The full space {@code base} restricted to the candidates listed at {@code uri}. */
    public static SearchSpace read(SparkSession spark, String uri, SearchSpace base) {
        List<Row> rows = spark.read().parquet(uri).select("layer", "candidates").collectAsList();
        if (rows.size() != base.size()) {
            throw new InputDataException("The space table " + uri + " has " + rows.size() + " layers but the configured space (nas.space) has "
                    + base.size() + ": run the later stages with the nas.space settings of the stage that wrote it.");
        }
        SearchSpace space = base;
        for (Row r : rows) {
            int l = r.getInt(0);
            List<String> names = r.getList(1);
            List<Op> ops = new ArrayList<>();
            for (String n : names) {
                Op op = base.layer(l).candidates().stream().filter(o -> o.name().equals(n)).findFirst().orElseThrow(() -> new InputDataException(
                        "The space table " + uri + " lists op " + n + " at layer " + l + ", which the configured space (nas.space) does not "
                                + "offer there: run the later stages with the nas.space settings of the stage that wrote it."));
                ops.add(op);
            }
            if (ops.isEmpty()) {
                throw new InputDataException("The space table " + uri + " leaves layer " + l + " without candidates");
            }
            space = space.withCandidates(l, ops);
        }
        return space;
    }
}
