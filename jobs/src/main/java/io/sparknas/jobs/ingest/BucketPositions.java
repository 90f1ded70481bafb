package io.sparknas.jobs.ingest;

import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Iterator;
import java.util.Objects;

/**
 * Numbers the rows of each (split, bucket) 0, 1, ... in the order they arrive: a partition sorted by split, bucket and the
 * position order gets {@code pos} without buffering a bucket (a window function would hold a whole bucket of pixels in
 * memory). Input columns {@code split, bucket, ...}; output {@code split, bucket, pos, ...}.
 */
final class BucketPositions implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** The input schema with {@code pos} (int) after {@code split, bucket}. */
    static StructType schema(StructType in) {
        if (!in.fields()[0].name().equals("split") || !in.fields()[1].name().equals("bucket")) {
            throw new IllegalArgumentException("expected split, bucket first, got " + in.simpleString());
        }
        StructType out = new StructType().add(in.fields()[0]).add(in.fields()[1]).add("pos", DataTypes.IntegerType, false);
        for (int i = 2; i < in.fields().length; i++) {
            StructField f = in.fields()[i];
            out = out.add(f);
        }
        return out;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Iterator<>() {
            private String split;
            private int bucket = -1;
            private int pos;

            @Override
            public boolean hasNext() {
                return rows.hasNext();
            }

            @Override
            public Row next() {
                Row r = rows.next();
                String sp = r.getString(0);
                int b = r.getInt(1);
                if (b != bucket || !Objects.equals(sp, split)) {
                    split = sp;
                    bucket = b;
                    pos = 0;
                }
                Object[] v = new Object[r.length() + 1];
                v[0] = sp;
                v[1] = b;
                v[2] = pos++;
                for (int i = 2; i < r.length(); i++) {
                    v[i + 1] = r.get(i);
                }
                return RowFactory.create(v);
            }
        };
    }
}
