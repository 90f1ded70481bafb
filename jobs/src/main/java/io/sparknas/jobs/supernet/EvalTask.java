package io.sparknas.jobs.supernet;

import io.sparknas.jobs.NativeHeap;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.function.FlatMapFunction2;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Executor side of path evaluation, data-parallel: for each path the task recalibrates BatchNorm on batches of its train
 * partition, then counts correct predictions on its shard of the val split; the driver sums over tasks.
 */
public final class EvalTask implements FlatMapFunction2<Iterator<Sample>, Iterator<Sample>, long[]> {

    private static final long serialVersionUID = 1L;

    private final Broadcast<SupernetState> state;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final List<String> archIds;
    private final long seed;
    private final int recalibrationBatches;
    private final int batchSize;

    public EvalTask(Broadcast<SupernetState> state, SearchSpace space, OptimizerSettings opt, List<String> archIds, long seed,
             int recalibrationBatches, int batchSize) {
        this.state = state;
        this.space = space;
        this.opt = opt;
        this.archIds = archIds;
        this.seed = seed;
        this.recalibrationBatches = recalibrationBatches;
        this.batchSize = batchSize;
    }

    /** Per path: correct predictions; last element: val images seen. */
    @Override
    public Iterator<long[]> call(Iterator<Sample> trainRows, Iterator<Sample> valRows) {
        List<Sample> train = new ArrayList<>();
        trainRows.forEachRemaining(train::add);
        List<Sample> val = new ArrayList<>();
        valRows.forEachRemaining(val::add);
        long[] out = new long[archIds.size() + 1];
        out[archIds.size()] = val.size();
        if (val.isEmpty() || train.isEmpty()) {
            return List.of(out).iterator();
        }
        int res = space.resolution();
        int ch = space.inChannels();
        int[] perm = RoundTask.permutation(train.size(), seed, -1, 0);
        List<INDArray> recal = new ArrayList<>();
        for (int b = 0; b < recalibrationBatches && b * batchSize < train.size(); b++) {
            List<byte[]> px = new ArrayList<>();
            for (int i = b * batchSize; i < Math.min(train.size(), (b + 1) * batchSize); i++) {
                px.add(train.get(perm[i]).pixels());
            }
            recal.add(Supernet.toBatch(px, res, res, ch));
        }
        List<INDArray> valX = new ArrayList<>();
        List<int[]> valY = new ArrayList<>();
        for (int b = 0; b * batchSize < val.size(); b++) {
            List<byte[]> px = new ArrayList<>();
            List<Sample> part = val.subList(b * batchSize, Math.min(val.size(), (b + 1) * batchSize));
            int[] y = new int[part.size()];
            for (int i = 0; i < part.size(); i++) {
                px.add(part.get(i).pixels());
                y[i] = part.get(i).label();
            }
            valX.add(Supernet.toBatch(px, res, res, ch));
            valY.add(y);
        }
        Supernet net = SupernetPool.borrow(space, opt, 0);
        try {
            for (int a = 0; a < archIds.size(); a++) {
                state.value().applyTo(net);
                Arch arch = Arch.parse(archIds.get(a));
                net.recalibrate(arch, recal);
                for (int b = 0; b < valX.size(); b++) {
                    out[a] += net.countCorrect(arch, valX.get(b), valY.get(b));
                }
                // per architecture, not per task: a task evaluates its share of a whole generation, and with a trim at the
                // task's end only, the search JVM's resident size still rose from 4.5 to 16.7 GB within one generation of
                // the full Fashion-MNIST preset (about 15 architectures per task)
                NativeHeap.trim();
            }
        } finally {
            SupernetPool.release(net);
        }
        return List.of(out).iterator();
    }
}
