package io.sparknas.jobs.bench;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import io.sparknas.supernet.backend.OneDnnLayerHelpers;
import io.sparknas.jobs.NativeHeap;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestSettings;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.retrain.RetrainSettings;
import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.ArchitectureGraph;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Benchmark of retraining (a command that prints figures, not a test), on the real images of a run's ingest
 * ({@code <run-id>-bench1}, ingested when needed):
 * <ol>
 *   <li>the supernet engine's fixed-path training of the first architecture: {@code nas.retrain.workers} concurrent
 *       trainers of one native thread each, at the retrain batch size (supernet-train's configuration between two
 *       averagings);</li>
 *   <li>a soak: {@code --models} architectures (the first fixed, the rest seeded uniform paths) retrained for
 *       {@code --epochs} epochs each through the retrain stage's trainer (dl4j-spark), printing after every epoch the
 *       process's resident memory, JavaCPP's tracked off-heap and physical bytes and the JVM heap in use;</li>
 *   <li>RATIO retrain / engine images per second (first architecture; target >= 1.0) and the resident-memory growth after
 *       the first epoch (target: none beyond noise).</li>
 * </ol>
 * In local mode the executors are this JVM, so its resident memory is the driver's and the executors' together.
 */
public final class RetrainBench {

    private RetrainBench() {
    }

    public static void main(String[] args) throws Exception {
        StageArgs a = StageArgs.parse(args, Set.of("models", "epochs"), false);
        int models = Integer.parseInt(a.options().getOrDefault("models", "10"));
        int epochs = Integer.parseInt(a.options().getOrDefault("epochs", "3"));
        SparkSession spark = SparkSession.builder().appName("spark-nas bench-retrain").getOrCreate();
        try {
            StageArgs ra = StageArgs.parse(SupernetBench.withRunSuffix(a, "-bench1", Set.of("-Dnas.retrain.epochs=" + epochs)), Set.of(), false);
            IngestStage.run(IngestSettings.from(ra.loadConfig(), ra), spark);
            RetrainSettings rs = RetrainSettings.from(ra.loadConfig(), ra);
            RunStore store = new RunStore(rs.run().root(), rs.run().runId(), spark.sparkContext().hadoopConfiguration());
            SearchSpace space = RunSpace.of(store, rs.run().runId(), rs.space()).space();
            List<Arch> archs = new ArrayList<>();
            int[] fixed = new int[space.size()];
            for (int i = 0; i < fixed.length; i++) {
                fixed[i] = Math.min(2, space.layer(i).candidates().size() - 1);
            }
            archs.add(Arch.ofIndices(space, fixed));
            Random rnd = new Random(rs.seed());
            while (archs.size() < models) {
                archs.add(EngineBench.randomPath(space, rnd));
            }
            String threads = System.getenv().getOrDefault("OMP_NUM_THREADS", "default");
            double engine = fixedPath(spark, store, space, rs, archs.get(0), false);
            System.out.printf("engine fixed path %s, %d trainers x batch %d, native threads %s: %.1f images/s%n", archs.get(0).id(), rs.workers(),
                    rs.batchSize(), threads, engine);
            double graph = fixedPath(spark, store, space, rs, archs.get(0), true);
            System.out.printf("plain DL4J ComputationGraph of that path (the retrain's network, no Spark), %d trainers: %.1f images/s%n",
                    rs.workers(), graph);
            List<Double> resident = new ArrayList<>();
            double firstRate = 0;
            try (StandaloneTrainer trainer = new StandaloneTrainer(spark, store, space, rs.trainer(), 0)) {
                System.out.printf("soak: %d models x %d epochs on %d train images, %d workers x batch %d, averaging every %d batches%n", models, epochs,
                        trainer.trainImages(), rs.workers(), rs.batchSize(), rs.averagingFrequency());
                for (int m = 0; m < archs.size(); m++) {
                    int model = m;
                    StandaloneTrainer.Trained t = trainer.train(archs.get(m), m, "bench model " + (m + 1), row -> {
                        long rss = NativeHeap.residentBytes();
                        resident.add(rss / 1e9);
                        Runtime rt = Runtime.getRuntime();
                        System.out.printf("MEMORY model %d epoch %d: resident %.2f GB, javacpp tracked %.2f GB, javacpp physical %.2f GB, "
                                        + "heap used %.2f GB; %.1f images/s%n", model + 1, row.getInt(1), rss / 1e9, Pointer.totalBytes() / 1e9,
                                Pointer.physicalBytes() / 1e9, (rt.totalMemory() - rt.freeMemory()) / 1e9, row.getDouble(6));
                    });
                    if (m == 0) {
                        // steady state: the epochs after the first (JIT compilation and DL4J's workspace sizing happen in the
                        // first), as the engine's figure leaves out its warm-up steps
                        List<Row> steady = t.metrics().size() > 1 ? t.metrics().subList(1, t.metrics().size()) : t.metrics();
                        for (Row r : steady) {
                            firstRate += r.getDouble(6) / steady.size();
                        }
                    }
                    System.out.printf("model %d %s: test accuracy %.4f, %.0f s%n", m + 1, archs.get(m).id(), t.evaluation().accuracy(), t.wallSeconds());
                }
            }
            double first = resident.get(0);
            double max = resident.stream().mapToDouble(Double::doubleValue).max().orElse(first);
            double last = resident.get(resident.size() - 1);
            System.out.printf("RATIO retrain / engine fixed path = %.2f (%.1f / %.1f images/s, first architecture, epochs after the first; target >= 1.0)%n",
                    firstRate / engine, firstRate, engine);
            System.out.printf("RATIO retrain / plain ComputationGraph = %.2f (dl4j-spark's share of the gap)%n", firstRate / graph);
            System.out.printf("RESIDENT after epoch 1: %.2f GB, max %.2f GB, last %.2f GB, growth after epoch 1 %.2f GB over %d epochs%n",
                    first, max, last, max - first, resident.size() - 1);
        } finally {
            spark.stop();
        }
    }

    /**
     * Aggregate images/s of {@code nas.retrain.workers} threads, each training on {@code arch} at the retrain batch size: its own
     * supernet replica (the engine), or with {@code dl4j} its own stand-alone ComputationGraph (the retrain's network).
     */
    private static double fixedPath(SparkSession spark, RunStore store, SearchSpace space, RetrainSettings rs, Arch arch, boolean dl4j) {
        int batch = rs.batchSize();
        List<Row> rows = spark.read().parquet(store.tableUri("ingest", "images")).where("split = 'train'").select("class_index", "pixels")
                .limit(8 * batch).collectAsList();
        List<INDArray> xs = new ArrayList<>();
        List<int[]> ys = new ArrayList<>();
        for (int b = 0; b + batch <= rows.size(); b += batch) {
            List<byte[]> px = new ArrayList<>();
            int[] y = new int[batch];
            for (int i = 0; i < batch; i++) {
                px.add((byte[]) rows.get(b + i).get(1));
                y[i] = rows.get(b + i).getInt(0);
            }
            xs.add(Supernet.toBatch(px, space.resolution(), space.resolution(), space.inChannels()));
            ys.add(y);
        }
        if (dl4j && rs.oneDnnHelpers()) {
            OneDnnLayerHelpers.enable();
        }
        OptimizerSettings opt = new OptimizerSettings(rs.learningRate(), rs.momentum(), rs.weightDecay(), "cosine", 1000, 0, 0);
        int n = rs.workers();
        double[] rates = new double[n];
        Thread[] workers = new Thread[n];
        for (int w = 0; w < n; w++) {
            int id = w;
            workers[w] = new Thread(() -> {
                if (dl4j) {
                    rates[id] = graphTrain(ArchitectureGraph.standalone(space, arch, opt, rs.seed() + id), xs, ys, space.classes(), 3, 20);
                } else {
                    rates[id] = EngineBench.train(new Supernet(space, opt, rs.seed() + id), xs, ys, 3, 20, () -> arch);
                }
            }, "bench-engine-" + w);
            workers[w].start();
        }
        EngineBench.join(workers);
        double sum = 0;
        for (double r : rates) {
            sum += r;
        }
        return sum;
    }

    private static double graphTrain(ComputationGraph g, List<INDArray> xs, List<int[]> ys, int classes, int warm, int steps) {
        List<DataSet> ds = new ArrayList<>();
        for (int b = 0; b < xs.size(); b++) {
            INDArray l = Nd4j.zeros(DataType.FLOAT, ys.get(b).length, classes);
            for (int i = 0; i < ys.get(b).length; i++) {
                l.putScalar(i, ys.get(b)[i], 1f);
            }
            ds.add(new DataSet(xs.get(b), l));
        }
        double seconds = 0;
        int images = 0;
        for (int t = 0; t < warm + steps; t++) {
            long t0 = System.nanoTime();
            g.fit(ds.get(t % ds.size()));
            if (t >= warm) {
                seconds += (System.nanoTime() - t0) / 1e9;
                images += ys.get(t % ds.size()).length;
            }
        }
        return images / seconds;
    }
}
