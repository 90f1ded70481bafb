package io.sparknas.jobs.retrain;

import io.sparknas.jobs.NativeHeap;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * A dl4j-spark training hook that trims the native heap ({@link NativeHeap#trim()}) on the worker after every
 * {@code every} minibatches: dl4j-spark builds fresh worker networks for every averaging period and leaves their arrays
 * to the garbage collector, and the memory glibc keeps from them took a local[2] retrain JVM of the full Fashion-MNIST
 * preset to JavaCPP's 16 GB physical limit within two epochs.
 */
final class NativeHeapTrimHook implements TrainingHook {

    private final int every;
    private transient int minibatches;

    NativeHeapTrimHook(int every) {
        this.every = Math.max(1, every);
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
        afterMinibatch();
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        afterMinibatch();
    }

    private void afterMinibatch() {
        if (++minibatches % every == 0) {
            NativeHeap.trim();
        }
    }
}
