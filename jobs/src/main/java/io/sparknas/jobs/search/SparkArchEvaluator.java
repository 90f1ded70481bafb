package io.sparknas.jobs.search;

import io.sparknas.jobs.supernet.EvalTask;
import io.sparknas.jobs.supernet.Sample;
import io.sparknas.search.ArchEvaluator;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;

import java.util.List;

/**
 * Supernet accuracy of architectures on Spark executors, data-parallel: the supernet is broadcast once per stage; the val
 * split and a small sample of train (the recalibration batches) are read from Parquet by the executors and cached in
 * {@code tasks} partitions; for each batch of architectures every task recalibrates BatchNorm of each architecture on its
 * own train sample and counts correct predictions on its val shard ({@link EvalTask}), and the driver sums the counts.
 *
 * <p>Why data-parallel rather than a task per group of architectures: at the target scale the val split is 50 images per
 * class of ImageNet (50,000 images, 7.5 GB at 224x224x3), too large to ship to every task, while cached shards stay where
 * they are for the whole search. The price is that every task recalibrates every architecture: recalibration work grows
 * with the number of tasks, inference work does not. Measured on the tiny preset (2 tasks, 500 val images, 2
 * recalibration batches of 250 per task, width 0.25): 0.43-0.66 evaluations/s, ~2 s per architecture per task, before
 * the NHWC and BatchNorm-folding work on inference; recalibration was then ~2/3 of a task's work, which is the price paid
 * for not moving val. (With 1,000s of val images per task the balance turns: inference dominates and splits.)
 */
final class SparkArchEvaluator implements ArchEvaluator, AutoCloseable {

    private final JavaRDD<Sample> recal;
    private final JavaRDD<Sample> val;
    private final Broadcast<SupernetState> state;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final long seed;
    private final int recalibrationBatches;
    private final int batchSize;
    private long images = -1;

    SparkArchEvaluator(JavaSparkContext jsc, JavaRDD<Sample> train, JavaRDD<Sample> val, SupernetState state, SearchSpace space,
                       OptimizerSettings opt, long seed, int recalibrationBatches, int batchSize, int tasks) {
        int perTask = recalibrationBatches * batchSize;
        // each task keeps only the train images its recalibration reads
        this.recal = train.repartition(tasks).mapPartitions(it -> {
            List<Sample> keep = new java.util.ArrayList<>();
            while (it.hasNext() && keep.size() < perTask) {
                keep.add(it.next());
            }
            return keep.iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK());
        this.val = val.repartition(tasks).persist(StorageLevel.MEMORY_AND_DISK());
        this.state = jsc.broadcast(state);
        this.space = space;
        this.opt = opt;
        this.seed = seed;
        this.recalibrationBatches = recalibrationBatches;
        this.batchSize = batchSize;
    }

    @Override
    public double[] accuracy(List<Arch> archs) {
        List<String> ids = archs.stream().map(Arch::id).toList();
        List<long[]> parts = recal.zipPartitions(val, new EvalTask(state, space, opt, ids, seed, recalibrationBatches, batchSize)).collect();
        long n = parts.stream().mapToLong(p -> p[ids.size()]).sum();
        if (n == 0) {
            throw new IllegalStateException("no val images reached the evaluation tasks");
        }
        images = n;
        double[] acc = new double[ids.size()];
        for (int a = 0; a < acc.length; a++) {
            long correct = 0;
            for (long[] p : parts) {
                correct += p[a];
            }
            acc[a] = (double) correct / n;
        }
        return acc;
    }

    /** Val images each architecture was evaluated on (-1 before the first evaluation). */
    long valImages() {
        return images;
    }

    @Override
    public void close() {
        state.destroy();
        recal.unpersist();
        val.unpersist();
    }
}
