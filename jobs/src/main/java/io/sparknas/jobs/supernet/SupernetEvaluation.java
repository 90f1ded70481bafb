package io.sparknas.jobs.supernet;

import io.sparknas.jobs.store.RunStore;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.search.strategy.UniformSampling;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.sample.PathSampler;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The val evaluations of supernet-train, on the executors with BatchNorm recalibrated as the search evaluates
 * ({@link PathEvaluator}): a strategy's architectures at an epoch's end (DDPNAS Eq. 2), and after training the read-off and
 * random paths of the live space ({@code path_eval}). One evaluator serves the stage: its data is read once, the weights
 * change with each call.
 */
final class SupernetEvaluation implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SupernetEvaluation.class);

    private final SupernetSettings s;
    private final SparkSession spark;
    private final RunStore store;
    private final SearchSpace space;
    private final OptimizerSettings opt;
    private final String method;
    private final int epochs;
    private final int workers;
    private PathEvaluator evaluator;

    SupernetEvaluation(SupernetSettings s, SparkSession spark, RunStore store, SearchSpace space, OptimizerSettings opt, String method,
                       int epochs, int workers) {
        this.s = s;
        this.spark = spark;
        this.store = store;
        this.space = space;
        this.opt = opt;
        this.method = method;
        this.epochs = epochs;
        this.workers = workers;
    }

    /** A strategy's architectures of epoch e on val (DDPNAS Eq. 2), BatchNorm recalibrated, as the search evaluates them. */
    double[] ofEpoch(SupernetState state, List<Arch> archs, int e) {
        long t0 = System.nanoTime();
        JavaSparkContext.fromSparkContext(spark.sparkContext()).setJobGroup("supernet-train", String.format(
                "supernet-train %s: epoch %d/%d, val accuracy of its %d architectures", method, e + 1, epochs, archs.size()));
        double[] acc;
        acc = evaluator(state).accuracy(archs);
        StringBuilder b = new StringBuilder();
        for (int a = 0; a < archs.size(); a++) {
            b.append(a == 0 ? "" : ", ").append(archs.get(a).id()).append(' ').append(String.format("%.4f", acc[a]));
        }
        LOG.info("supernet-train: epoch {}/{}: val accuracy of its {} architectures ({} s): {}", e + 1, epochs, archs.size(),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9), b);
        return acc;
    }

    /** The stage's one evaluator (its recalibration batches and val shards read once), scoring with {@code state}. */
    private PathEvaluator evaluator(SupernetState state) {
        if (evaluator == null) {
            evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(), s.evalBatchSize(), 0, workers);
        } else {
            evaluator.use(state);
        }
        return evaluator;
    }

    /** Releases the evaluator's cached data and broadcast. */
    @Override
    public void close() {
        if (evaluator != null) {
            evaluator.close();
            evaluator = null;
        }
    }

    /**
     * The read-off first (DA-NAS), then random paths of the (live) space; a method's pruned space may hold fewer distinct paths
     * than nas.supernet.eval.paths, so its duplicates are skipped (uniform sampling keeps its draws as they come).
     */
    static List<Arch> paths(SupernetSettings s, TrainingStrategy strategy) {
        List<Arch> paths = new ArrayList<>();
        strategy.readOff().ifPresent(paths::add);
        Random rnd = new Random(RoundTask.mix(s.seed(), 77, 0, 0));
        PathSampler sampler = s.pathSampler();
        boolean distinctOnly = !(strategy instanceof UniformSampling);
        for (int draw = 0; paths.size() < s.evalPaths() && draw < 20 * s.evalPaths(); draw++) {
            Arch a = sampler.sample(strategy.space(), rnd);
            if (!distinctOnly || !paths.contains(a)) {
                paths.add(a);
            }
        }
        return paths;
    }

    /** path_eval's rows: each path's val accuracy after BatchNorm recalibration, with its FLOPs and parameters. */
    List<Row> pathEval(SupernetState state, List<Arch> paths) {
        List<Row> rows = new ArrayList<>();
        if (paths.isEmpty()) {
            return rows;
        }
        long t0 = System.nanoTime();
        double[] acc;
        long images;
        PathEvaluator evaluator = evaluator(state);
        acc = evaluator.accuracy(paths);
        images = evaluator.valImages();
        FlopsCostModel flops = new FlopsCostModel();
        ParamsCostModel params = new ParamsCostModel();
        double sum = 0;
        double best = 0;
        for (int a = 0; a < paths.size(); a++) {
            sum += acc[a];
            best = Math.max(best, acc[a]);
            rows.add(RowFactory.create(paths.get(a).id(), acc[a], images, flops.cost(space, paths.get(a)), params.cost(space, paths.get(a))));
        }
        LOG.info("supernet-train: {} random paths on {} val images after BN recalibration: mean accuracy {}, best {} ({} s, {} paths/s)",
                paths.size(), images, String.format("%.3f", sum / paths.size()), String.format("%.3f", best),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9), String.format("%.2f", paths.size() / ((System.nanoTime() - t0) / 1e9)));
        return rows;
    }
}
