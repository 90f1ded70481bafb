package io.sparknas.jobs.training;

import io.sparknas.jobs.NativeHeap;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * A dl4j-spark training hook that keeps an executor's native memory bounded: after every {@code period} minibatches of a
 * worker (once per averaging period) it hands what glibc keeps after ND4J frees it back to the operating system, and at most
 * once per {@link #COLLECTION_INTERVAL_MS} per JVM first runs a garbage collection ({@link NativeHeap#collectAndTrim}).
 * dl4j-spark builds a fresh worker network (parameters, updater state, gradients) for every averaging period and DL4J's
 * layers make arrays outside workspaces; ND4J frees those only once they are collected, and the freed blocks stay in the
 * task threads' malloc arenas unless trimmed (measured in docs/performance.md).
 */
final class NativeHeapTrimHook implements TrainingHook {

    /** Least time between two collections this hook asks for in one JVM. */
    static final long COLLECTION_INTERVAL_MS = 30_000;

    private final int period;
    private transient int minibatches;

    NativeHeapTrimHook(int period) {
        this.period = period;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        count();
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        count();
    }

    private void count() {
        if (++minibatches % period == 0) {
            NativeHeap.collectAndTrim(COLLECTION_INTERVAL_MS);
        }
    }
}
