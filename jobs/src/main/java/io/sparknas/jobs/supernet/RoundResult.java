package io.sparknas.jobs.supernet;

import io.sparknas.supernet.net.SupernetState;

import java.io.Serializable;

/**
 * What the tasks of one averaging round return, merged in a fixed tree over the worker indices ({@link RoundSum}): the summed states of the parts they trained (weight
 * rounds), the summed gradient of the strategy's parameters (architecture rounds), and their measurements.
 *
 * @param sum            part states summed over tasks, with contributor counts (null in an architecture round)
 * @param gradient       dLoss/d(strategy parameters) summed over steps and tasks (null in a weight round)
 * @param lossSum        sum over steps of the batch mean loss
 * @param steps          steps
 * @param correct        correctly classified images (training-mode forward)
 * @param images         images
 * @param classImages    images per class index the steps read (counted where they were read, on the executors)
 * @param computeSeconds the longest task's compute time (the round's critical path)
 * @param rowsRead       image rows the tasks read from storage (their blocks; a continued block is not read again)
 */
record RoundResult(SupernetState.Sum sum, double[][] gradient, double lossSum, long steps, long correct, long images, long[] classImages,
                   double computeSeconds, long rowsRead) implements Serializable {

    RoundResult merge(RoundResult o) {
        long[] ci = classImages.clone();
        for (int c = 0; c < ci.length; c++) {
            ci[c] += o.classImages[c];
        }
        return new RoundResult(sum == null ? o.sum : o.sum == null ? sum : sum.merge(o.sum), RoundTask.add(gradient, o.gradient),
                lossSum + o.lossSum, steps + o.steps, correct + o.correct, images + o.images, ci, Math.max(computeSeconds, o.computeSeconds),
                rowsRead + o.rowsRead);
    }
}
