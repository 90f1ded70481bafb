package io.sparknas.jobs.supernet;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.artifact.ArchParamsTable;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.data.ImageTable;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCheckpoints;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.search.strategy.RoundPlan;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.search.strategy.TrainingStrategy.Phase;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * One supernet-train stage's training, as named steps ({@link #run}): the data views, the epochs' steps and the
 * learning-rate schedule, the starting state (a checkpoint to resume, another run's DSO-NAS pre-training, PAD-NAS's
 * inherited weights, or a fresh supernet), the epochs of rounds the strategy plans, the evaluation of paths, and the
 * commit of the tables and properties. {@link SupernetTrainStage} reads the inputs and decides to train; this class
 * trains. The rules the loop keeps for every strategy are in docs/architecture.md.
 */
final class SupernetTraining {

    private static final Logger LOG = LoggerFactory.getLogger(SupernetTraining.class);
    /** A progress line at most this often within an epoch. */
    private static final long PROGRESS_INTERVAL_NANOS = 60_000_000_000L;

    /** Where a fine-tuning stage's starting weights come from. */
    record Inherited(String stageDir, String supernetUri) {
    }

    private final SupernetSettings s;
    private final SparkSession spark;
    private final JavaSparkContext jsc;
    private final RunStore store;
    private final StageCommit commit;
    private final SearchSpace space;
    private final Inherited inherited;
    private final TrainingStrategy strategy;
    private final Optional<DsoNasPretraining.Source> pretrained;
    private final String ingestFingerprint;
    private final int epochs;
    private final int workers;
    private final int batch;
    private final StageCheckpoints checkpoints;
    /** Where a DSO-NAS run keeps the end of its pre-training for other runs. */
    private final StageCheckpoints kept;
    private final int pretrainEpochs;

    // the data: the splits' bucket files, and one task per worker
    private ImageTable train;
    private ImageTable val;
    private JavaRDD<Integer> workerTasks;
    // the epochs' steps and the schedule
    private EpochSteps epochSteps;
    private int[] weightSteps;
    private int[] archSteps;
    private int[] iterationBase;
    private OptimizerSettings opt;
    // the state, advanced by every round
    private SupernetState state;
    private final List<Row> metrics = new ArrayList<>();
    private final List<Row> archParams = new ArrayList<>();
    private int startEpoch;
    private int startRound;
    private int trainedEpochs;
    private SupernetEvaluation evaluation;

    SupernetTraining(SupernetSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space, Inherited inherited,
                     TrainingStrategy strategy, Optional<DsoNasPretraining.Source> pretrained, String ingestFingerprint) {
        this.s = s;
        this.spark = spark;
        this.jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        this.store = store;
        this.commit = commit;
        this.space = space;
        this.inherited = inherited;
        this.strategy = strategy;
        this.pretrained = pretrained;
        this.ingestFingerprint = ingestFingerprint;
        this.epochs = strategy.epochs();
        this.workers = s.workers();
        this.batch = s.batchSize();
        this.checkpoints = new StageCheckpoints(store, commit.stageDir());
        this.kept = new StageCheckpoints(store, commit.stageDir(), DsoNasPretraining.DIR);
        this.pretrainEpochs = DsoNasPretraining.epochs(s);
        this.trainedEpochs = epochs;
    }

    /** Trains and commits the stage. */
    StageRecord run() {
        shardData();
        planEpochs();
        startState();
        logStart();
        trainEpochs();
        List<Row> pathRows;
        try (SupernetEvaluation ev = evaluation()) {
            pathRows = ev.pathEval(state, SupernetEvaluation.paths(s, strategy));
        }
        writeTables(pathRows);
        recordProperties();
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        store.deleteUnder(commit.stageDir(), "_checkpoint");
        return record;
    }

    /**
     * Worker w trains on the buckets {@code b mod workers = w} of train (read by its round tasks straight from their files,
     * {@link io.sparknas.jobs.data.BlockOrder}); val the same way when an epoch has architecture steps on it. Nothing is
     * shuffled or cached: a round reads the blocks it uses.
     */
    private void shardData() {
        train = ImageTable.open(spark, store, "train");
        train.checkWorkers(workers, "nas.supernet.workers");
        boolean anyValSteps = false;
        for (int e = 0; e < epochs; e++) {
            TrainingStrategy.EpochPlan p = strategy.epochPlan(e);
            anyValSteps |= p.architectureSteps() && p.architectureSplit().equals("val");
        }
        if (anyValSteps) {
            val = ImageTable.open(spark, store, "val");
            val.checkWorkers(workers, "nas.supernet.workers");
        }
        workerTasks = jsc.parallelize(IntStream.range(0, workers).boxed().toList(), workers);
        workerTasks.setName("supernet-train: " + workers + " workers (each reads its own bucket files)");
    }

    /**
     * The steps of every epoch (a strategy's schedule is fixed up front, so the counts follow from the smallest worker's images
     * in each epoch's view), where each epoch starts in the learning-rate schedule, and the optimiser's settings.
     */
    private void planEpochs() {
        long[][][] trainCounts = DataViews.classCounts(spark, store, "train", workers, space.classes());
        long[][][] valCounts = val == null ? null : DataViews.classCounts(spark, store, "val", workers, space.classes());
        EpochSteps epochSteps = EpochSteps.of(strategy, space.classes(), workers, batch, trainCounts, valCounts, s.maxStepsPerEpoch());
        this.epochSteps = epochSteps;
        weightSteps = epochSteps.weight();
        archSteps = epochSteps.architecture();
        iterationBase = epochSteps.iterationBase();
        strategy.trainingShape(workers, weightSteps);
        opt = new OptimizerSettings(s.stageLearningRate(), s.momentum(), s.weightDecay(), s.schedule(),
                iterationBase[epochs], iterationBase[Math.min(epochs, s.stageWarmupEpochs())], s.labelSmoothing());
    }

    /**
     * The state training starts from: the last checkpoint when resuming; else another run's DSO-NAS pre-training
     * ({@code nas.dsonas.pretrained-run}); else the weights of the previous PAD-NAS stage; else a fresh supernet.
     */
    private void startState() {
        Optional<SupernetCheckpoint> cp = commit.resuming() ? SupernetCheckpoint.latest(spark, checkpoints) : Optional.empty();
        boolean resumed = cp.isPresent();
        if (cp.isEmpty() && pretrained.isPresent()) {
            cp = Optional.of(fromPretraining(pretrained.get()));
        }
        if (cp.isPresent()) {
            startEpoch = cp.get().epoch();
            startRound = cp.get().roundsDone();
            if (startRound >= weightRounds(startEpoch) + archRounds(strategy.epochPlan(startEpoch), archSteps[startEpoch])) {
                startEpoch++;
                startRound = 0;
            }
            state = cp.get().state();
            strategy.restore(cp.get().strategyState());
            metrics.addAll(cp.get().metrics());
            archParams.addAll(cp.get().archParams());
            if (resumed) {
                LOG.info("supernet-train: resuming at epoch {} round {} ({} of {} epochs done)", startEpoch + 1, startRound + 1, startEpoch, epochs);
                commit.putProperty("resumed_at", "epoch " + (startEpoch + 1) + " round " + (startRound + 1));
            }
        } else if (inherited != null) {
            state = StateTable.read(spark, inherited.supernetUri()).retainedFor(new Supernet(space, opt, s.seed(), s.init()));
            LOG.info("supernet-train: stage {} starts from the weights of {} ({} parts kept)", s.stageIndex().k(), inherited.stageDir(),
                    state.params().size());
        } else {
            state = SupernetState.capture(new Supernet(space, opt, s.seed(), s.init()));
        }
        commit.markCheckpoints();
        if (startEpoch > 0 && strategy.converged()) {
            // the checkpoint is the epoch at whose end the strategy converged: nothing left to train
            trainedEpochs = startEpoch;
            startEpoch = epochs;
        }
    }

    /**
     * Another run's pre-training as this run's starting checkpoint: its weights, rounds and metrics, and this run's own
     * arch_params rows of the pre-training epochs (they show this run's gamma).
     */
    private SupernetCheckpoint fromPretraining(DsoNasPretraining.Source source) {
        SupernetCheckpoint p = source.checkpoint();
        if (p.epoch() != pretrainEpochs - 1 || p.roundsDone() < weightRounds(p.epoch())) {
            throw new InputDataException("nas.dsonas.pretrained-run = \"" + source.runId() + "\": its kept checkpoint is at epoch "
                    + (p.epoch() + 1) + " after " + p.roundsDone() + " rounds, not at the end of pre-training epoch " + pretrainEpochs
                    + ": re-run that run's supernet-train with --force.");
        }
        List<Row> rows = new ArrayList<>();
        for (int e = 0; e < pretrainEpochs; e++) {
            for (TrainingStrategy.ArchParam a : strategy.endEpoch(e)) {
                rows.add(ArchParamsTable.row(strategy.method(), a));
            }
        }
        LOG.info("supernet-train: DSO-NAS starts its search from the pre-training of run {} ({} epochs, kept at {}), as nas.dsonas.pretrained-run says",
                source.runId(), pretrainEpochs, source.input().uri());
        return new SupernetCheckpoint(p.epoch(), p.roundsDone(), p.state(), p.metrics(), strategy.state(), rows);
    }

    /** The stage's evaluation, built at its first use (the data it reads is read once per stage). */
    private SupernetEvaluation evaluation() {
        if (evaluation == null) {
            evaluation = new SupernetEvaluation(s, spark, store, space, opt, strategy.method(), epochs, workers);
        }
        return evaluation;
    }

    private void logStart() {
        LOG.info("supernet-train: method {}, space {} ({} layers, 10^{} architectures, hash {}), {} parameters in all parts; {} workers x batch {} "
                        + "(effective batch {}), {} steps per round; {} epochs, {} weight steps in all; checkpoint every {} s of training and at every epoch's end",
                strategy.method(), space.family(), space.size(), String.format("%.1f", space.log10Size()), space.hash(), state.numParams(), workers,
                batch, workers * batch, s.stepsPerRound(), epochs, iterationBase[epochs], s.run().checkpointInterval().toSeconds());
    }

    /** The epochs from the starting point on, each its rounds in {@link RoundOrder}; ends early once the strategy converges. */
    private void trainEpochs() {
        long trainStart = System.nanoTime();
        long lastCheckpoint = System.nanoTime();
        long lastProgress = System.nanoTime();
        long roundNumber = 0;
        for (int e = 0; e < Math.min(startEpoch, epochs); e++) {
            roundNumber += weightRounds(e) + archRounds(strategy.epochPlan(e), archSteps[e]);
        }
        roundNumber += startRound;
        int roundsThisAttempt = 0;
        for (int e = startEpoch; e < epochs; e++) {
            TrainingStrategy.EpochPlan plan = strategy.epochPlan(e);
            RoundTask.View weightView = DataViews.weightView(plan, space.classes());
            RoundTask.View archView = DataViews.architectureView(plan, space.classes());
            ImageTable archData = plan.architectureSplit().equals("val") ? val : train;
            int wr = weightRounds(e);
            int ar = archRounds(plan, archSteps[e]);
            RoundOrder order = new RoundOrder(wr, ar, plan.interleaved());
            int total = order.rounds();
            RoundPlan weightPlan = strategy.plan(e, Phase.WEIGHTS);
            for (int r = (e == startEpoch ? startRound : 0); r < total; r++) {
                boolean arch = order.architecture(r);
                int perRound = arch && plan.interleaved() ? 1 : s.stepsPerRound();
                int first = order.index(r) * perRound;
                int steps = Math.min(perRound, archSteps[e] - first);
                if (!arch) {
                    int[] w = epochSteps.weightRound(e, order.index(r), perRound);
                    first = w[0];
                    steps = w[1];
                }
                // interleaved: the weight rounds after an architecture round use the parameters it updated
                if (plan.interleaved() && !arch && r > 0 && order.architecture(r - 1)) {
                    weightPlan = strategy.plan(e, Phase.WEIGHTS);
                }
                RoundTask.Round round = new RoundTask.Round(arch ? Phase.ARCHITECTURE : Phase.WEIGHTS, arch ? strategy.plan(e, Phase.ARCHITECTURE) : weightPlan,
                        arch ? archData : train, arch ? archView : weightView, e, first, steps, iterationBase[e], batch);
                String label = String.format("supernet-train %s: epoch %d/%d (%s), %s round %d/%d", strategy.method(), e + 1, epochs,
                        plan.label(), arch ? "architecture" : "weight", order.index(r) + 1, arch ? ar : wr);
                long tr = System.nanoTime();
                RoundResult rr = trainRound(round, label);
                double wall = (System.nanoTime() - tr) / 1e9;
                metrics.add(TrainMetrics.row(e, r, rr, opt.learningRateAt(iterationBase[e] + first), wall, arch, plan));
                roundsThisAttempt++;
                roundNumber++;
                boolean epochEnd = r == total - 1;
                if (!epochEnd && System.nanoTime() - lastProgress >= PROGRESS_INTERVAL_NANOS) {
                    // long epochs (the weighted strategies on a large data set) say how far they are between epoch lines
                    LOG.info("supernet-train: epoch {}/{}, round {}/{} ({} round): loss {}, {} images/s", e + 1, epochs, r + 1, total,
                            arch ? "architecture" : "weight", String.format("%.4f", rr.lossSum() / rr.steps()), String.format("%.1f", rr.images() / wall));
                    lastProgress = System.nanoTime();
                }
                if (epochEnd) {
                    endEpoch(e, r + 1);
                }
                if (epochEnd || System.nanoTime() - lastCheckpoint >= s.run().checkpointInterval().toNanos()) {
                    long tc = System.nanoTime();
                    SupernetCheckpoint.write(spark, checkpoints, roundNumber, e, r + 1, state, metrics, strategy.state(), archParams);
                    LOG.info("supernet-train: checkpoint after round {} written in {} s ({} parameters)", roundNumber,
                            String.format("%.2f", (System.nanoTime() - tc) / 1e9), state.numParams());
                    lastCheckpoint = System.nanoTime();
                }
            }
            long roundsLeft = 0;
            for (int k = e + 1; k < epochs; k++) {
                roundsLeft += weightRounds(k) + archRounds(strategy.epochPlan(k), archSteps[k]);
            }
            TrainMetrics.logEpoch(e, epochs, plan.label(), metrics, (System.nanoTime() - trainStart) / 1e9 / Math.max(1, roundsThisAttempt) * roundsLeft);
            String summary = strategy.epochSummary();
            if (!summary.isEmpty()) {
                LOG.info("supernet-train: {} after epoch {}: {}", strategy.method(), e + 1, summary);
            }
            if (strategy.converged() && e < epochs - 1) {
                LOG.info("supernet-train: {} converged after epoch {} of at most {}: training ends here", strategy.method(), e + 1, epochs);
                trainedEpochs = e + 1;
                break;
            }
        }
    }

    /**
     * One round on the executors: the state broadcast, every worker's steps on its shard, the results summed in a fixed
     * binary tree over the worker indices ({@link RoundSum}: the same float additions on any cluster, on the driver or on
     * the executors); a weight round averages the supernet, an architecture round hands the summed gradient to the strategy.
     */
    private RoundResult trainRound(RoundTask.Round round, String label) {
        Broadcast<SupernetState> b = jsc.broadcast(state);
        jsc.setJobGroup("supernet-train", label);
        JavaRDD<RoundResult> perWorker = workerTasks.mapPartitionsWithIndex(new RoundTask(b, space, opt, s.augmenter(), s.seed(), workers,
                s.blockImages(), round), false);
        // a weight round returns each worker's trained parts (parameters and updater state, 4 bytes each); an architecture
        // round a gradient of a few numbers per candidate, never worth a shuffle
        long resultBytes = round.phase() == Phase.WEIGHTS ? 8L * state.numParams() : 0;
        RoundResult rr = RoundSum.choose(s.combine(), workers, resultBytes, s.combineLimitBytes()) == RoundSum.Where.EXECUTORS
                ? RoundSum.onExecutors(perWorker, workers) : RoundSum.onDriver(perWorker.collect());
        if (round.phase() == Phase.ARCHITECTURE) {
            strategy.observe(round.epoch(), rr.gradient(), rr.steps());
        } else {
            state = state.averageInto(rr.sum());
        }
        b.destroy();
        return rr;
    }

    /**
     * An epoch's end: the strategy's architectures evaluated on val when it asks (DDPNAS Eq. 2), its parameters and pruning
     * as arch_params rows, and a DSO-NAS run's pre-training kept (before the checkpoint of this epoch's end, so a resume from
     * that checkpoint finds it kept).
     */
    private void endEpoch(int e, int roundsDone) {
        List<Arch> sampled = strategy.evaluations(e);
        if (!sampled.isEmpty()) {
            strategy.observeEvaluations(e, evaluation().ofEpoch(state, sampled, e));
        }
        for (TrainingStrategy.ArchParam p : strategy.endEpoch(e)) {
            archParams.add(ArchParamsTable.row(strategy.method(), p));
        }
        if (e == pretrainEpochs - 1) {
            DsoNasPretraining.keep(spark, kept, e, roundsDone, state, metrics, strategy.state(), archParams);
        }
    }

    /** The stage's tables: supernet, train_metrics, path_eval, space, arch_params. */
    private void writeTables(List<Row> pathRows) {
        int version = SupernetTrainOutputs.SCHEMA_VERSION;
        StateTable.write(spark, state, commit.tableUri(SupernetTrainOutputs.SUPERNET));
        commit.addTable(SupernetTrainOutputs.SUPERNET, state.params().size(), version, List.of());
        spark.createDataFrame(metrics, SupernetTrainOutputs.METRICS_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SupernetTrainOutputs.METRICS));
        commit.addTable(SupernetTrainOutputs.METRICS, metrics.size(), version, List.of());
        spark.createDataFrame(pathRows, SupernetTrainOutputs.PATH_EVAL_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SupernetTrainOutputs.PATH_EVAL));
        commit.addTable(SupernetTrainOutputs.PATH_EVAL, pathRows.size(), version, List.of());
        int spaceRows = SpaceTable.write(spark, space, commit.tableUri(SupernetTrainOutputs.SPACE));
        commit.addTable(SupernetTrainOutputs.SPACE, spaceRows, version, List.of());
        ArchParamsTable.write(spark, archParams, commit.tableUri(ArchParamsTable.TABLE));
        commit.addTable(ArchParamsTable.TABLE, archParams.size(), version, List.of());
    }

    /** The stage record's properties: the method and its state, the space, the schedule, and the supernet's digest. */
    private void recordProperties() {
        commit.putProperty("method", strategy.method());
        commit.putProperty("strategy_state", strategy.state());
        strategy.readOff().ifPresent(a -> commit.putProperty("read_off", a.id()));
        commit.putProperty("space_hash", space.hash());
        commit.putProperty("space_family", space.family());
        commit.putProperty("space_log10_size", String.format("%.3f", space.log10Size()));
        commit.putProperty("resolution", String.valueOf(space.resolution()));
        commit.putProperty("in_channels", String.valueOf(space.inChannels()));
        commit.putProperty("classes", String.valueOf(space.classes()));
        commit.putProperty("width", String.valueOf(s.space().width()));
        commit.putProperty("stem_stride", String.valueOf(space.stemStride()));
        commit.putProperty("sampler", s.pathSampler().name());
        commit.putProperty("init", s.init().name().toLowerCase(Locale.ROOT));
        commit.putProperty("stage_index", String.valueOf(s.stageIndex().k()));
        commit.putProperty("inherited_from", inherited == null ? "" : inherited.stageDir());
        commit.putProperty("num_params", String.valueOf(state.numParams()));
        // equal digests on two runs: bitwise equal supernets (local[1] vs a cluster, resumed vs uninterrupted)
        commit.putProperty("state_sha256", state.sha256());
        LOG.info("supernet-train: trained supernet state sha256 {}", state.sha256());
        commit.putProperty("steps_per_epoch", String.valueOf(weightSteps[epochs - 1]));
        commit.putProperty("weight_steps", String.valueOf(iterationBase[epochs]));
        commit.putProperty("workers", String.valueOf(workers));
        commit.putProperty("epochs_trained", String.valueOf(trainedEpochs));
        commit.putProperty("effective_batch", String.valueOf(workers * batch));
        if (pretrainEpochs > 0 && kept.latest().isPresent()) {
            commit.putProperty(DsoNasPretraining.FINGERPRINT, DsoNasPretraining.fingerprint(s.run().config(), ingestFingerprint));
        }
        if (pretrainEpochs > 0) {
            commit.putProperty(DsoNasPretraining.FROM, pretrained.map(DsoNasPretraining.Source::runId).orElse(""));
        }
    }

    private int rounds(int steps) {
        return (steps + s.stepsPerRound() - 1) / s.stepsPerRound();
    }

    /** Weight rounds of epoch e (each pass of the epoch in rounds of up to nas.supernet.steps-per-round steps). */
    private int weightRounds(int e) {
        return epochSteps.weightRounds(e, s.stepsPerRound());
    }

    /** Architecture rounds of an epoch: of one step each when interleaved (a parameter update per minibatch), else as weight rounds. */
    private int archRounds(TrainingStrategy.EpochPlan plan, int steps) {
        return plan.interleaved() ? steps : rounds(steps);
    }


}
