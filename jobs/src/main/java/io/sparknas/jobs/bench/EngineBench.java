package io.sparknas.jobs.bench;

import java.util.function.Supplier;
import java.util.Arrays;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestSettings;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.supernet.SupernetSettings;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Engine benchmark (a command that prints figures, not a test), the project's half of {@code submit/bench-peer.sh}: on the
 * real images of a run's ingest, in this JVM, SPOS training (a new uniform path per step) and one fixed path (op index 2 in
 * every layer, as the libtorch peer's {@code fixed} mode), then one path evaluation (BatchNorm recalibration on 10 batches
 * and inference over the val split). The last line, {@code ENGINE project ...}, carries the figures for the script's ratios.
 */
public final class EngineBench {

    private EngineBench() {
    }

    public static void main(String[] args) {
        StageArgs a = StageArgs.parse(args, Set.of(), false);
        SparkSession spark = SparkSession.builder().appName("spark-nas bench-peer").getOrCreate();
        try {
            IngestSettings is = IngestSettings.from(a.loadConfig(), a);
            IngestStage.run(is, spark);
            SupernetSettings s = SupernetSettings.from(a.loadConfig(), a);
            String images = RunSettings.toUri(a.loadConfig().getString("nas.run.root")) + "/" + is.run().runId() + "/ingest/images";
            List<Row> train = spark.read().parquet(images).where("split = 'train'").select("class_index", "pixels").limit(16 * s.batchSize())
                    .collectAsList();
            List<Row> val = spark.read().parquet(images).where("split = 'val'").select("class_index", "pixels").collectAsList();
            SearchSpace space = SearchSpaces.build(s.space().options(is.resolution(), is.channels(), 10));
            int batch = s.batchSize();
            List<INDArray> xs = new ArrayList<>();
            List<int[]> ys = new ArrayList<>();
            batches(train, batch, is, xs, ys);
            int steps = 20;
            int warm = 3;
            OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 4e-5, "cosine", 1000, 0, 0);
            Supernet net = new Supernet(space, opt, s.seed(), s.init());
            Random rnd = new Random(s.seed());
            double spos = train(net, xs, ys, warm, steps, () -> randomPath(space, rnd));
            int[] fixedIdx = new int[space.size()];
            for (int i = 0; i < fixedIdx.length; i++) {
                fixedIdx[i] = Math.min(2, space.layer(i).candidates().size() - 1);
            }
            Arch fixed = Arch.ofIndices(space, fixedIdx);
            double fixedRate = train(net, xs, ys, warm, steps, () -> fixed);
            String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "default");
            System.out.printf("project SPOS (new uniform path per step), %s width %.2f, batch %d, native threads %s: %.1f images/s%n",
                    space.family(), s.space().width(), batch, threads, spos);
            System.out.printf("project fixed path (op index 2 in every layer): %.1f images/s%n", fixedRate);
            // two tasks of one native thread each (supernet-train's configuration on local[2]): two trainers at once, each with
            // its own replica and paths, as two Spark tasks between averaging rounds; averaging itself is not included here
            // (bench-supernet.sh measures its share of a round)
            double spos2 = Double.NaN;
            if ("1".equals(threads)) {
                spos2 = concurrentSpos(space, opt, s.seed(), xs, ys, warm, steps);
                System.out.printf("project SPOS, 2 tasks x 1 native thread (concurrent trainers, averaging excluded): %.1f images/s%n", spos2);
            }

            List<INDArray> vx = new ArrayList<>();
            List<int[]> vy = new ArrayList<>();
            batches(val, 250, is, vx, vy);
            // one unmeasured evaluation, then the median of three
            double[] evals = new double[3];
            double[] recals = new double[3];
            double accuracy = 0;
            for (int rep = -1; rep < evals.length; rep++) {
                long t0 = System.nanoTime();
                net.recalibrate(fixed, xs.subList(0, Math.min(10, xs.size())));
                double recal = (System.nanoTime() - t0) / 1e9;
                accuracy = evaluate(net, fixed, vx, vy) / (double) val.size();
                if (rep >= 0) {
                    recals[rep] = recal;
                    evals[rep] = (System.nanoTime() - t0) / 1e9;
                }
            }
            Arrays.sort(evals);
            Arrays.sort(recals);
            double evalSeconds = evals[1];
            double recalSeconds = recals[1];
            System.out.printf("path evaluation (BN recalibration on 10 batches of %d + %d val images in batches of 250), median of 3: %.2f s"
                    + " (recalibration %.2f s, inference about %.2f s; accuracy %.3f)%n", batch, val.size(), evalSeconds, recalSeconds,
                    evalSeconds - recalSeconds, accuracy);
            // the search stage's configuration on local[2]: two tasks evaluating two paths at once, one native thread each
            double eval2 = Double.NaN;
            if ("1".equals(threads)) {
                Supernet replica = new Supernet(space, opt, s.seed(), s.init());
                SupernetState.capture(net).applyTo(replica);
                eval2 = concurrentEvaluations(new Supernet[]{net, replica}, fixed, xs.subList(0, Math.min(10, xs.size())), vx, vy);
                System.out.printf("path evaluations, 2 tasks x 1 native thread (two paths at once): %.2f s per evaluation%n", eval2);
            }
            System.out.printf("ENGINE project spos=%.1f fixed=%.1f spos2=%.1f eval_s=%.3f eval2_s=%.3f val_images=%d threads=%s%n", spos,
                    fixedRate, spos2, evalSeconds, eval2, val.size(), threads);
        } finally {
            spark.stop();
        }
    }

    static void batches(List<Row> rows, int batch, IngestSettings is, List<INDArray> xs, List<int[]> ys) {
        for (int b = 0; b < rows.size(); b += batch) {
            int end = Math.min(rows.size(), b + batch);
            List<byte[]> px = new ArrayList<>();
            int[] y = new int[end - b];
            for (int i = b; i < end; i++) {
                px.add((byte[]) rows.get(i).get(1));
                y[i - b] = rows.get(i).getInt(0);
            }
            xs.add(Supernet.toBatch(px, is.resolution(), is.resolution(), is.channels()));
            ys.add(y);
        }
    }

    /** Aggregate images per second of two trainers (own supernet replica, own path generator) training at once in two threads. */
    private static double concurrentSpos(SearchSpace space, OptimizerSettings opt, long seed, List<INDArray> xs, List<int[]> ys, int warm,
                                         int steps) {
        double[] rates = new double[2];
        Thread[] workers = new Thread[2];
        for (int w = 0; w < 2; w++) {
            int id = w;
            workers[w] = new Thread(() -> {
                Supernet net = new Supernet(space, opt, seed + 100 * (id + 1), Supernet.Init.INDEPENDENT);
                Random rnd = new Random(seed + id);
                rates[id] = train(net, xs, ys, warm, steps, () -> randomPath(space, rnd));
            }, "bench-task-" + w);
            workers[w].start();
        }
        join(workers);
        return rates[0] + rates[1];
    }

    private static long evaluate(Supernet net, Arch arch, List<INDArray> vx, List<int[]> vy) {
        long correct = 0;
        for (int b = 0; b < vx.size(); b++) {
            correct += net.countCorrect(arch, vx.get(b), vy.get(b));
        }
        return correct;
    }

    /**
     * Wall seconds per path evaluation (recalibration + inference) when two threads evaluate at once, each on its own
     * replica, two rounds each after one unmeasured round.
     */
    private static double concurrentEvaluations(Supernet[] replicas, Arch arch, List<INDArray> recal, List<INDArray> vx, List<int[]> vy) {
        Thread[] workers = new Thread[2];
        long[] start = new long[2];
        long[] end = new long[2];
        int rounds = 2;
        for (int w = 0; w < 2; w++) {
            int id = w;
            workers[w] = new Thread(() -> {
                for (int r = 0; r <= rounds; r++) {
                    if (r == 1) {
                        start[id] = System.nanoTime();
                    }
                    replicas[id].recalibrate(arch, recal);
                    evaluate(replicas[id], arch, vx, vy);
                }
                end[id] = System.nanoTime();
            }, "bench-eval-" + w);
            workers[w].start();
        }
        join(workers);
        double wall = (Math.max(end[0], end[1]) - Math.min(start[0], start[1])) / 1e9;
        return wall / (2.0 * rounds);
    }

    static void join(Thread[] workers) {
        for (Thread t : workers) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    static Arch randomPath(SearchSpace space, Random rnd) {
        int[] idx = new int[space.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = rnd.nextInt(space.layer(i).candidates().size());
        }
        return Arch.ofIndices(space, idx);
    }

    /** Images per second of {@code steps} training steps after {@code warm} unmeasured ones, the path of each step from {@code paths}. */
    static double train(Supernet net, List<INDArray> xs, List<int[]> ys, int warm, int steps,
                                Supplier<Arch> paths) {
        double seconds = 0;
        int images = 0;
        for (int t = 0; t < warm + steps; t++) {
            int b = t % xs.size();
            Arch arch = paths.get();
            long t0 = System.nanoTime();
            net.trainStep(arch, xs.get(b), ys.get(b), t, 0);
            if (t >= warm) {
                seconds += (System.nanoTime() - t0) / 1e9;
                images += ys.get(b).length;
            }
        }
        return images / seconds;
    }
}
