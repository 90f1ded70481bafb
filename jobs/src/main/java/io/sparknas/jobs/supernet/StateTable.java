package io.sparknas.jobs.supernet;

import io.sparknas.supernet.net.SupernetState;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code supernet} table: one row per trainable part with its parameters and updater state as little-endian float32 bytes,
 * so a later stage (search, fine-tuning, {@code --resume}) restores the supernet exactly.
 */
public final class StateTable {

    static final StructType SCHEMA = new StructType()
            .add("part", DataTypes.StringType, false)
            .add("num_params", DataTypes.IntegerType, false)
            .add("params", DataTypes.BinaryType, false)
            .add("updater_state", DataTypes.BinaryType, false);

    private StateTable() {
    }

    public static void write(SparkSession spark, SupernetState state, String uri) {
        List<Row> rows = new ArrayList<>();
        for (Map.Entry<String, float[]> e : state.params().entrySet()) {
            rows.add(RowFactory.create(e.getKey(), e.getValue().length, bytes(e.getValue()), bytes(state.updater().get(e.getKey()))));
        }
        spark.createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(uri);
    }

    public static SupernetState read(SparkSession spark, String uri) {
        Map<String, float[]> p = new LinkedHashMap<>();
        Map<String, float[]> u = new LinkedHashMap<>();
        for (Row r : spark.read().parquet(uri).collectAsList()) {
            p.put(r.getString(0), floats((byte[]) r.get(2)));
            u.put(r.getString(0), floats((byte[]) r.get(3)));
        }
        return new SupernetState(p, u);
    }

    static byte[] bytes(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b.array();
    }

    static float[] floats(byte[] bytes) {
        float[] f = new float[bytes.length / 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
