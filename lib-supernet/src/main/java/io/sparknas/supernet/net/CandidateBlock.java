package io.sparknas.supernet.net;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One trainable part of the supernet (the stem, one candidate op of one layer, the head, the classifier) behind the small
 * interface the supernet needs, so its implementation can change without the supernet, the trainer or the parameter
 * averaging noticing: {@link Dl4jBlock} keeps DL4J's layer configurations, parameters and updater, and computes with ND4J
 * custom ops called directly ({@link TrainingPass}, {@link InferencePass}).
 *
 * <p>Contract: {@link #forward} in training mode keeps what {@link #backward} needs; {@link #backward} keeps the parameter
 * gradient for {@link #update}; the parameter and updater-state views are flat, stable arrays that averaging may overwrite
 * in place. BatchNorm running statistics are parameters here (DL4J's layout) and are averaged with them.
 */
public interface CandidateBlock extends TrainablePart {

    /**
     * @param train true: batch statistics in BatchNorm and keep activations for backward; false: running statistics
     */
    INDArray forward(INDArray x, boolean train);

    /** Backpropagates {@code eps = dLoss/dOutput} of the last training forward; returns dLoss/dInput and keeps the parameter gradient. */
    INDArray backward(INDArray eps);

    /**
     * Applies the kept gradient with the block's updater (SGD with momentum and weight decay), then updates the BatchNorm running statistics.
     *
     * @param iteration global step: schedules are evaluated at it, whatever the block's own use count
     */
    void update(int iteration, int epoch, int batchSize);

    /** Sets every BatchNorm scale (gamma) of the block to 1 (DSO-NAS section 4.1 keeps them fixed while searching). */
    void fixBatchNormScale();

    /** Starts BatchNorm recalibration: subsequent {@link #recalibrationForward} calls accumulate batch statistics. */
    void beginRecalibration();

    /** A training-mode forward that records every BatchNorm layer's batch mean and variance. */
    INDArray recalibrationForward(INDArray x);

    /** Writes the average of the recorded statistics into the BatchNorm running mean and variance. */
    void endRecalibration();

    /**
     * The sums of the batch means and variances recorded since {@link #beginRecalibration}, per BatchNorm layer in order, as
     * {@code [mean_0..., var_0..., mean_1..., var_1..., ...]}; empty for a block without BatchNorm. After one batch these are
     * that batch's statistics: what a distributed recalibration sums over batches in a fixed order.
     */
    float[] recordedStatistics();

    /**
     * Ends recalibration with statistics summed elsewhere (layout of {@link #recordedStatistics}): the running mean and
     * variance become {@code sums / batches}; what this block recorded itself is discarded.
     */
    void endRecalibration(float[] sums, int batches);

    /**
     * Inference-mode {@link #forward} on NHWC activations (channels last): NHWC output for a rank-4 result. Implementations
     * that run natively on NHWC override this; the default converts around the NCHW forward.
     */
    default INDArray inferNhwc(INDArray x) {
        return toNhwc(forward(x.permute(0, 3, 1, 2).dup('c'), false));
    }

    /** {@link #recalibrationForward} on NHWC activations (see {@link #inferNhwc}). */
    default INDArray recalibrationForwardNhwc(INDArray x) {
        return toNhwc(recalibrationForward(x.permute(0, 3, 1, 2).dup('c')));
    }

    private static INDArray toNhwc(INDArray y) {
        return y.rank() == 4 ? y.permute(0, 2, 3, 1).dup('c') : y;
    }
}
