package io.sparknas.jobs.artifact;

import io.sparknas.supernet.net.SupernetState;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
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

    /**
     * Writes the state as Parquet. The state lives on the driver, so its bytes travel to the writing tasks inside them (as Spark
     * ML's model writers do); they are packed into tasks of at most {@value #TASK_BYTES} bytes (more only when a state would
     * need over {@value #MAX_FILES} of them), so no task exceeds Spark's recommended task size on the Fashion-MNIST presets.
     */
    public static void write(SparkSession spark, SupernetState state, String uri) {
        List<List<Row>> slices = new ArrayList<>();
        long total = 8L * state.numParams();
        long limit = Math.max(TASK_BYTES, total / MAX_FILES + 1);
        long inSlice = 0;
        for (Map.Entry<String, float[]> e : state.params().entrySet()) {
            float[] u = state.updater().get(e.getKey());
            long size = 4L * (e.getValue().length + u.length);
            if (slices.isEmpty() || inSlice + size > limit) {
                slices.add(new ArrayList<>());
                inSlice = 0;
            }
            slices.get(slices.size() - 1).add(RowFactory.create(e.getKey(), e.getValue().length, bytes(e.getValue()), bytes(u)));
            inSlice += size;
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        JavaRDD<Row> rows = jsc.parallelize(slices, Math.max(1, slices.size())).flatMap(List::iterator);
        spark.createDataFrame(rows, SCHEMA).write().parquet(uri);
    }

    private static final long TASK_BYTES = 768 * 1024;
    private static final int MAX_FILES = 64;

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
