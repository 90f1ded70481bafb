package io.sparknas.supernet.net;

import java.io.Serializable;

/**
 * SGD with Nesterov momentum and weight decay, with a learning-rate schedule over the whole run's steps.
 *
 * @param learningRate  peak learning rate
 * @param momentum      Nesterov momentum
 * @param weightDecay   decoupled weight decay coefficient (DL4J {@code WeightDecay}, scaled by the learning rate)
 * @param schedule      {@code cosine} (to 0 over totalSteps), {@code linear} (SPOS: linear decay to 0) or {@code constant}
 *                      (DSO-NAS sections 4.2-4.3: the learning rate fixed in pre-training and search)
 * @param totalSteps    steps of the whole run, for the schedule
 * @param warmupSteps   linear warm-up steps from 0
 * @param labelSmoothing label smoothing epsilon (0: none)
 */
public record OptimizerSettings(double learningRate, double momentum, double weightDecay, String schedule, int totalSteps,
                                int warmupSteps, double labelSmoothing) implements Serializable {

    /** The schedules after the warm-up. */
    public static final java.util.Set<String> SCHEDULES = java.util.Set.of("cosine", "linear", "constant");

    public OptimizerSettings {
        if (!(learningRate > 0) || momentum < 0 || momentum >= 1 || weightDecay < 0 || totalSteps < 1 || warmupSteps < 0
                || labelSmoothing < 0 || labelSmoothing >= 1 || !SCHEDULES.contains(schedule)) {
            throw new IllegalArgumentException("Bad optimizer settings " + this);
        }
    }

    /** Learning rate at a global step. */
    public double learningRateAt(int step) {
        if (step < warmupSteps) {
            return learningRate * (step + 1) / (warmupSteps + 1);
        }
        double t = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        return switch (schedule) {
            case "cosine" -> learningRate * 0.5 * (1 + Math.cos(Math.PI * t));
            case "linear" -> learningRate * (1 - t);
            default -> learningRate;
        };
    }
}
