package io.sparknas.search.strategy;

import io.sparknas.supernet.step.StepResult;

import java.io.Serializable;
import java.util.Random;

/**
 * The executors' part of a {@link TrainingStrategy} for one round: what each step computes, and how a step's result becomes
 * the gradient of the strategy's parameters. Serializable (shipped to the tasks); all randomness comes from the generator the
 * task seeds per (seed, epoch, worker, step), so the plan of a step is the same on any cluster and after a resume.
 */
public interface RoundPlan extends Serializable {

    /** The step's computation; draws from {@code rnd} before the task draws its augmentation from it. */
    StepPlan step(int worker, int step, Random rnd);

    /**
     * dLoss/d(strategy parameters) of an architecture step, aligned with the strategy's current candidates, from the step's
     * result (loss and dLoss/dw of the weighted step). Only called in {@link TrainingStrategy.Phase#ARCHITECTURE} rounds.
     */
    double[][] parameterGradient(StepPlan step, StepResult result);
}
