package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.PruneOutputs;
import io.sparknas.jobs.artifact.ArchParamsTable;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.jobs.artifact.Sample;
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
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.DdpnasStrategy;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.search.strategy.RoundPlan;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.search.strategy.TrainingStrategy.Phase;
import io.sparknas.search.strategy.UniformSampling;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
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
 * averaging over Spark tasks, as the run's method's {@link TrainingStrategy} plans it ({@link StrategySelection}): SPOS
 * single-path training (Guo et al.; PAD-NAS section 3.1 trains its stages the same way), DA-NAS (class schedule,
 * Gumbel-softmax weighted steps, architecture rounds on val, pruning; {@link DaNasStrategy}), DDPNAS ({@link DdpnasStrategy})
 * or DSO-NAS (lambda-scaled branches, lambda rounds on D_lambda interleaved with weight rounds on D_w, training ends when
 * the strategy converges; {@link DsoNasStrategy}). docs/strategies.md describes the seam.
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
 * <p>Outputs: {@code supernet} (per part: parameters and updater state), {@code train_metrics} (per round, weight and
 * architecture rounds), {@code path_eval}, {@code space} (the layers and their candidate ops), {@code arch_params} (the
 * strategy's parameters and pruning per epoch; empty for uniform sampling).
 */
public final class SupernetTrainStage {

    private static final Logger LOG = LoggerFactory.getLogger(SupernetTrainStage.class);

    private SupernetTrainStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(SupernetTrainOutputs.STAGE, args, Set.of(StageIndex.OPTION), false, SupernetSettings::from, SupernetTrainStage::run);
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
            String pruneDir = StageIndex.dir(PruneOutputs.STAGE, k - 1);
            String prevDir = StageIndex.dir(SupernetTrainOutputs.STAGE, k - 1);
            StageRecord prune = store.committed(pruneDir).orElseThrow(() -> new InputDataException("supernet-train --stage-index " + k
                    + " fine-tunes the space pruned by prune --stage-index " + (k - 1) + ", but " + store.stageDir(pruneDir)
                    + " is not committed: run submit/prune.sh --stage-index " + (k - 1) + " first."));
            StageRecord prev = store.committed(prevDir).orElseThrow(() -> new InputDataException("supernet-train --stage-index " + k
                    + " inherits the weights of " + store.stageDir(prevDir) + ", which is not committed."));
            space = SpaceTable.read(spark, store.tableUri(pruneDir, PruneOutputs.PRUNED_SPACE), space);
            inputs.add(new StageRecord.Input(pruneDir, store.stageDir(pruneDir).toString(), prune.fingerprint()));
            inputs.add(new StageRecord.Input(prevDir, store.stageDir(prevDir).toString(), prev.fingerprint()));
            inherited = new Inherited(prevDir, store.tableUri(prevDir, SupernetTrainOutputs.SUPERNET));
        }
        StrategySelection.Selected selected = StrategySelection.select(s, spark, store, space);
        inputs.addAll(selected.inputs());
        Optional<DsoNasPretraining.Source> pretrained = s.method().pretrains()
                ? DsoNasPretraining.source(s, spark, rs.ingest().fingerprint()) : Optional.empty();
        pretrained.ifPresent(p -> inputs.add(p.input()));
        StageCommit commit = StageCommit.begin(store, s.run(), SupernetTrainOutputs.STAGE, s.stageIndex().dirIndex(),
                NasConfig.hash(s.run().config(), s.sections()), s.seed(), inputs);
        if (commit.skipped()) {
            return SupernetTrainResult.read(spark, store, commit.existing(), true);
        }
        try {
            StageRecord record = train(s, spark, store, commit, space, inherited, selected.strategy(), pretrained, rs.ingest().fingerprint());
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
                                     Inherited inherited, TrainingStrategy strategy, Optional<DsoNasPretraining.Source> pretrained,
                                     String ingestFingerprint) {
        int epochs = strategy.epochs();
        int workers = s.workers();
        int batch = s.batchSize();
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // worker w trains on partition w: the images whose id hashes to w, in id order, on every run and cluster
        JavaRDD<Sample> train = ImageSplits.sharded(spark, store, "train", workers, 0, 0).persist(StorageLevel.MEMORY_AND_DISK());
        train.setName("supernet-train: train split in " + workers + " worker shards");
        long[][][] trainCounts = classCounts(train, space.classes());
        boolean anyValSteps = false;
        for (int e = 0; e < epochs; e++) {
            TrainingStrategy.EpochPlan p = strategy.epochPlan(e);
            anyValSteps |= p.architectureSteps() && p.architectureSplit().equals("val");
        }
        JavaRDD<Sample> val = null;
        long[][][] valCounts = null;
        if (anyValSteps) {
            val = ImageSplits.sharded(spark, store, "val", workers, 0, 0).persist(StorageLevel.MEMORY_AND_DISK());
            val.setName("supernet-train: val split in " + workers + " worker shards (architecture steps)");
            valCounts = classCounts(val, space.classes());
        }
        // steps of every epoch (a strategy's schedule is fixed up front), and where each epoch starts in the learning-rate schedule
        EpochSteps epochSteps = EpochSteps.of(strategy, space.classes(), workers, batch, trainCounts, valCounts);
        int[] weightSteps = epochSteps.weight();
        int[] archSteps = epochSteps.architecture();
        int[] iterationBase = epochSteps.iterationBase();
        strategy.trainingShape(workers, weightSteps);
        OptimizerSettings opt = new OptimizerSettings(s.stageLearningRate(), s.momentum(), s.weightDecay(), s.schedule(),
                iterationBase[epochs], iterationBase[Math.min(epochs, s.stageWarmupEpochs())], s.labelSmoothing());

        int startEpoch = 0;
        int startRound = 0;
        SupernetState state;
        List<Row> metrics = new ArrayList<>();
        List<Row> archParams = new ArrayList<>();
        String dir = commit.stageDir();
        StageCheckpoints checkpoints = new StageCheckpoints(store, dir);
        Optional<SupernetCheckpoint> cp = commit.resuming() ? SupernetCheckpoint.latest(spark, checkpoints) : Optional.empty();
        int pretrainEpochs = DsoNasPretraining.epochs(s);
        StageCheckpoints kept = new StageCheckpoints(store, dir, DsoNasPretraining.DIR);
        boolean resumed = cp.isPresent();
        if (cp.isEmpty() && pretrained.isPresent()) {
            SupernetCheckpoint p = pretrained.get().checkpoint();
            if (p.epoch() != pretrainEpochs - 1 || p.roundsDone() < rounds(weightSteps[p.epoch()], s)) {
                throw new InputDataException("nas.dsonas.pretrained-run = \"" + pretrained.get().runId() + "\": its kept checkpoint is at epoch "
                        + (p.epoch() + 1) + " after " + p.roundsDone() + " rounds, not at the end of pre-training epoch " + pretrainEpochs
                        + ": re-run that run's supernet-train with --force.");
            }
            // its weights and rounds; this run's own rows of the pre-training epochs (they show this run's gamma)
            List<Row> rows = new ArrayList<>();
            for (int e = 0; e < pretrainEpochs; e++) {
                for (TrainingStrategy.ArchParam a : strategy.endEpoch(e)) {
                    rows.add(ArchParamsTable.row(strategy.method(), a));
                }
            }
            cp = Optional.of(new SupernetCheckpoint(p.epoch(), p.roundsDone(), p.state(), p.metrics(), strategy.state(), rows));
            LOG.info("supernet-train: DSO-NAS starts its search from the pre-training of run {} ({} epochs, kept at {}), as nas.dsonas.pretrained-run says",
                    pretrained.get().runId(), pretrainEpochs, pretrained.get().input().uri());
        }
        if (cp.isPresent()) {
            startEpoch = cp.get().epoch();
            startRound = cp.get().roundsDone();
            if (startRound >= rounds(weightSteps[startEpoch], s) + archRounds(strategy.epochPlan(startEpoch), archSteps[startEpoch], s)) {
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
        LOG.info("supernet-train: method {}, space {} ({} layers, 10^{} architectures, hash {}), {} parameters in all parts; {} workers x batch {} "
                        + "(effective batch {}), {} steps per round; {} epochs, {} weight steps in all; checkpoint every {} s of training and at every epoch's end",
                strategy.method(), space.family(), space.size(), String.format("%.1f", space.log10Size()), space.hash(), state.numParams(), workers,
                batch, workers * batch, s.stepsPerRound(), epochs, iterationBase[epochs], s.run().checkpointInterval().toSeconds());

        long trainStart = System.nanoTime();
        long lastCheckpoint = System.nanoTime();
        long lastProgress = System.nanoTime();
        long roundNumber = 0;
        for (int e = 0; e < startEpoch; e++) {
            roundNumber += rounds(weightSteps[e], s) + archRounds(strategy.epochPlan(e), archSteps[e], s);
        }
        roundNumber += startRound;
        int roundsThisAttempt = 0;
        int trainedEpochs = epochs;
        if (startEpoch > 0 && strategy.converged()) {
            // the checkpoint is the epoch at whose end the strategy converged: nothing left to train
            trainedEpochs = startEpoch;
            startEpoch = epochs;
        }
        for (int e = startEpoch; e < epochs; e++) {
            TrainingStrategy.EpochPlan plan = strategy.epochPlan(e);
            RoundTask.View weightView = weightView(plan, space.classes());
            RoundTask.View archView = architectureView(plan, space.classes());
            JavaRDD<Sample> archData = plan.architectureSplit().equals("val") ? val : train;
            int wr = rounds(weightSteps[e], s);
            int ar = archRounds(strategy.epochPlan(e), archSteps[e], s);
            RoundOrder order = new RoundOrder(wr, ar, plan.interleaved());
            int total = order.rounds();
            RoundPlan weightPlan = strategy.plan(e, Phase.WEIGHTS);
            for (int r = (e == startEpoch ? startRound : 0); r < total; r++) {
                boolean arch = order.architecture(r);
                int perRound = arch && plan.interleaved() ? 1 : s.stepsPerRound();
                int first = order.index(r) * perRound;
                int steps = Math.min(perRound, (arch ? archSteps[e] : weightSteps[e]) - first);
                long tr = System.nanoTime();
                Broadcast<SupernetState> b = jsc.broadcast(state);
                jsc.setJobGroup("supernet-train", String.format("supernet-train %s: epoch %d/%d (%s), %s round %d/%d", strategy.method(), e + 1, epochs,
                        plan.label(), arch ? "architecture" : "weight", order.index(r) + 1, arch ? ar : wr));
                // interleaved: the weight rounds after an architecture round use the parameters it updated
                if (plan.interleaved() && !arch && r > 0 && order.architecture(r - 1)) {
                    weightPlan = strategy.plan(e, Phase.WEIGHTS);
                }
                RoundTask.Round round = new RoundTask.Round(arch ? Phase.ARCHITECTURE : Phase.WEIGHTS, arch ? strategy.plan(e, Phase.ARCHITECTURE) : weightPlan,
                        arch ? archView : weightView, e, first, steps, iterationBase[e], batch);
                // collected in partition (worker) order and summed in that order: the same float additions on any cluster
                List<RoundResult> parts = (arch ? archData : train).mapPartitionsWithIndex(new RoundTask(b, space, opt, s.augmenter(), s.seed(), round), false)
                        .collect();
                RoundResult rr = parts.get(0);
                for (int w = 1; w < parts.size(); w++) {
                    rr = rr.merge(parts.get(w));
                }
                if (arch) {
                    strategy.observe(e, rr.gradient(), rr.steps());
                } else {
                    state = state.averageInto(rr.sum());
                }
                b.destroy();
                double wall = (System.nanoTime() - tr) / 1e9;
                double lr = opt.learningRateAt(iterationBase[e] + first);
                metrics.add(RowFactory.create(e + 1, r + 1, rr.steps(), rr.images(), rr.lossSum() / rr.steps(), (double) rr.correct() / rr.images(),
                        lr, wall, rr.images() / wall, rr.computeSeconds(), Math.max(0, 1 - rr.computeSeconds() / wall),
                        arch ? "architecture" : "weights", plan.classes().length,
                        java.util.Arrays.stream(rr.classImages()).boxed().toList()));
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
                    List<Arch> sampled = strategy.evaluations(e);
                    if (!sampled.isEmpty()) {
                        strategy.observeEvaluations(e, evaluateEpoch(spark, store, space, opt, state, sampled, s, workers, e, epochs, strategy.method()));
                    }
                    for (TrainingStrategy.ArchParam p : strategy.endEpoch(e)) {
                        archParams.add(ArchParamsTable.row(strategy.method(), p));
                    }
                }
                if (epochEnd && e == pretrainEpochs - 1) {
                    // before the checkpoint of this epoch's end, so a resume from that checkpoint finds it kept
                    DsoNasPretraining.keep(spark, kept, e, r + 1, state, metrics, strategy.state(), archParams);
                }
                if (epochEnd || System.nanoTime() - lastCheckpoint >= s.run().checkpointInterval().toNanos()) {
                    SupernetCheckpoint.write(spark, checkpoints, roundNumber, e, r + 1, state, metrics, strategy.state(), archParams);
                    lastCheckpoint = System.nanoTime();
                }
            }
            long roundsLeft = 0;
            for (int k = e + 1; k < epochs; k++) {
                roundsLeft += rounds(weightSteps[k], s) + archRounds(strategy.epochPlan(k), archSteps[k], s);
            }
            logEpoch(e, epochs, plan.label(), metrics, (System.nanoTime() - trainStart) / 1e9 / Math.max(1, roundsThisAttempt) * roundsLeft);
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

        // the read-off first (DA-NAS), then random paths of the (live) space; a method's pruned space may hold fewer distinct
        // paths than nas.supernet.eval.paths, so its duplicates are skipped (uniform sampling keeps its draws as they come)
        List<Arch> paths = new ArrayList<>();
        strategy.readOff().ifPresent(paths::add);
        Random rnd = new Random(RoundTask.mix(s.seed(), 77, 0, 0));
        PathSampler sampler = sampler(s.sampler());
        boolean distinctOnly = !(strategy instanceof UniformSampling);
        for (int draw = 0; paths.size() < s.evalPaths() && draw < 20 * s.evalPaths(); draw++) {
            Arch a = sampler.sample(strategy.space(), rnd);
            if (!distinctOnly || !paths.contains(a)) {
                paths.add(a);
            }
        }
        List<Row> evalRows = evaluate(spark, store, space, opt, state, paths, s, workers);

        StateTable.write(spark, state, commit.tableUri(SupernetTrainOutputs.SUPERNET));
        commit.addTable(SupernetTrainOutputs.SUPERNET, state.params().size(), SupernetTrainOutputs.SCHEMA_VERSION, List.of());
        spark.createDataFrame(metrics, SupernetTrainOutputs.METRICS_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SupernetTrainOutputs.METRICS));
        commit.addTable(SupernetTrainOutputs.METRICS, metrics.size(), SupernetTrainOutputs.SCHEMA_VERSION, List.of());
        spark.createDataFrame(evalRows, SupernetTrainOutputs.PATH_EVAL_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SupernetTrainOutputs.PATH_EVAL));
        commit.addTable(SupernetTrainOutputs.PATH_EVAL, evalRows.size(), SupernetTrainOutputs.SCHEMA_VERSION, List.of());
        int spaceRows = SpaceTable.write(spark, space, commit.tableUri(SupernetTrainOutputs.SPACE));
        commit.addTable(SupernetTrainOutputs.SPACE, spaceRows, SupernetTrainOutputs.SCHEMA_VERSION, List.of());
        ArchParamsTable.write(spark, archParams, commit.tableUri(ArchParamsTable.TABLE));
        commit.addTable(ArchParamsTable.TABLE, archParams.size(), SupernetTrainOutputs.SCHEMA_VERSION, List.of());
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
        commit.putProperty("sampler", sampler.name());
        commit.putProperty("init", s.init().name().toLowerCase(java.util.Locale.ROOT));
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
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        store.deleteUnder(dir, "_checkpoint");
        train.unpersist();
        if (val != null) {
            val.unpersist();
        }
        return record;
    }

    private static int rounds(int steps, SupernetSettings s) {
        return (steps + s.stepsPerRound() - 1) / s.stepsPerRound();
    }

    /** Architecture rounds of an epoch: of one step each when interleaved (a parameter update per minibatch), else as weight rounds. */
    private static int archRounds(TrainingStrategy.EpochPlan plan, int steps, SupernetSettings s) {
        return plan.interleaved() ? steps : rounds(steps, s);
    }

    /** Per worker (partition), class and part: images, counted on the executors. */
    static long[][][] classCounts(JavaRDD<Sample> split, int classes) {
        List<long[][]> perWorker = split.mapPartitions(it -> {
            long[][] c = new long[classes][Sample.PARTS];
            it.forEachRemaining(smp -> c[smp.label()][smp.part()]++);
            List<long[][]> one = new ArrayList<>();
            one.add(c);
            return one.iterator();
        }).collect();
        return perWorker.toArray(new long[0][][]);
    }

    /** The smallest worker's images in {@code view}. */
    static long minImages(long[][][] counts, RoundTask.View view) {
        long min = Long.MAX_VALUE;
        for (long[][] w : counts) {
            long n = 0;
            for (int c = 0; c < w.length; c++) {
                if (view.classes() == null || view.classes()[c]) {
                    for (int p = view.partFrom(); p < view.partTo(); p++) {
                        n += w[c][p];
                    }
                }
            }
            min = Math.min(min, n);
        }
        return min;
    }

    /** What an epoch's weight rounds read: its classes, and the parts of train below the weights' share. */
    static RoundTask.View weightView(TrainingStrategy.EpochPlan plan, int classes) {
        return new RoundTask.View(plan.classes().length == classes ? null : mask(plan.classes(), classes), 0, weightParts(plan));
    }

    /** What its architecture rounds read: its classes on val (all parts), or the parts of train the weight rounds leave out. */
    static RoundTask.View architectureView(TrainingStrategy.EpochPlan plan, int classes) {
        boolean[] m = plan.classes().length == classes ? null : mask(plan.classes(), classes);
        return plan.architectureSplit().equals("val") ? new RoundTask.View(m, 0, Sample.PARTS) : new RoundTask.View(m, weightParts(plan), Sample.PARTS);
    }

    private static int weightParts(TrainingStrategy.EpochPlan plan) {
        return (int) Math.round(plan.weightShare() * Sample.PARTS);
    }

    static boolean[] mask(int[] classes, int n) {
        boolean[] m = new boolean[n];
        for (int c : classes) {
            m[c] = true;
        }
        return m;
    }

    /** The path sampler named by {@code nas.supernet.sampler}. */
    static PathSampler sampler(String name) {
        return switch (name) {
            case "uniform" -> new UniformPathSampler();
            default -> throw new IllegalArgumentException("unknown sampler " + name);
        };
    }

    /** A progress line at most this often within an epoch. */
    private static final long PROGRESS_INTERVAL_NANOS = 60_000_000_000L;

    /** The epoch's log line, from its rounds' metrics (also those done before a resume). */
    private static void logEpoch(int e, int epochs, String label, List<Row> metrics, double etaSeconds) {
        double loss = 0;
        long steps = 0;
        long correct = 0;
        long images = 0;
        double wall = 0;
        double compute = 0;
        for (Row m : metrics) {
            if (m.getInt(0) == e + 1 && m.getString(11).equals("weights")) {
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
        LOG.info("supernet-train: epoch {}/{} ({}): loss {}, train accuracy {}, {} images/s, {}% of the weight rounds outside task compute, "
                        + "driver resident {} GB, ETA {} s",
                e + 1, epochs, label, String.format("%.4f", loss / steps), String.format("%.3f", (double) correct / images),
                String.format("%.1f", images / wall), String.format("%.1f", 100 * Math.max(0, 1 - compute / wall)),
                String.format("%.2f", NativeHeap.residentBytes() / 1e9), String.format("%.0f", etaSeconds));
    }

    /** A strategy's architectures of epoch e on val (DDPNAS Eq. 2), BatchNorm recalibrated, as the search evaluates them. */
    private static double[] evaluateEpoch(SparkSession spark, RunStore store, SearchSpace space, OptimizerSettings opt, SupernetState state,
                                          List<Arch> archs, SupernetSettings s, int tasks, int e, int epochs, String method) {
        long t0 = System.nanoTime();
        JavaSparkContext.fromSparkContext(spark.sparkContext()).setJobGroup("supernet-train", String.format(
                "supernet-train %s: epoch %d/%d, val accuracy of its %d architectures", method, e + 1, epochs, archs.size()));
        double[] acc;
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), 0, tasks)) {
            acc = evaluator.accuracy(archs);
        }
        StringBuilder b = new StringBuilder();
        for (int a = 0; a < archs.size(); a++) {
            b.append(a == 0 ? "" : ", ").append(archs.get(a).id()).append(' ').append(String.format("%.4f", acc[a]));
        }
        LOG.info("supernet-train: epoch {}/{}: val accuracy of its {} architectures ({} s): {}", e + 1, epochs, archs.size(),
                String.format("%.1f", (System.nanoTime() - t0) / 1e9), b);
        return acc;
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
