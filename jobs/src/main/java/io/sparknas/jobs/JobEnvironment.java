package io.sparknas.jobs;

import io.sparknas.supernet.backend.BackendReport;
import io.sparknas.supernet.backend.NativeBackend;
import org.apache.spark.sql.SparkSession;

import java.util.LinkedHashMap;
import java.util.Map;

/** Facts about the process a stage runs in, recorded in {@code _stage.json}: Spark master and application, ND4J backend. */
public final class JobEnvironment {

    private static volatile BackendReport backend;

    private JobEnvironment() {
    }

    /** The driver's ND4J backend (probed once per JVM). */
    public static BackendReport backend() {
        BackendReport b = backend;
        if (b == null) {
            synchronized (JobEnvironment.class) {
                if (backend == null) {
                    backend = NativeBackend.probe();
                }
                b = backend;
            }
        }
        return b;
    }

    public static Map<String, String> sparkInfo(SparkSession spark) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("master", spark.sparkContext().master());
        m.put("app_id", spark.sparkContext().applicationId());
        m.put("version", spark.version());
        m.put("default_parallelism", String.valueOf(spark.sparkContext().defaultParallelism()));
        return m;
    }
}
