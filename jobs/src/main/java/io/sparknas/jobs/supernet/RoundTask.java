package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.Sample;
import io.sparknas.jobs.data.BlockOrder;
import io.sparknas.jobs.data.ImageTable;
import io.sparknas.jobs.NativeHeap;
import io.sparknas.search.strategy.RoundPlan;
import io.sparknas.search.strategy.StepPlan;
import io.sparknas.search.strategy.TrainingStrategy.Phase;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.step.StepResult;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Executor side of one parameter-averaging round: the task starts from the round's broadcast state and runs the round's steps
 * on minibatches of its worker's shard, read straight from the shard's bucket files in the epoch's {@link BlockOrder} (the
 * images of the round's {@link View}: the epoch's classes and, for a method that splits train, one part of it). Step
 * {@code s} uses images {@code [s B, (s+1) B)} of that order (modulo its length), so a round reads about
 * {@code steps x batch} images and never the whole shard. Each step's computation comes from the strategy's
 * {@link RoundPlan}, with a generator seeded by (seed, epoch, partition, step): a single path or weights over each
 * layer's candidates.
 * <ul>
 *   <li>{@link Phase#WEIGHTS} (train split): every step updates the weights it used; the task returns those parts' states.</li>
 *   <li>{@link Phase#ARCHITECTURE} (val split, DA-NAS Eq. 10; D_lambda of train, DSO-NAS): weights are not updated; the task returns the summed gradient of
 *   the strategy's parameters, which the driver applies once (so all workers sample from the same parameters).</li>
 * </ul>
 */
final class RoundTask implements Function2<Integer, Iterator<Integer>, Iterator<RoundResult>> {

    private static final long serialVersionUID = 1L;
    /** Salt of the generators of architecture steps, so they never repeat a weight step's draws. */
    static final long ARCHITECTURE_SALT = 0x5DA7A5L;

    /** What the round is: its phase, plan, data, classes, and where its steps sit in the epoch and in the learning-rate schedule. */
    record Round(Phase phase, RoundPlan plan, ImageTable data, View view, int epoch, int firstStep, int steps, int iterationBase,
                 int batchSize) implements Serializable {
    }

    /**
     * The images of a shard a round reads: those of {@code classes} (null: every class) whose id-fixed part
     * ({@link Sample#part()}) is in {@code [partFrom, partTo)}.
     */
    record View(boolean[] classes, int partFrom, int partTo) implements BlockOrder.Filter {

        @Override
        public boolean holds(int label, int part) {
            return (classes == null || classes[label]) && part >= partFrom && part < partTo;
        }

        boolean holds(Sample s) {
            return holds(s.label(), s.part());
        }
    }

    private final Broadcast<SupernetState> state;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final Augmenter augmenter;
    private final long seed;
    private final int workers;
    private final int blockImages;
    private final Round round;

    /** @param space the space the supernet was built for (every candidate the plan may use) */
    RoundTask(Broadcast<SupernetState> state, SearchSpace space, OptimizerSettings opt, Augmenter augmenter, long seed, int workers,
              int blockImages, Round round) {
        this.state = state;
        this.space = space;
        this.opt = opt;
        this.augmenter = augmenter;
        this.seed = seed;
        this.workers = workers;
        this.blockImages = blockImages;
        this.round = round;
    }

    static long mix(long seed, long a, long b, long c) {
        return BlockOrder.mix(seed, a, b, c);
    }

    @Override
    public Iterator<RoundResult> call(Integer partition, Iterator<Integer> ignored) {
        long t0 = System.nanoTime();
        boolean arch = round.phase() == Phase.ARCHITECTURE;
        long stepSeed = arch ? seed ^ ARCHITECTURE_SALT : seed;
        BlockOrder data = new BlockOrder(round.data(), partition, workers, round.view(), blockImages, stepSeed, round.epoch());
        long n = data.size();
        Supernet net = SupernetPool.borrow(space, opt, seed);
        try {
            state.value().applyTo(net);
            int res = space.resolution();
            int ch = space.inChannels();
            int batchSize = round.batchSize();
            Set<String> used = new LinkedHashSet<>();
            double[][] gradient = null;
            double loss = 0;
            long correct = 0;
            long images = 0;
            long[] classImages = new long[space.classes()];
            for (int s = round.firstStep(); s < round.firstStep() + round.steps(); s++) {
                Random rnd = new Random(mix(stepSeed, round.epoch(), partition, s));
                StepPlan step = round.plan().step(partition, s, rnd);
                List<byte[]> px = new ArrayList<>(batchSize);
                int[] labels = new int[batchSize];
                for (int b = 0; b < batchSize; b++) {
                    Sample smp = data.get(((long) s * batchSize + b) % n);
                    px.add(arch ? smp.pixels() : augmenter.apply(smp.pixels(), res, res, ch, rnd));
                    labels[b] = smp.label();
                    classImages[smp.label()]++;
                }
                var x = Supernet.toBatch(px, res, res, ch);
                StepResult r;
                int iteration = round.iterationBase() + s;
                if (arch) {
                    r = net.computeWeightedGradients(step.arch(), step.weights(), step.sum(), x, labels);
                    gradient = add(gradient, round.plan().parameterGradient(step, r));
                } else {
                    r = step.weighted() ? net.weightedTrainStep(step.arch(), step.weights(), step.sum(), step.fixedBatchNormScale(), x, labels,
                            iteration, round.epoch()) : net.trainStep(step.arch(), x, labels, iteration, round.epoch());
                    used.addAll(net.partKeys(step.arch()));
                }
                loss += r.loss();
                correct += r.correct();
                images += r.batchSize();
            }
            SupernetState.Sum sum = arch ? null : SupernetState.accumulate(net, used);
            return List.of(new RoundResult(sum, gradient, loss, round.steps(), correct, images, classImages, (System.nanoTime() - t0) / 1e9,
                    data.rowsRead())).iterator();
        } finally {
            SupernetPool.release(net);
            NativeHeap.trimIfGrown();
        }
    }

    /** Element-wise sum (a null left side is zero). */
    static double[][] add(double[][] a, double[][] b) {
        if (b == null) {
            return a;
        }
        if (a == null) {
            double[][] c = new double[b.length][];
            for (int i = 0; i < b.length; i++) {
                c[i] = b[i].clone();
            }
            return c;
        }
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                a[i][j] += b[i][j];
            }
        }
        return a;
    }
}
