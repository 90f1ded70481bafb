package io.sparknas.jobs.bench;

import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestSettings;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.supernet.SupernetSettings;
import io.sparknas.search.strategy.GumbelSoftmax;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Weighted-mode benchmark (a command that prints figures, not a test): on real images of a run's ingest, in this JVM, the
 * time of one weighted training step (every candidate of every layer, Gumbel-softmax weights: DA-NAS Eq. 7, DSO-NAS Eq. 4)
 * against the sum of the single-path step times of its candidates on the same batches. Path k (k = 0 .. K-1, K the most
 * candidates a layer has) takes candidate k of every layer that has one and the layer's last candidate otherwise, so the
 * sum covers every candidate at least once (stem and head K times). The {@code RATIO weighted / sum of single paths} line is
 * the result (target <= 1.1: the weighted mode costs no more than training its candidates one by one).
 */
public final class WeightedStepBench {

    private WeightedStepBench() {
    }

    public static void main(String[] args) {
        StageArgs a = StageArgs.parse(args, Set.of(), false);
        SparkSession spark = SparkSession.builder().appName("spark-nas bench-weighted").getOrCreate();
        try {
            IngestSettings is = IngestSettings.from(a.loadConfig(), a);
            IngestStage.run(is, spark);
            SupernetSettings s = SupernetSettings.from(a.loadConfig(), a);
            String images = RunSettings.toUri(a.loadConfig().getString("nas.run.root")) + "/" + is.run().runId() + "/ingest/images";
            int batch = s.batchSize();
            int steps = Integer.parseInt(System.getenv().getOrDefault("BENCH_STEPS", "8"));
            int warm = 2;
            List<Row> train = spark.read().parquet(images).where("split = 'train'").select("class_index", "pixels").limit((steps + warm) * batch)
                    .collectAsList();
            SearchSpace space = SearchSpaces.build(s.space().options(is.resolution(), is.channels(), 10));
            List<INDArray> xs = new ArrayList<>();
            List<int[]> ys = new ArrayList<>();
            // whole batches only: every timed step on the same number of images
            EngineBench.batches(train.subList(0, train.size() / batch * batch), batch, is, xs, ys);
            OptimizerSettings opt = new OptimizerSettings(0.05, 0.9, 4e-5, "cosine", 100_000, 0, 0);
            Supernet net = new Supernet(space, opt, s.seed(), s.init());
            Random rnd = new Random(s.seed());
            double[][] w = new double[space.size()][];
            int k = 0;
            for (int l = 0; l < space.size(); l++) {
                int n = space.layer(l).candidates().size();
                w[l] = GumbelSoftmax.sample(new double[n], 1.0, rnd);
                k = Math.max(k, n);
            }
            Arch all = net.allOps();
            double weighted = median(time(warm, xs, ys, (x, y, i) -> net.weightedTrainStep(all, w, x, y, i, 0)));
            double sum = 0;
            StringBuilder perPath = new StringBuilder();
            for (int p = 0; p < k; p++) {
                int[] idx = new int[space.size()];
                for (int l = 0; l < idx.length; l++) {
                    idx[l] = Math.min(p, space.layer(l).candidates().size() - 1);
                }
                Arch path = Arch.ofIndices(space, idx);
                double t = median(time(warm, xs, ys, (x, y, i) -> net.trainStep(path, x, y, i, 0)));
                sum += t;
                perPath.append(String.format(" %.1f", t * 1000));
            }
            String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "default");
            System.out.printf("space %s width %.2f (%d layers, up to %d candidates), batch %d, native threads %s, median of %d steps%n",
                    space.family(), s.space().width(), space.size(), k, batch, threads, steps);
            System.out.printf("weighted step (all candidates): %.1f ms; single-path steps of paths 0..%d: [%s ] ms, sum %.1f ms%n", weighted * 1000,
                    k - 1, perPath.toString().trim().isEmpty() ? "" : perPath, sum * 1000);
            System.out.printf("RATIO weighted / sum of single paths: %.3f%n", weighted / sum);
        } finally {
            spark.stop();
        }
    }

    private interface Step {
        void run(INDArray x, int[] y, int iteration);
    }

    private static double[] time(int warm, List<INDArray> xs, List<int[]> ys, Step step) {
        double[] t = new double[xs.size() - warm];
        for (int i = 0; i < xs.size(); i++) {
            long t0 = System.nanoTime();
            step.run(xs.get(i), ys.get(i), i);
            if (i >= warm) {
                t[i - warm] = (System.nanoTime() - t0) / 1e9;
            }
        }
        return t;
    }

    private static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : (c[c.length / 2 - 1] + c[c.length / 2]) / 2;
    }
}
