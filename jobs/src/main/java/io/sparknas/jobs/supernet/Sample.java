package io.sparknas.jobs.supernet;

import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.store.RunStore;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.Serializable;

/** One image of the images table as the trainer holds it: class index and uint8 HWC pixels. */
public record Sample(int label, byte[] pixels) implements Serializable {

    /** A split of the run's images table as samples, read by the executors; {@code limit > 0} keeps the first {@code limit} by image id. */
    public static JavaRDD<Sample> split(SparkSession spark, RunStore store, String split, int limit) {
        Dataset<Row> rows = spark.read().parquet(store.tableUri(IngestStage.STAGE, IngestStage.IMAGES)).where("split = '" + split + "'");
        if (limit > 0) {
            rows = rows.orderBy("id").limit(limit);
        }
        return rows.select("class_index", "pixels").javaRDD().map(r -> new Sample(r.getInt(0), (byte[]) r.get(1)));
    }
}
