package io.sparknas.supernet.net;

import java.io.Serializable;

/**
 * SGD with Nesterov momentum and weight decay, with a learning-rate schedule over the whole run's steps.
 *
 * @param learningRate  peak learning rate
 * @param momentum      Nesterov momentum
 * @param weightDecay   decoupled weight decay coefficient (DL4J {@code WeightDecay}, scaled by the learning rate)
 * @param schedule      {@code cosine} (to 0 over totalSteps) or {@code linear} (SPOS: linear decay to 0)
 * @param totalSteps    steps of the whole run, for the schedule
 * @param warmupSteps   linear warm-up steps from 0
 * @param labelSmoothing label smoothing epsilon (0: none)
 */
public record OptimizerSettings(double learningRate, double momentum, double weightDecay, String schedule, int totalSteps,
                                int warmupSteps, double labelSmoothing) implements Serializable {

    public OptimizerSettings {
        if (!(learningRate > 0) || momentum < 0 || momentum >= 1 || weightDecay < 0 || totalSteps < 1 || warmupSteps < 0
                || labelSmoothing < 0 || labelSmoothing >= 1 || !(schedule.equals("cosine") || schedule.equals("linear"))) {
            throw new IllegalArgumentException("Bad optimizer settings " + this);
        }
    }

    /** Learning rate at a global step. */
    public double learningRateAt(int step) {
        if (step < warmupSteps) {
            return learningRate * (step + 1) / (warmupSteps + 1);
        }
        double t = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        return schedule.equals("cosine") ? learningRate * 0.5 * (1 + Math.cos(Math.PI * t)) : learningRate * (1 - t);
    }
}
