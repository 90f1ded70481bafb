package io.sparknas.jobs.supernet;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.NativeHeap;
import io.sparknas.jobs.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCheckpoints;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.sample.PathSampler;
import io.sparknas.supernet.sample.UniformPathSampler;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Layer;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;

/**
 * Stage supernet-train: trains the weight-sharing supernet of the configured search space on the train split with parameter
 * averaging over Spark tasks (SPOS single-path training, Guo et al.; PAD-NAS section 3.1 trains its stages the same way).
 *
 * <p>{@code nas.supernet.workers} replicas (never the machine's core count) train in each round: worker {@code w} holds the
 * train images whose id hashes to {@code w}, in id order ({@link ImageSplits}); the driver broadcasts the whole supernet
 * state, every worker trains its local copy for {@code nas.supernet.steps-per-round} minibatches with a path per minibatch
 * drawn from a generator seeded by (seed, epoch, worker, step), and returns the parts it trained; the driver sums them in
 * worker order and averages each part over the workers that trained it. So the same seed and config give the same
 * supernet on {@code local[1]}, {@code local[8]} or a cluster. A checkpoint at every epoch's end and at the first round
 * boundary after {@code nas.run.checkpoint-interval} lets {@code --resume} continue a killed run exactly
 * ({@link SupernetCheckpoint}). After training, random paths are evaluated on val with BatchNorm recalibrated
 * ({@link PathEvaluator}).
 *
 * <p>Outputs: {@code supernet} (per part: parameters and updater state), {@code train_metrics} (per round), {@code path_eval},
 * {@code space} (the layers and their candidate ops).
 */
public final class SupernetTrainStage {

    public static final String STAGE = "supernet-train";
    public static final String SUPERNET = "supernet";
    public static final String METRICS = "train_metrics";
    public static final String PATH_EVAL = "path_eval";
    public static final String SPACE = "space";
    public static final int SCHEMA_VERSION = 1;
    /** The stage whose {@code pruned_space} a fine-tuning stage trains (PAD-NAS). */
    public static final String PRUNE_STAGE = "prune";
    public static final String PRUNED_SPACE = "pruned_space";

    private static final Logger LOG = LoggerFactory.getLogger(SupernetTrainStage.class);

    static final StructType METRICS_SCHEMA = new StructType()
            .add("epoch", DataTypes.IntegerType, false).add("round", DataTypes.IntegerType, false)
            .add("steps", DataTypes.LongType, false).add("images", DataTypes.LongType, false)
            .add("loss", DataTypes.DoubleType, false).add("train_accuracy", DataTypes.DoubleType, false)
            .add("learning_rate", DataTypes.DoubleType, false).add("seconds", DataTypes.DoubleType, false)
            .add("images_per_second", DataTypes.DoubleType, false).add("compute_seconds", DataTypes.DoubleType, false)
            .add("overhead_share", DataTypes.DoubleType, false);

    static final StructType PATH_EVAL_SCHEMA = new StructType()
            .add("arch", DataTypes.StringType, false).add("val_accuracy", DataTypes.DoubleType, false)
            .add("val_images", DataTypes.LongType, false).add("mflops", DataTypes.DoubleType, false)
            .add("mparams", DataTypes.DoubleType, false);

    private SupernetTrainStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(STAGE, args, Set.of(StageIndex.OPTION), false, SupernetSettings::from, SupernetTrainStage::run);
    }

    public static SupernetTrainResult run(SupernetSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        SearchSpace space = rs.space();
        List<StageRecord.Input> inputs = new ArrayList<>(List.of(rs.input(store)));
        Inherited inherited = null;
        int k = s.stageIndex().k();
        if (k >= 2) {
            // PAD-NAS stage k: the space pruned after search k-1, weights inherited from supernet-train k-1 (section 3.2)
            String pruneDir = StageIndex.dir(PRUNE_STAGE, k - 1);
            String prevDir = StageIndex.dir(STAGE, k - 1);
            StageRecord prune = store.committed(pruneDir).orElseThrow(() -> new InputDataException("supernet-train --stage-index " + k
                    + " fine-tunes the space pruned by prune --stage-index " + (k - 1) + ", but " + store.stageDir(pruneDir)
                    + " is not committed: run submit/prune.sh --stage-index " + (k - 1) + " first."));
            StageRecord prev = store.committed(prevDir).orElseThrow(() -> new InputDataException("supernet-train --stage-index " + k
                    + " inherits the weights of " + store.stageDir(prevDir) + ", which is not committed."));
            space = SpaceTable.read(spark, store.tableUri(pruneDir, PRUNED_SPACE), space);
            inputs.add(new StageRecord.Input(pruneDir, store.stageDir(pruneDir).toString(), prune.fingerprint()));
            inputs.add(new StageRecord.Input(prevDir, store.stageDir(prevDir).toString(), prev.fingerprint()));
            inherited = new Inherited(prevDir, store.tableUri(prevDir, SUPERNET));
        }
        StageCommit commit = StageCommit.begin(store, s.run(), STAGE, s.stageIndex().dirIndex(),
                NasConfig.hash(s.run().config(), s.sections()), s.seed(), inputs);
        if (commit.skipped()) {
            return SupernetTrainResult.read(spark, store, commit.existing(), true);
        }
        try {
            StageRecord record = train(s, spark, store, commit, space, inherited);
            return SupernetTrainResult.read(spark, store, record, false);
        } catch (RuntimeException e) {
            LOG.error("supernet-train failed; its checkpoints (if any) stay at {}: re-run with --resume to continue from the last "
                    + "completed epoch, or --force to start over", store.stageDir(commit.stageDir()));
            throw e;
        }
    }

    /** Where a fine-tuning stage's starting weights come from. */
    private record Inherited(String stageDir, String supernetUri) {
    }

    private static StageRecord train(SupernetSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space,
                                     Inherited inherited) {
        int epochs = s.stageEpochs();
        int workers = s.workers();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // worker w trains on partition w: the images whose id hashes to w, in id order, on every run and cluster
        JavaRDD<Sample> train = ImageSplits.sharded(spark, store, "train", workers, 0, 0).persist(StorageLevel.MEMORY_AND_DISK());
        train.setName("supernet-train: train split in " + workers + " worker shards");
        List<Long> sizes = train.mapPartitions(it -> {
            long c = 0;
            while (it.hasNext()) {
                it.next();
                c++;
            }
            return List.of(c).iterator();
        }).collect();
        long minSize = sizes.stream().mapToLong(Long::longValue).min().orElse(0);
        int stepsPerEpoch = (int) (minSize / s.batchSize());
        if (stepsPerEpoch < 1) {
            throw new InputDataException("The smallest of the " + workers + " worker shards of the train split has " + minSize
                    + " images but nas.supernet.batch-size is " + s.batchSize() + ": lower nas.supernet.batch-size or nas.supernet.workers.");
        }
        int roundsPerEpoch = (stepsPerEpoch + s.stepsPerRound() - 1) / s.stepsPerRound();
        OptimizerSettings opt = new OptimizerSettings(s.stageLearningRate(), s.momentum(), s.weightDecay(), s.schedule(),
                epochs * stepsPerEpoch, s.stageWarmupEpochs() * stepsPerEpoch, s.labelSmoothing());
        PathSampler sampler = sampler(s.sampler());

        int startEpoch = 0;
        int startRound = 0;
        SupernetState state;
        List<Row> metrics = new ArrayList<>();
        String dir = commit.stageDir();
        StageCheckpoints checkpoints = new StageCheckpoints(store, dir);
        Optional<SupernetCheckpoint> cp = commit.resuming() ? SupernetCheckpoint.latest(spark, checkpoints) : Optional.empty();
        if (cp.isPresent()) {
            startEpoch = cp.get().epoch();
            startRound = cp.get().roundsDone();
            if (startRound >= roundsPerEpoch) {
                startEpoch++;
                startRound = 0;
            }
            state = cp.get().state();
            metrics.addAll(cp.get().metrics());
            LOG.info("supernet-train: resuming at epoch {} round {} ({} of {} epochs done)", startEpoch + 1, startRound + 1, startEpoch, epochs);
        } else if (inherited != null) {
            state = StateTable.read(spark, inherited.supernetUri()).retainedFor(new Supernet(space, opt, s.seed(), s.init()));
            LOG.info("supernet-train: stage {} starts from the weights of {} ({} parts kept)", s.stageIndex().k(), inherited.stageDir(),
                    state.params().size());
        } else {
            state = SupernetState.capture(new Supernet(space, opt, s.seed(), s.init()));
        }
        commit.markCheckpoints();
        LOG.info("supernet-train: space {} ({} layers, 10^{} architectures, hash {}), {} parameters in all parts; {} workers x {} steps of {} "
                        + "per epoch in {} rounds (effective batch {}); {} epochs; checkpoint every {} s of training and at every epoch's end",
                space.family(), space.size(), String.format("%.1f", space.log10Size()), space.hash(), state.numParams(), workers, stepsPerEpoch,
                s.batchSize(), roundsPerEpoch, workers * s.batchSize(), epochs, s.run().checkpointInterval().toSeconds());

        long trainStart = System.nanoTime();
        long lastCheckpoint = System.nanoTime();
        int roundsThisAttempt = 0;
        for (int e = startEpoch; e < epochs; e++) {
            for (int r = (e == startEpoch ? startRound : 0); r < roundsPerEpoch; r++) {
                int first = r * s.stepsPerRound();
                int steps = Math.min(s.stepsPerRound(), stepsPerEpoch - first);
                long tr = System.nanoTime();
                Broadcast<SupernetState> b = jsc.broadcast(state);
                jsc.setJobGroup("supernet-train", String.format("supernet-train epoch %d/%d round %d/%d", e + 1, epochs, r + 1, roundsPerEpoch));
                // collected in partition (worker) order and summed in that order: the same float additions on any cluster
                List<RoundResult> parts = train.mapPartitionsWithIndex(new RoundTask(b, space, opt, sampler, s.augmenter(), s.seed(), e, first,
                        steps, stepsPerEpoch, s.batchSize()), false).collect();
                RoundResult rr = parts.get(0);
                for (int w = 1; w < parts.size(); w++) {
                    rr = rr.merge(parts.get(w));
                }
                state = state.averageInto(rr.sum());
                b.destroy();
                double wall = (System.nanoTime() - tr) / 1e9;
                double lr = opt.learningRateAt(e * stepsPerEpoch + first);
                metrics.add(RowFactory.create(e + 1, r + 1, rr.steps(), rr.images(), rr.lossSum() / rr.steps(), (double) rr.correct() / rr.images(),
                        lr, wall, rr.images() / wall, rr.computeSeconds(), Math.max(0, 1 - rr.computeSeconds() / wall)));
                roundsThisAttempt++;
                boolean epochEnd = r == roundsPerEpoch - 1;
                if (epochEnd || System.nanoTime() - lastCheckpoint >= s.run().checkpointInterval().toNanos()) {
                    SupernetCheckpoint.write(spark, checkpoints, (long) e * roundsPerEpoch + r + 1, e, r + 1, state, metrics);
                    lastCheckpoint = System.nanoTime();
                }
            }
            logEpoch(e, epochs, metrics, (System.nanoTime() - trainStart) / 1e9 / roundsThisAttempt
                    * ((long) (epochs - e - 1) * roundsPerEpoch));
        }

        List<Arch> paths = new ArrayList<>();
        Random rnd = new Random(RoundTask.mix(s.seed(), 77, 0, 0));
        for (int i = 0; i < s.evalPaths(); i++) {
            paths.add(sampler.sample(space, rnd));
        }
        List<Row> evalRows = evaluate(spark, store, space, opt, state, paths, s, workers);

        StateTable.write(spark, state, commit.tableUri(SUPERNET));
        commit.addTable(SUPERNET, state.params().size(), SCHEMA_VERSION, List.of());
        spark.createDataFrame(metrics, METRICS_SCHEMA).coalesce(1).write().parquet(commit.tableUri(METRICS));
        commit.addTable(METRICS, metrics.size(), SCHEMA_VERSION, List.of());
        spark.createDataFrame(evalRows, PATH_EVAL_SCHEMA).coalesce(1).write().parquet(commit.tableUri(PATH_EVAL));
        commit.addTable(PATH_EVAL, evalRows.size(), SCHEMA_VERSION, List.of());
        int spaceRows = SpaceTable.write(spark, space, commit.tableUri(SPACE));
        commit.addTable(SPACE, spaceRows, SCHEMA_VERSION, List.of());
        commit.putProperty("space_hash", space.hash());
        commit.putProperty("space_family", space.family());
        commit.putProperty("space_log10_size", String.format("%.3f", space.log10Size()));
        commit.putProperty("resolution", String.valueOf(space.resolution()));
        commit.putProperty("in_channels", String.valueOf(space.inChannels()));
        commit.putProperty("classes", String.valueOf(space.classes()));
        commit.putProperty("width", String.valueOf(s.space().width()));
        commit.putProperty("stem_stride", String.valueOf(space.stemStride()));
        commit.putProperty("sampler", sampler.name());
        commit.putProperty("init", s.init().name().toLowerCase(java.util.Locale.ROOT));
        commit.putProperty("stage_index", String.valueOf(s.stageIndex().k()));
        commit.putProperty("inherited_from", inherited == null ? "" : inherited.stageDir());
        commit.putProperty("num_params", String.valueOf(state.numParams()));
        // equal digests on two runs: bitwise equal supernets (local[1] vs a cluster, resumed vs uninterrupted)
        commit.putProperty("state_sha256", state.sha256());
        LOG.info("supernet-train: trained supernet state sha256 {}", state.sha256());
        commit.putProperty("steps_per_epoch", String.valueOf(stepsPerEpoch));
        commit.putProperty("workers", String.valueOf(workers));
        commit.putProperty("effective_batch", String.valueOf(workers * s.batchSize()));
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        store.deleteUnder(dir, "_checkpoint");
        train.unpersist();
        return record;
    }

    /** The path sampler named by {@code nas.supernet.sampler}. */
    static PathSampler sampler(String name) {
        return switch (name) {
            case "uniform" -> new UniformPathSampler();
            default -> throw new IllegalArgumentException("unknown sampler " + name);
        };
    }

    /** The epoch's log line, from its rounds' metrics (also those done before a resume). */
    private static void logEpoch(int e, int epochs, List<Row> metrics, double etaSeconds) {
        double loss = 0;
        long steps = 0;
        long correct = 0;
        long images = 0;
        double wall = 0;
        double compute = 0;
        for (Row m : metrics) {
            if (m.getInt(0) == e + 1) {
                long st = m.getLong(2);
                long im = m.getLong(3);
                loss += m.getDouble(4) * st;
                steps += st;
                correct += Math.round(m.getDouble(5) * im);
                images += im;
                wall += m.getDouble(7);
                compute += m.getDouble(9);
            }
        }
        LOG.info("supernet-train: epoch {}/{}: loss {}, train accuracy {}, {} images/s, {}% of the epoch outside task compute, "
                        + "driver resident {} GB, ETA {} s",
                e + 1, epochs, String.format("%.4f", loss / steps), String.format("%.3f", (double) correct / images),
                String.format("%.1f", images / wall), String.format("%.1f", 100 * Math.max(0, 1 - compute / wall)),
                String.format("%.2f", NativeHeap.residentBytes() / 1e9), String.format("%.0f", etaSeconds));
    }

    private static List<Row> evaluate(SparkSession spark, RunStore store, SearchSpace space, OptimizerSettings opt,
                                      SupernetState state, List<Arch> paths, SupernetSettings s, int tasks) {
        List<Row> rows = new ArrayList<>();
        if (paths.isEmpty()) {
            return rows;
        }
        long t0 = System.nanoTime();
        double[] acc;
        long images;
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), 0, tasks)) {
            acc = evaluator.accuracy(paths);
            images = evaluator.valImages();
        }
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
