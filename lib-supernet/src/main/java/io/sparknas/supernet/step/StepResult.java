package io.sparknas.supernet.step;

/**
 * What one training step measured.
 *
 * @param loss       mean cross-entropy of the batch (with the labels as trained, i.e. smoothed when label smoothing is on)
 * @param correct    correctly classified examples of the batch (training-mode forward)
 * @param batchSize  examples in the batch
 * @param archGradient dLoss/dw per layer and candidate for a weighted step (null for a single-path step)
 */
public record StepResult(double loss, int correct, int batchSize, double[][] archGradient) {
}
