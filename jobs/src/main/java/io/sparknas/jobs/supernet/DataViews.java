package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.Sample;
import io.sparknas.search.strategy.TrainingStrategy;
import org.apache.spark.api.java.JavaRDD;

import java.util.ArrayList;
import java.util.List;

/**
 * What an epoch's rounds read of a split: its classes and, for a strategy that splits train in two (DSO-NAS's D_w and
 * D_lambda), the id-fixed parts below or above the weights' share; and how many images each worker holds in such a view,
 * counted on the executors (the epoch's steps follow from the smallest worker's count, {@link EpochSteps}).
 */
final class DataViews {

    private DataViews() {
    }

    /** Per worker (partition), class and part: images, counted on the executors. */
    static long[][][] classCounts(JavaRDD<Sample> split, int classes) {
        List<long[][]> perWorker = split.mapPartitions(it -> {
            long[][] c = new long[classes][Sample.PARTS];
            it.forEachRemaining(smp -> c[smp.label()][smp.part()]++);
            List<long[][]> one = new ArrayList<>();
            one.add(c);
            return one.iterator();
        }).collect();
        return perWorker.toArray(new long[0][][]);
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
