package io.sparknas.jobs.catalog;

import io.sparknas.supernet.config.InvalidSettingsException;
import org.apache.spark.sql.SparkSession;

/**
 * What {@code register-tables} and {@code nas-sql} agree on: the name a committed table has as a view or catalog table
 * ({@code <stage-dir>_<table>}, '-' as '_'), and the check that the session's catalog is Spark's persistent (Hive) one.
 */
public final class HiveCatalog {

    private HiveCatalog() {
    }

    /** The view (or catalog table) name of a stage directory's table: {@code supernet-train-2}, {@code train_metrics} -> {@code supernet_train_2_train_metrics}. */
    public static String viewName(String stageDir, String table) {
        return (stageDir + "_" + table).replace('-', '_');
    }

    /** Refuses a session whose catalog does not persist (registering or reading registered tables needs Spark's Hive catalog). */
    public static void require(SparkSession spark) {
        String impl = spark.conf().get("spark.sql.catalogImplementation", "in-memory");
        if (!impl.equals("hive")) {
            throw new InvalidSettingsException("The Spark session's catalog is '" + impl + "', which does not persist: registering tables needs Spark's Hive "
                    + "catalog (spark-hive on the classpath, as a Spark distribution built with -Phive has it; submit/spark-submit without SPARK_HOME has it).");
        }
    }
}
