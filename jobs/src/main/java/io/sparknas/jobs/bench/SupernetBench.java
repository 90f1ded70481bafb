package io.sparknas.jobs.bench;

import org.nd4j.linalg.factory.Nd4j;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.ingest.IngestSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.supernet.SupernetSettings;
import io.sparknas.jobs.supernet.SupernetTrainStage;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Benchmark of supernet training (a command that prints figures, not a test), on the real images of a run's ingest:
 * <ol>
 *   <li>chained single-path training against a plain {@link ComputationGraph} of the same fixed path (ratio; target >= 0.9);</li>
 *   <li>supernet-train throughput with 1 task against 2 tasks (ratio; target >= 1.7 on 2 cores);</li>
 *   <li>the share of a round spent outside task compute (broadcast, averaging, scheduling; target <= 10%).</li>
 * </ol>
 * Arguments: the stage arguments ({@code --config}, {@code --run-root}, {@code --run-id}, {@code -D...}); it ingests into
 * {@code <run-id>-bench1} and {@code <run-id>-bench2} when needed and trains one epoch in each.
 */
public final class SupernetBench {

    private SupernetBench() {
    }

    public static void main(String[] args) {
        StageArgs a = StageArgs.parse(args, Set.of(), false);
        SparkSession spark = SparkSession.builder().appName("spark-nas bench-supernet").getOrCreate();
        try {
            chainedVersusGraph(a, spark);
            double[] one = trainOneEpoch(args, spark, 1);
            double[] two = trainOneEpoch(args, spark, 2);
            System.out.printf("supernet-train, 1 task : %.1f images/s (%.1f%% of rounds outside task compute)%n", one[0], 100 * one[1]);
            System.out.printf("supernet-train, 2 tasks: %.1f images/s (%.1f%% of rounds outside task compute)%n", two[0], 100 * two[1]);
            System.out.printf("RATIO 2 tasks / 1 task = %.2f (target >= 1.7)%n", two[0] / one[0]);
            System.out.printf("RATIO outside-compute share of a round = %.3f (target <= 0.10)%n", two[1]);
        } finally {
            spark.stop();
        }
    }

    private static void chainedVersusGraph(StageArgs a, SparkSession spark) {
        SupernetSettings s = SupernetSettings.from(a.loadConfig(), a);
        IngestSettings is = IngestSettings.from(a.loadConfig(), a);
        SearchSpace space = SearchSpaces.build(s.space().options(is.resolution(), is.channels(),
                Math.max(2, is.classNames().isEmpty() ? 10 : is.classNames().size())));
        OptimizerSettings opt = new OptimizerSettings(s.learningRate(), s.momentum(), s.weightDecay(), s.schedule(), 1000, 0, 0);
        int batch = s.batchSize();
        int[] idx = new int[space.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = Math.min(2, space.layer(i).candidates().size() - 1);
        }
        Arch arch = Arch.ofIndices(space, idx);
        Supernet net = new Supernet(space, opt, s.seed(), s.init());
        List<byte[]> px = new ArrayList<>();
        int[] labels = new int[batch * 4];
        int res = is.resolution();
        for (Row r : ingestedTrainImages(spark, a, batch * 4)) {
            labels[px.size()] = r.getInt(0);
            px.add((byte[]) r.get(1));
        }
        List<INDArray> xs = new ArrayList<>();
        List<INDArray> ys = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            xs.add(Supernet.toBatch(px.subList(b * batch, (b + 1) * batch), res, res, is.channels()));
            int[] y = Arrays.copyOfRange(labels, b * batch, (b + 1) * batch);
            float[] oh = new float[batch * space.classes()];
            for (int i = 0; i < batch; i++) {
                oh[i * space.classes() + y[i]] = 1;
            }
            ys.add(Nd4j.create(oh, new long[]{batch, space.classes()}));
        }
        ComputationGraph cg = net.export(arch);
        int warm = 3;
        int steps = 15;
        double chained = 0;
        double graph = 0;
        for (int s0 = 0; s0 < warm + steps; s0++) {
            int b = s0 % 4;
            int[] y = Arrays.copyOfRange(labels, b * batch, (b + 1) * batch);
            long t0 = System.nanoTime();
            net.trainStep(arch, xs.get(b), y, s0, 0);
            long t1 = System.nanoTime();
            cg.fit(new DataSet(xs.get(b), ys.get(b)));
            long t2 = System.nanoTime();
            if (s0 >= warm) {
                chained += (t1 - t0) / 1e9;
                graph += (t2 - t1) / 1e9;
            }
        }
        double ci = steps * batch / chained;
        double gi = steps * batch / graph;
        System.out.printf("fixed path %s, batch %d, %d steps after %d warm-up, native threads %s:%n", space.family(), batch, steps, warm,
                System.getenv().getOrDefault("OMP_NUM_THREADS", "default"));
        System.out.printf("chained supernet path : %.1f images/s%nplain ComputationGraph: %.1f images/s%n", ci, gi);
        System.out.printf("RATIO chained / plain graph = %.2f (target >= 0.9)%n", ci / gi);
    }

    private static List<Row> ingestedTrainImages(SparkSession spark, StageArgs a, int n) {
        String[] ingestArgs = withRunSuffix(a, "-bench1", Set.of());
        IngestStage.run(IngestSettings.from(StageArgs.parse(ingestArgs, Set.of(), false).loadConfig(),
                StageArgs.parse(ingestArgs, Set.of(), false)), spark);
        String root = StageArgs.parse(ingestArgs, Set.of(), false).loadConfig().getString("nas.run.root");
        String id = StageArgs.parse(ingestArgs, Set.of(), false).loadConfig().getString("nas.run.id");
        return spark.read().parquet(RunSettings.toUri(root) + "/" + id + "/ingest/images").where("split = 'train'")
                .select("class_index", "pixels").limit(n).collectAsList();
    }

    /** Ingest (if needed) and one epoch of supernet-train with the given task count; {images/s, outside-compute share}. */
    private static double[] trainOneEpoch(String[] args, SparkSession spark, int tasks) {
        String[] runArgs = withRunSuffix(StageArgs.parse(args, Set.of(), false), "-bench" + tasks,
                Set.of("-Dnas.supernet.epochs=1", "-Dnas.supernet.workers=" + tasks, "-Dnas.supernet.eval.paths=0"));
        StageArgs ra = StageArgs.parse(runArgs, Set.of(), false);
        IngestStage.run(IngestSettings.from(ra.loadConfig(), ra), spark);
        String[] forced = Arrays.copyOf(runArgs, runArgs.length + 1);
        forced[runArgs.length] = "--force";
        StageArgs fa = StageArgs.parse(forced, Set.of(), false);
        var r = SupernetTrainStage.run(SupernetSettings.from(fa.loadConfig(), fa), spark);
        Row m = spark.read().parquet(r.stageUri() + "/" + SupernetTrainOutputs.METRICS)
                .selectExpr("sum(images) / sum(seconds)", "1 - sum(compute_seconds) / sum(seconds)").first();
        return new double[]{m.getDouble(0), m.getDouble(1)};
    }

    static String[] withRunSuffix(StageArgs a, String suffix, Set<String> extra) {
        List<String> out = new ArrayList<>();
        if (a.configFile() != null) {
            out.add("--config");
            out.add(a.configFile().getPath());
        }
        String id = a.loadConfig().getString("nas.run.id");
        id = (id.isBlank() ? "bench" : id) + suffix;
        a.overrides().forEach((k, v) -> {
            if (!k.equals("nas.run.id")) {
                out.add("-D" + k + "=" + v);
            }
        });
        out.add("-Dnas.run.id=" + id);
        out.addAll(extra);
        return out.toArray(String[]::new);
    }
}
