package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.Sample;
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
 * on minibatches of its own partition (a seeded per-epoch permutation of the images of the round's {@link View}: the epoch's
 * classes and, for a method that splits train, one part of it; filtered here on the executor). Each step's computation comes from the strategy's {@link RoundPlan}, with a generator seeded by (seed, epoch,
 * partition, step): a single path or weights over each layer's candidates.
 * <ul>
 *   <li>{@link Phase#WEIGHTS} (train split): every step updates the weights it used; the task returns those parts' states.</li>
 *   <li>{@link Phase#ARCHITECTURE} (val split, DA-NAS Eq. 10; D_lambda of train, DSO-NAS): weights are not updated; the task returns the summed gradient of
 *   the strategy's parameters, which the driver applies once (so all workers sample from the same parameters).</li>
 * </ul>
 */
final class RoundTask implements Function2<Integer, Iterator<Sample>, Iterator<RoundResult>> {

    private static final long serialVersionUID = 1L;
    /** Salt of the generators of architecture steps, so they never repeat a weight step's draws. */
    static final long ARCHITECTURE_SALT = 0x5DA7A5L;

    /** What the round is: its phase, plan, classes, and where its steps sit in the epoch and in the learning-rate schedule. */
    record Round(Phase phase, RoundPlan plan, View view, int epoch, int firstStep, int steps, int iterationBase, int batchSize)
            implements Serializable {
    }

    /**
     * The images of a partition a round reads: those of {@code classes} (null: every class) whose id-fixed part
     * ({@link Sample#part()}) is in {@code [partFrom, partTo)}.
     */
    record View(boolean[] classes, int partFrom, int partTo) implements Serializable {

        boolean holds(Sample s) {
            return (classes == null || classes[s.label()]) && s.part() >= partFrom && s.part() < partTo;
        }
    }

    private final Broadcast<SupernetState> state;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final Augmenter augmenter;
    private final long seed;
    private final Round round;

    /** @param space the space the supernet was built for (every candidate the plan may use) */
    RoundTask(Broadcast<SupernetState> state, SearchSpace space, OptimizerSettings opt, Augmenter augmenter, long seed, Round round) {
        this.state = state;
        this.space = space;
        this.opt = opt;
        this.augmenter = augmenter;
        this.seed = seed;
        this.round = round;
    }

    /** The seeded order in which a task visits its partition in an epoch. */
    static int[] permutation(int n, long seed, int epoch, int partition) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        Random rnd = new Random(mix(seed, epoch, partition, -1));
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }

    static long mix(long seed, long a, long b, long c) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (long v : new long[]{a, b, c}) {
            h ^= v + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2);
        }
        return h;
    }

    /** The images of the view, in partition order. */
    static List<Sample> inView(Iterator<Sample> rows, View view) {
        List<Sample> data = new ArrayList<>();
        rows.forEachRemaining(smp -> {
            if (view.holds(smp)) {
                data.add(smp);
            }
        });
        return data;
    }

    @Override
    public Iterator<RoundResult> call(Integer partition, Iterator<Sample> rows) {
        List<Sample> data = inView(rows, round.view());
        long t0 = System.nanoTime();
        boolean arch = round.phase() == Phase.ARCHITECTURE;
        long stepSeed = arch ? seed ^ ARCHITECTURE_SALT : seed;
        Supernet net = SupernetPool.borrow(space, opt, seed);
        try {
            state.value().applyTo(net);
            int[] perm = permutation(data.size(), stepSeed, round.epoch(), partition);
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
                    Sample smp = data.get(perm[(s * batchSize + b) % perm.length]);
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
            return List.of(new RoundResult(sum, gradient, loss, round.steps(), correct, images, classImages, (System.nanoTime() - t0) / 1e9)).iterator();
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
