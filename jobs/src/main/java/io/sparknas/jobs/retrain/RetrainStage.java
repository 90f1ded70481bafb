package io.sparknas.jobs.retrain;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.apache.spark.sql.Dataset;
import java.util.Optional;
import java.util.HexFormat;
import java.security.NoSuchAlgorithmException;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;
import io.sparknas.jobs.artifact.GeneratedArchsTable;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.jobs.artifact.RetrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.supernet.cost.WidthForBudget;
import io.sparknas.supernet.space.SearchSpaces;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Stage retrain: trains found architectures from scratch as stand-alone DL4J networks
 * ({@link io.sparknas.supernet.net.ArchitectureGraph#standalone}: the supernet's block definitions, fresh weights) with dl4j-spark ({@link SparkComputationGraph} and a
 * {@link ParameterAveragingTrainingMaster}, data read by the executors from the run's Parquet images), then evaluates them
 * on the {@code test} split.
 *
 * <p>Architectures: the front of search stage k ({@code --stage-index k}: {@code search} or {@code search-k}, written to
 * {@code retrain} or {@code retrain-k}), the most
 * accurate {@code top-k} within {@code max-cost}; every architecture of its {@code generated_archs} when the search stage was
 * a method's read-off (DA-NAS); or one given with {@code --arch ID}. Outputs: {@code final_models} (one
 * row per architecture: test top-1 and per-class accuracy, params, FLOPs, latency, epochs, wall time, model path),
 * {@code confusion} (test confusion matrices), {@code retrain_metrics} (per epoch), and {@code models/<n>.zip} (restorable
 * with DL4J's {@code ModelSerializer.restoreComputationGraph}).
 */
public final class RetrainStage {

    private static final Logger LOG = LoggerFactory.getLogger(RetrainStage.class);

    private RetrainStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(RetrainOutputs.STAGE, args, Set.of(RetrainSettings.ARCH_OPTION, StageIndex.OPTION), false, RetrainSettings::from, RetrainStage::run);
    }

    /** An architecture to retrain and where it came from. */
    record Candidate(Arch arch, String source, Double supernetAccuracy) {
    }

    public static RetrainResult run(RetrainSettings s, SparkSession spark) throws Exception {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        SearchSpace space = rs.space();
        List<StageRecord.Input> inputs = new ArrayList<>(List.of(rs.input(store)));
        List<Candidate> candidates = new ArrayList<>();
        if (!s.arch().isEmpty()) {
            Arch a;
            try {
                a = Arch.parse(s.arch());
                a.requireIn(space);
            } catch (IllegalArgumentException e) {
                throw new InputDataException("--arch " + s.arch() + " is not an architecture of the configured space (" + e.getMessage()
                        + "): give one op code per layer (" + space.size() + " layers), e.g. an arch id from a search's pareto_front.");
            }
            candidates.add(new Candidate(a, "--arch", null));
        } else {
            String source = s.source();
            StageRecord search = store.committed(source).orElseThrow(() -> new InputDataException("retrain" + (s.index().k() > 1 ? " --stage-index "
                    + s.index().k() : "") + " reads the architectures of " + store.stageDir(source) + ", which is not committed: run "
                    + "submit/search.sh" + (s.index().k() > 1 ? " --stage-index " + s.index().k() : "") + " first, or give --arch ID."));
            inputs.add(new StageRecord.Input(source, store.stageDir(source).toString(), search.fingerprint()));
            boolean generated = !search.tables().containsKey(SearchOutputs.PARETO_FRONT);
            // a method that outputs its architectures itself (DA-NAS argmax, DDPNAS one per constraint): every one of them
            Dataset<Row> front = spark.read().parquet(store.tableUri(source,
                    generated ? GeneratedArchsTable.TABLE : SearchOutputs.PARETO_FRONT));
            if (generated) {
                front = front.withColumn("cost", org.apache.spark.sql.functions.col("mflops"));
            }
            if (s.maxCost() > 0 && !generated) {
                front = front.where("cost <= " + s.maxCost());
            }
            front = front.orderBy(org.apache.spark.sql.functions.desc("accuracy"), org.apache.spark.sql.functions.asc("cost"));
            List<Row> rows = (s.topK() > 0 && !generated ? front.limit(s.topK()) : front).select("arch", "accuracy").collectAsList();
            if (rows.isEmpty()) {
                throw new InputDataException("The Pareto front of " + source + " has no architecture with cost <= nas.retrain.max-cost = "
                        + s.maxCost() + ": raise it, or set it to 0.");
            }
            if (generated) {
                List<Double> widths = front.select("width").distinct().collectAsList().stream().map(r -> r.getDouble(0)).toList();
                if (widths.size() != 1) {
                    throw new InputDataException("The generated_archs of " + source + " ask for several widths " + widths
                            + ": retrain builds one space; re-run submit/search.sh --force.");
                }
                if (widths.get(0) != s.space().width()) {
                    // DSO-NAS section 4.1: the searched architecture at the global width multiplier that meets the budget
                    space = SearchSpaces.build(WidthForBudget.at(s.space().options(space.resolution(), space.inChannels(), space.classes()), widths.get(0)));
                    LOG.info("retrain: the architectures of {} are built at width {} (nas.space.width = {}), as the search chose for its budget",
                            source, widths.get(0), s.space().width());
                }
            }
            for (Row r : rows) {
                Arch a = Arch.parse(r.getString(0));
                a.requireIn(space);
                candidates.add(new Candidate(a, source, r.getDouble(1)));
            }
        }
        LatencyTable latency = null;
        if (store.committed(LatencyProfileOutputs.STAGE).isPresent()) {
            LatencyTable t = LatencyProfileOutputs.read(spark, store);
            latency = t.missing(LatencyProbe.of(space)).isEmpty() ? t : null;
        }
        StageCommit commit = StageCommit.begin(store, s.run(), RetrainOutputs.STAGE, s.index().dirIndex(), NasConfig.hash(s.run().config(), RetrainSettings.SECTIONS)
                + s.hashSuffix(), s.seed(), inputs);
        if (commit.skipped()) {
            return RetrainResult.read(spark, store, commit.existing(), true);
        }
        StageRecord record = retrain(s, spark, store, commit, space, candidates, latency);
        return RetrainResult.read(spark, store, record, false);
    }

    private static StageRecord retrain(RetrainSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space,
                                       List<Candidate> candidates, LatencyTable latency) throws Exception {
        FlopsCostModel flops = new FlopsCostModel();
        ParamsCostModel params = new ParamsCostModel();
        String dir = commit.stageDir();
        // the trainer first: it switches DL4J's oneDNN helpers on (when asked) before the checkpoint's network is built, as
        // an uninterrupted run's was; a network built without them recalibrates BatchNorm with other rounding
        StandaloneTrainer trainer = new StandaloneTrainer(spark, store, space, s.trainer(), s.trainImages());
        Optional<RetrainCheckpoint.Numbered> cp = commit.resuming() ? RetrainCheckpoint.latest(store, dir) : Optional.empty();
        commit.markCheckpoints();
        List<Row> finals = new ArrayList<>(cp.map(c -> c.checkpoint().finals()).orElse(List.of()));
        List<Row> confusion = new ArrayList<>(cp.map(c -> c.checkpoint().confusion()).orElse(List.of()));
        List<Row> metrics = new ArrayList<>(cp.map(c -> c.checkpoint().metrics()).orElse(List.of()));
        List<String> hashes = new ArrayList<>(cp.map(c -> c.checkpoint().hashes()).orElse(List.of()));
        int first = cp.map(c -> c.checkpoint().model()).orElse(0);
        long[] number = {cp.map(RetrainCheckpoint.Numbered::number).orElse(0L)};
        if (cp.isPresent()) {
            LOG.info("retrain: resuming from checkpoint {}: {} of {} models done{}", number[0], first, candidates.size(),
                    cp.get().checkpoint().progress() == null ? "" : ", model " + (first + 1) + " after " + cp.get().checkpoint().progress().epochsDone()
                            + " epochs and " + cp.get().checkpoint().progress().roundsDone() + " rounds");
        } else if (commit.resuming()) {
            LOG.info("retrain: --resume found no complete checkpoint; starting with model 1");
        }
        long intervalNanos = s.run().checkpointInterval().toNanos();
        try (trainer) {
            for (int m = first; m < candidates.size(); m++) {
                Candidate c = candidates.get(m);
                StandaloneTrainer.Progress from = m == first && cp.isPresent() ? cp.get().checkpoint().progress() : null;
                int model = m;
                long[] last = {System.nanoTime()};
                String label = "retrain: model " + (m + 1) + "/" + candidates.size();
                StandaloneTrainer.Trained t = trainer.train(from != null ? from.network() : trainer.fresh(c.arch()),
                        c.arch().id(), m, label, row -> {
                        }, from, p -> {
                            // every epoch's end, and any round boundary once the interval has passed
                            if (p.epochsDone() < s.epochs() && (p.roundsDone() == 0 || System.nanoTime() - last[0] >= intervalNanos)) {
                                RetrainCheckpoint.write(store, dir, ++number[0], new RetrainCheckpoint(model, p, finals, confusion, metrics, hashes));
                                last[0] = System.nanoTime();
                            }
                        });
                metrics.addAll(t.metrics());
                int classes = space.classes();
                for (int k = 0; k < classes; k++) {
                    for (int p = 0; p < classes; p++) {
                        confusion.add(RowFactory.create(m, k, p, t.evaluation().getConfusionMatrix().getCount(k, p)));
                    }
                }
                String modelPath = commit.tableUri(RetrainOutputs.MODELS) + "/model-" + m + ".zip";
                try (FSDataOutputStream out = store.fileSystem().create(RetrainCheckpoint.modelFile(store, dir, m), true)) {
                    ModelSerializer.writeModel(t.network(), out, false);
                }
                hashes.add(paramsSha256(t.network()));
                Double lat = latency == null ? null : new LatencyCostModel(latency).cost(space, c.arch());
                finals.add(RowFactory.create(m, c.arch().id(), c.source(), c.supernetAccuracy(), t.evaluation().accuracy(), toList(t.perClassAccuracy()),
                        (long) t.evaluation().getNumRowCounter(), params.cost(space, c.arch()), flops.cost(space, c.arch()), lat, s.epochs(),
                        t.wallSeconds(), modelPath));
                RetrainCheckpoint.write(store, dir, ++number[0], new RetrainCheckpoint(m + 1, null, finals, confusion, metrics, hashes));
                LOG.info("retrain: model {}/{} {}: test accuracy {} on {} images (supernet accuracy {}), {} s", m + 1, candidates.size(),
                        c.arch().id(), String.format("%.4f", t.evaluation().accuracy()), (long) t.evaluation().getNumRowCounter(),
                        c.supernetAccuracy() == null ? "-" : String.format("%.4f", c.supernetAccuracy()), String.format("%.0f", t.wallSeconds()));
            }
            commit.putProperty("workers", String.valueOf(trainer.workers()));
        }
        SparkJobLabel.set(spark, RetrainOutputs.STAGE, "writing final_models, confusion and retrain_metrics");
        spark.createDataFrame(finals, RetrainOutputs.FINAL_SCHEMA).coalesce(1).write().parquet(commit.tableUri(RetrainOutputs.FINAL_MODELS));
        commit.addTable(RetrainOutputs.FINAL_MODELS, finals.size(), RetrainOutputs.SCHEMA_VERSION, List.of());
        spark.createDataFrame(confusion, RetrainOutputs.CONFUSION_SCHEMA).coalesce(1).write().parquet(commit.tableUri(RetrainOutputs.CONFUSION));
        commit.addTable(RetrainOutputs.CONFUSION, confusion.size(), RetrainOutputs.SCHEMA_VERSION, List.of());
        spark.createDataFrame(metrics, StandaloneTrainer.METRICS_SCHEMA).coalesce(1).write().parquet(commit.tableUri(RetrainOutputs.METRICS));
        commit.addTable(RetrainOutputs.METRICS, metrics.size(), RetrainOutputs.SCHEMA_VERSION, List.of());
        RetrainCheckpoint.publishModels(store, dir, commit.tableUri(RetrainOutputs.MODELS), spark.sparkContext().hadoopConfiguration());
        commit.putProperty("models", String.valueOf(candidates.size()));
        commit.putProperty("source", s.arch().isEmpty() ? s.source() : "--arch");
        commit.putProperty("space_hash", space.hash());
        commit.putProperty("models_sha256", sha256(String.join("\n", hashes).getBytes(StandardCharsets.UTF_8)));
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        store.deleteUnder(dir, "_checkpoint");
        return record;
    }

    /** sha256 of a network's parameters (BatchNorm statistics included) as little-endian floats. */
    static String paramsSha256(ComputationGraph g) {
        float[] f = g.params().dup().data().asFloat();
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return sha256(b.array());
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static List<Double> toList(double[] a) {
        List<Double> l = new ArrayList<>();
        for (double v : a) {
            l.add(v);
        }
        return l;
    }
}
