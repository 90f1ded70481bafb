package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.Sample;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.store.RunStore;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What an epoch's rounds read of a split: its classes and, for a strategy that splits train in two (DSO-NAS's D_w and
 * D_lambda), the id-fixed parts below or above the weights' share; and how many images each worker holds in such a view,
 * counted from the index columns (the epoch's steps follow from the smallest worker's count, {@link EpochSteps}).
 */
final class DataViews {

    private DataViews() {
    }

    /**
     * Per worker, class and part: images of a split, counted from the bucket, class and part columns (no pixels read);
     * worker w holds the buckets {@code b mod workers = w}.
     */
    static long[][][] classCounts(SparkSession spark, RunStore store, String split, int workers, int classes) {
        long[][][] c = new long[workers][classes][Sample.PARTS];
        for (Row r : ImageSplits.rows(spark, store, split).groupBy("bucket", "class_index", "part").count().collectAsList()) {
            c[r.getInt(0) % workers][r.getInt(1)][r.getInt(2)] += r.getLong(3);
        }
        return c;
    }

    /** The smallest worker's images in {@code view}. */
    static long minImages(long[][][] counts, RoundTask.View view) {
        long min = Long.MAX_VALUE;
        for (long[][] w : counts) {
            long n = 0;
            for (int c = 0; c < w.length; c++) {
                if (view.classes() == null || view.classes()[c]) {
                    for (int p = view.partFrom(); p < view.partTo(); p++) {
                        n += w[c][p];
                    }
                }
            }
            min = Math.min(min, n);
        }
        return min;
    }

    /** What an epoch's weight rounds read: its classes, and the parts of train below the weights' share. */
    static RoundTask.View weightView(TrainingStrategy.EpochPlan plan, int classes) {
        return new RoundTask.View(plan.classes().length == classes ? null : mask(plan.classes(), classes), 0, weightParts(plan));
    }

    /** What its architecture rounds read: its classes on val (all parts), or the parts of train the weight rounds leave out. */
    static RoundTask.View architectureView(TrainingStrategy.EpochPlan plan, int classes) {
        boolean[] m = plan.classes().length == classes ? null : mask(plan.classes(), classes);
        return plan.architectureSplit().equals("val") ? new RoundTask.View(m, 0, Sample.PARTS) : new RoundTask.View(m, weightParts(plan), Sample.PARTS);
    }

    private static int weightParts(TrainingStrategy.EpochPlan plan) {
        return (int) Math.round(plan.weightShare() * Sample.PARTS);
    }

    static boolean[] mask(int[] classes, int n) {
        boolean[] m = new boolean[n];
        for (int c : classes) {
            m[c] = true;
        }
        return m;
    }
}
