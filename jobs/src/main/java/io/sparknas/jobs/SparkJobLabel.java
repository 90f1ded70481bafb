package io.sparknas.jobs;

import org.apache.spark.sql.SparkSession;

/**
 * What the Spark UI shows for the jobs a stage starts: the job group is the stage, the description says where in the stage
 * the job belongs ("supernet-train spos: epoch 3/30 (uniform), weight round 2/5", "search: generation 4/8, ..."). Both are
 * thread-local properties of the driver's context, inherited by threads started afterwards.
 */
public final class SparkJobLabel {

    private SparkJobLabel() {
    }

    /** Labels the jobs this thread starts from now on: group {@code stage}, description {@code stage + ": " + detail}. */
    public static void set(SparkSession spark, String stage, String detail) {
        spark.sparkContext().setJobGroup(stage, detail == null || detail.isEmpty() ? stage : stage + ": " + detail, false);
    }
}
