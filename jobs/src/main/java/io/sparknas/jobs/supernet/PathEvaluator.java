package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.Sample;
import io.sparknas.jobs.NativeHeap;
import io.sparknas.jobs.data.BucketFile;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.data.ImageTable;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.search.ArchEvaluator;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.Dataset;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.ndarray.INDArray;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Supernet accuracy of architectures on Spark executors, in two phases, so that an architecture's accuracy does not depend on
 * how many tasks evaluate it (SPOS: BatchNorm of an inherited path is recalibrated on train batches before it is scored on val).
 *
 * <ol>
 *   <li>Recalibration statistics: a fixed set of {@code R} train batches of {@code B} images (the first {@code R * B} train
 *   images in (bucket, position) order, {@link #recalibrationChoice}, batch {@code b} holding ranks {@code [bB, (b+1)B)}),
 *   spread over the tasks by batch index. Each task computes, per architecture, the BatchNorm batch statistics of each of its batches
 *   ({@link Supernet#batchStatistics}); the driver sums them in batch order (the same float additions on any number of tasks).</li>
 *   <li>Accuracy: the sums are broadcast; every task sets each architecture's running statistics to sum / R
 *   ({@link Supernet#setRunningStatistics}: the same as recalibrating on those R batches in one process) and counts correct
 *   predictions on its shard of val; the driver adds the integer counts.</li>
 * </ol>
 *
 * <p>Against one-phase evaluation (each task recalibrating every architecture on its own train shard, as before), the
 * recalibration work no longer grows with the number of tasks: it is split between them, at the price of one more Spark
 * job per batch of architectures and shipping the statistics (a few thousand floats per architecture and batch).
 */
public final class PathEvaluator implements ArchEvaluator, AutoCloseable {

    private final JavaSparkContext jsc;
    private final JavaRDD<Tuple2<Integer, List<Sample>>> recal;
    private final JavaRDD<Sample> val;
    private Broadcast<SupernetState> state;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final int batches;
    private final int batchSize;
    private long images = -1;

    /**
     * @param valImages val images each architecture is scored on (a seeded class-stratified subset); 0: the whole split
     * @param tasks     tasks of each phase: speed only, never the result
     */
    public PathEvaluator(SparkSession spark, RunStore store, SupernetState state, SearchSpace space, OptimizerSettings opt, long seed,
                         int recalibrationBatches, int batchSize, int valImages, int tasks) {
        this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.space = space;
        this.opt = opt;
        this.batchSize = batchSize;
        int wanted = recalibrationBatches * batchSize;
        List<Row> picked = recalibrationChoice(spark, store, wanted).collectAsList();
        if (picked.isEmpty()) {
            throw new IllegalStateException("the run's train split is empty: nothing to recalibrate BatchNorm on");
        }
        // a short train split: as many whole batches as it holds (at least one)
        this.batches = Math.max(1, picked.size() / batchSize);
        int b = Math.min(batchSize, picked.size());
        int[][] bucket = new int[batches][b];
        long[][] pos = new long[batches][b];
        for (int i = 0; i < batches * b; i++) {
            bucket[i / b][i % b] = picked.get(i).getInt(0);
            pos[i / b][i % b] = ((Number) picked.get(i).get(1)).longValue();
        }
        ImageTable table = ImageTable.open(spark, store, "train");
        this.recal = jsc.parallelize(IntStream.range(0, batches).boxed().toList(), Math.min(tasks, batches))
                .map(k -> new Tuple2<>(k, readRuns(table, bucket[k], pos[k])))
                .persist(StorageLevel.MEMORY_AND_DISK());
        this.val = ImageSplits.sharded(spark, store, "val", tasks, valImages, seed).persist(StorageLevel.MEMORY_AND_DISK());
        this.state = jsc.broadcast(state);
    }

    /**
     * The recalibration images: the first {@code wanted} train images in (bucket, position) order - a contiguous start of
     * the first bucket files (a bucket's positions are a seeded hash order, so any run of them mixes the classes). Chosen
     * from the bucket and position columns alone: no pixel is read to choose them, and only their rows are read after.
     */
    static Dataset<Row> recalibrationChoice(SparkSession spark, RunStore store, int wanted) {
        return ImageSplits.rows(spark, store, "train").select("bucket", "pos").orderBy("bucket", "pos").limit(wanted);
    }

    /** The rows at the given (bucket, position) pairs, in that order, reading each run of consecutive positions once. */
    private static List<Sample> readRuns(ImageTable table, int[] bucket, long[] pos) {
        List<Sample> out = new ArrayList<>();
        int i = 0;
        while (i < pos.length) {
            int j = i + 1;
            while (j < pos.length && bucket[j] == bucket[i] && pos[j] == pos[j - 1] + 1) {
                j++;
            }
            out.addAll(BucketFile.read(table.files()[bucket[i]], table.conf(), pos[i], pos[j - 1] + 1));
            i = j;
        }
        return out;
    }

    /** Scores later architectures with the weights of {@code next} (the data stays: one evaluator serves a whole stage). */
    public void use(SupernetState next) {
        state.destroy();
        state = jsc.broadcast(next);
    }

    /** One task's statistics: per architecture (index), per recalibration batch it holds, per block. */
    private record BatchStatistics(int arch, int batch, Map<String, float[]> blocks) implements Serializable {
    }

    @Override
    public double[] accuracy(List<Arch> archs) {
        List<String> ids = archs.stream().map(Arch::id).toList();
        Broadcast<SupernetState> st = state;
        SearchSpace sp = space;
        OptimizerSettings op = opt;
        int res = space.resolution();
        int ch = space.inChannels();
        List<BatchStatistics> stats = recal.mapPartitions((Iterator<Tuple2<Integer, List<Sample>>> it) -> {
            List<Tuple2<Integer, INDArray>> xs = new ArrayList<>();
            it.forEachRemaining(t -> xs.add(new Tuple2<>(t._1(), Supernet.toBatch(t._2().stream().map(Sample::pixels).toList(), res, res, ch))));
            List<BatchStatistics> out = new ArrayList<>();
            Supernet net = SupernetPool.borrow(sp, op, 0);
            try {
                for (int a = 0; a < ids.size(); a++) {
                    st.value().applyTo(net);
                    Arch arch = Arch.parse(ids.get(a));
                    for (Tuple2<Integer, INDArray> x : xs) {
                        out.add(new BatchStatistics(a, x._1(), net.batchStatistics(arch, x._2())));
                    }
                    NativeHeap.trimIfGrown();
                }
            } finally {
                SupernetPool.release(net);
            }
            return out.iterator();
        }).collect();
        List<Map<String, float[]>> sums = sumInBatchOrder(stats, ids.size());
        Broadcast<List<Map<String, float[]>>> bs = jsc.broadcast(sums);
        int nb = batches;
        int bsz = batchSize;
        List<long[]> parts = val.mapPartitions((Iterator<Sample> it) -> {
            List<Sample> v = new ArrayList<>();
            it.forEachRemaining(v::add);
            long[] out = new long[ids.size() + 1];
            out[ids.size()] = v.size();
            if (v.isEmpty()) {
                return List.of(out).iterator();
            }
            Supernet net = SupernetPool.borrow(sp, op, 0);
            try {
                for (int a = 0; a < ids.size(); a++) {
                    st.value().applyTo(net);
                    Arch arch = Arch.parse(ids.get(a));
                    net.setRunningStatistics(arch, bs.value().get(a), nb);
                    // one batch of floats at a time: the shard stays in bytes (4x smaller), whatever its size
                    for (int from = 0; from < v.size(); from += bsz) {
                        List<Sample> part = v.subList(from, Math.min(v.size(), from + bsz));
                        out[a] += net.countCorrect(arch, Supernet.toBatch(part.stream().map(Sample::pixels).toList(), res, res, ch),
                                part.stream().mapToInt(Sample::label).toArray());
                    }
                    // per architecture when grown: a task's share of a generation otherwise grew the search JVM from 4.5 to 16.7 GB
                    NativeHeap.trimIfGrown();
                }
            } finally {
                SupernetPool.release(net);
            }
            return List.of(out).iterator();
        }).collect();
        bs.destroy();
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

    /** Per architecture and block: the statistics summed over batches 0, 1, ..., R-1, in that order. */
    private List<Map<String, float[]>> sumInBatchOrder(List<BatchStatistics> stats, int archs) {
        List<Map<Integer, Map<String, float[]>>> byBatch = new ArrayList<>();
        for (int a = 0; a < archs; a++) {
            byBatch.add(new HashMap<>());
        }
        for (BatchStatistics s : stats) {
            byBatch.get(s.arch()).put(s.batch(), s.blocks());
        }
        List<Map<String, float[]>> out = new ArrayList<>();
        for (int a = 0; a < archs; a++) {
            Map<String, float[]> sum = new LinkedHashMap<>();
            for (int b = 0; b < batches; b++) {
                Map<String, float[]> one = byBatch.get(a).get(b);
                if (one == null) {
                    throw new IllegalStateException("recalibration batch " + b + " of " + batches + " came back from no task");
                }
                for (Map.Entry<String, float[]> e : one.entrySet()) {
                    float[] acc = sum.computeIfAbsent(e.getKey(), k -> new float[e.getValue().length]);
                    for (int i = 0; i < acc.length; i++) {
                        acc[i] += e.getValue()[i];
                    }
                }
            }
            out.add(sum);
        }
        return out;
    }

    /** Val images each architecture was evaluated on (-1 before the first evaluation). */
    public long valImages() {
        return images;
    }

    /** Recalibration batches (R) and their size (B). */
    public int recalibrationBatches() {
        return batches;
    }

    @Override
    public void close() {
        state.destroy();
        recal.unpersist();
        val.unpersist();
    }
}
