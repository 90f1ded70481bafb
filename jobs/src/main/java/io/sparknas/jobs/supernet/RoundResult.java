package io.sparknas.jobs.supernet;

import io.sparknas.supernet.net.SupernetState;

import java.io.Serializable;

/**
 * What the tasks of one averaging round return, merged: the summed states of the parts they trained, and their measurements.
 *
 * @param sum            part states summed over tasks, with contributor counts
 * @param lossSum        sum over steps of the batch mean loss
 * @param steps          training steps
 * @param correct        correctly classified training images (sampled paths, training mode)
 * @param images         training images
 * @param computeSeconds the longest task's training time (the round's critical path)
 */
record RoundResult(SupernetState.Sum sum, double lossSum, long steps, long correct, long images, double computeSeconds)
        implements Serializable {

    RoundResult merge(RoundResult o) {
        return new RoundResult(sum.merge(o.sum), lossSum + o.lossSum, steps + o.steps, correct + o.correct, images + o.images,
                Math.max(computeSeconds, o.computeSeconds));
    }
}
