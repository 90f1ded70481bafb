package io.sparknas.jobs.supernet;

import io.sparknas.jobs.NativeHeap;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.StepResult;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.sample.PathSampler;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Executor side of one parameter-averaging round: the task starts from the round's broadcast state, trains its local
 * supernet copy for the round's steps on minibatches of its own partition (a seeded per-epoch permutation), sampling one
 * path per minibatch from a generator seeded by (seed, epoch, partition, step), and returns the parts it trained.
 */
final class RoundTask implements Function2<Integer, Iterator<Sample>, Iterator<RoundResult>> {

    private static final long serialVersionUID = 1L;

    private final Broadcast<SupernetState> state;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final PathSampler sampler;
    private final Augmenter augmenter;
    private final long seed;
    private final int epoch;
    private final int firstStep;
    private final int steps;
    private final int stepsPerEpoch;
    private final int batchSize;

    RoundTask(Broadcast<SupernetState> state, SearchSpace space, OptimizerSettings opt, PathSampler sampler, Augmenter augmenter,
              long seed, int epoch, int firstStep, int steps, int stepsPerEpoch, int batchSize) {
        this.state = state;
        this.space = space;
        this.opt = opt;
        this.sampler = sampler;
        this.augmenter = augmenter;
        this.seed = seed;
        this.epoch = epoch;
        this.firstStep = firstStep;
        this.steps = steps;
        this.stepsPerEpoch = stepsPerEpoch;
        this.batchSize = batchSize;
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

    @Override
    public Iterator<RoundResult> call(Integer partition, Iterator<Sample> rows) {
        List<Sample> data = new ArrayList<>();
        rows.forEachRemaining(data::add);
        long t0 = System.nanoTime();
        Supernet net = SupernetPool.borrow(space, opt, seed);
        try {
            state.value().applyTo(net);
            int[] perm = permutation(data.size(), seed, epoch, partition);
            int res = space.resolution();
            int ch = space.inChannels();
            Set<String> used = new LinkedHashSet<>();
            double loss = 0;
            long correct = 0;
            long images = 0;
            for (int s = firstStep; s < firstStep + steps; s++) {
                Random rnd = new Random(mix(seed, epoch, partition, s));
                Arch arch = sampler.sample(space, rnd);
                List<byte[]> px = new ArrayList<>(batchSize);
                int[] labels = new int[batchSize];
                for (int b = 0; b < batchSize; b++) {
                    Sample smp = data.get(perm[(s * batchSize + b) % perm.length]);
                    px.add(augmenter.apply(smp.pixels(), res, res, ch, rnd));
                    labels[b] = smp.label();
                }
                StepResult r = net.trainStep(arch, Supernet.toBatch(px, res, res, ch), labels, epoch * stepsPerEpoch + s, epoch);
                used.addAll(net.partKeys(arch));
                loss += r.loss();
                correct += r.correct();
                images += r.batchSize();
            }
            SupernetState.Sum sum = SupernetState.accumulate(net, used);
            return List.of(new RoundResult(sum, loss, steps, correct, images, (System.nanoTime() - t0) / 1e9)).iterator();
        } finally {
            SupernetPool.release(net);
            NativeHeap.trim();
        }
    }
}
