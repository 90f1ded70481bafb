package io.sparknas.jobs.supernet;

import io.sparknas.jobs.InputDataException;
import io.sparknas.search.strategy.TrainingStrategy;

/**
 * The steps of every epoch of a supernet-train, fixed before training from the strategy's schedule (a strategy plans all
 * its epochs up front) and the worker shards: per worker, the weight steps (the smallest shard's images of the epoch's
 * classes over the batch size) and the architecture steps, and where each epoch starts in the learning-rate schedule.
 *
 * @param weight        weight steps per worker, per epoch: all its passes ({@code passes x pass})
 * @param pass          weight steps per worker of one pass over the epoch's weight view
 * @param architecture  architecture steps per worker, per epoch (0 when the epoch takes none)
 * @param iterationBase the learning-rate schedule's iteration at the start of each epoch; the last entry is the total
 */
record EpochSteps(int[] weight, int[] pass, int[] architecture, int[] iterationBase) {

    /** Weight rounds of epoch e: each pass in rounds of up to {@code perRound} steps (no round spans two passes). */
    int weightRounds(int e, int perRound) {
        return weight[e] / pass[e] * ((pass[e] + perRound - 1) / perRound);
    }

    /** The first step (in the epoch) and the number of steps of epoch e's weight round i (0-based). */
    int[] weightRound(int e, int i, int perRound) {
        int perPass = (pass[e] + perRound - 1) / perRound;
        int first = i / perPass * pass[e] + i % perPass * perRound;
        return new int[]{first, Math.min(perRound, pass[e] - i % perPass * perRound)};
    }

    /**
     * The steps of {@code strategy}'s epochs on shards of the given class counts (per worker, class and part), or an error
     * naming the setting to change when an epoch would have no step. {@code maxSteps > 0} caps every pass's weight steps and
     * every epoch's architecture steps ({@code nas.supernet.max-steps-per-epoch}).
     */
    static EpochSteps of(TrainingStrategy strategy, int classes, int workers, int batch, long[][][] trainCounts, long[][][] valCounts,
                         int maxSteps) {
        int epochs = strategy.epochs();
        int[] weightSteps = new int[epochs];
        int[] passSteps = new int[epochs];
        int[] archSteps = new int[epochs];
        int[] iterationBase = new int[epochs + 1];
        for (int e = 0; e < epochs; e++) {
            TrainingStrategy.EpochPlan plan = strategy.epochPlan(e);
            long min = DataViews.minImages(trainCounts, DataViews.weightView(plan, classes));
            weightSteps[e] = (int) (min / batch);
            if (weightSteps[e] < 1) {
                throw new InputDataException("Epoch " + (e + 1) + " (" + plan.label() + "): the smallest of the " + workers + " worker shards of the "
                        + "train split has " + min + " images of the epoch's classes but nas.supernet.batch-size is " + batch
                        + ": lower nas.supernet.batch-size or nas.supernet.workers" + (plan.classes().length < classes
                        ? ", or raise the first of nas.danas.class-fractions." : "."));
            }
            if (plan.architectureSteps()) {
                boolean onVal = plan.architectureSplit().equals("val");
                long v = DataViews.minImages(onVal ? valCounts : trainCounts, DataViews.architectureView(plan, classes));
                if (v < 1) {
                    throw new InputDataException("Epoch " + (e + 1) + " (" + plan.label() + ") takes architecture steps on " + (onVal ? "val" : "the train images "
                            + "the weight steps leave out") + ", but a worker shard holds no image of the epoch's classes there: " + (onVal
                            ? "set nas.ingest.val-per-class > 0 (re-run ingest) or lower nas.supernet.workers." : "lower the weights' share of train or nas.supernet.workers."));
                }
                // a shard smaller than a batch still gives one step (its images repeat in the batch)
                archSteps[e] = (int) Math.max(1, v / batch);
            }
            if (maxSteps > 0) {
                weightSteps[e] = Math.min(weightSteps[e], maxSteps);
                archSteps[e] = Math.min(archSteps[e], maxSteps);
            }
            passSteps[e] = weightSteps[e];
            weightSteps[e] = Math.multiplyExact(weightSteps[e], plan.weightPasses());
            iterationBase[e + 1] = Math.addExact(iterationBase[e], weightSteps[e]);
        }
        return new EpochSteps(weightSteps, passSteps, archSteps, iterationBase);
    }
}
