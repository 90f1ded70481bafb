package io.sparknas.jobs.search;

import java.util.Optional;
import java.util.Locale;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.search.method.NasMethods;
import io.sparknas.search.method.NasMethod;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.jobs.supernet.PathEvaluator;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.search.EvaluatedArch;
import io.sparknas.search.evolution.ConstrainedNsga2;
import io.sparknas.search.pareto.NondominatedRanks;
import io.sparknas.search.pareto.OpDistribution;
import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stage search: Constrained Evolutionary Search (PAD-NAS section 3.2; NSGA-II) over the space of supernet-train stage k,
 * or, for a supernet trained by a method that outputs its architecture itself, that method's read-off (DA-NAS:
 * {@link ParameterReadOff}, DSO-NAS: non-zero lambdas, {@link ParameterReadOff}; DDPNAS: {@link ConstrainedGeneration}, one per constraint; table {@code generated_archs}).
 * with architectures evaluated by the trained supernet on Spark executors ({@link PathEvaluator}: BatchNorm
 * recalibration, then accuracy on val) and costed by the configured cost model (FLOPs, params, or the run's latency table).
 *
 * <p>Outputs: {@code candidates} (the population after every generation, with rank and crowding distance),
 * {@code pareto_front} (feasible rank-1 members of the final population), {@code op_distribution} (PAD-NAS Algorithm 1
 * line 5: op frequencies per layer among the feasible evaluated architectures of rank below {@code nas.search.rank-bound}).
 * The search state is checkpointed after every generation; {@code --resume} continues from it.
 */
public final class SearchStage {

    private static final Logger LOG = LoggerFactory.getLogger(SearchStage.class);

    private SearchStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(SearchOutputs.STAGE, args, Set.of(StageIndex.OPTION), false, SearchSettings::from, SearchStage::run);
    }

    public static SearchResult run(SearchSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        int k = s.stageIndex().k();
        String supernetDir = StageIndex.dir(SupernetTrainOutputs.STAGE, k);
        StageRecord supernet = store.committed(supernetDir).orElseThrow(() -> new InputDataException("search --stage-index " + k
                + " searches the supernet of " + store.stageDir(supernetDir) + ", which is not committed: run submit/supernet-train.sh"
                + (k > 1 ? " --stage-index " + k : "") + " first (same --run-root and --run-id)."));
        SearchSpace space = SpaceTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SPACE), rs.space());
        String trainedHash = supernet.properties().get("space_hash");
        if (!space.hash().equals(trainedHash)) {
            throw new InputDataException("The supernet at " + store.stageDir(supernetDir) + " was trained on space " + trainedHash
                    + " but nas.space now gives " + space.hash() + ": search with the nas.space settings it was trained with.");
        }
        List<StageRecord.Input> inputs = new ArrayList<>(List.of(rs.input(store),
                new StageRecord.Input(supernetDir, store.stageDir(supernetDir).toString(), supernet.fingerprint())));
        LatencyTable latency = null;
        StageRecord latencyStage = store.committed(LatencyProfileOutputs.STAGE).orElse(null);
        if (latencyStage != null) {
            latency = LatencyProfileOutputs.read(spark, store);
            inputs.add(new StageRecord.Input(LatencyProfileOutputs.STAGE, store.stageDir(LatencyProfileOutputs.STAGE).toString(),
                    latencyStage.fingerprint()));
        } else if (s.cost().equals("latency")) {
            throw new InputDataException("nas.search.cost = latency needs the run's latency table, but " + store.stageDir(LatencyProfileOutputs.STAGE)
                    + " is not committed: run submit/latency-profile.sh first, or set nas.search.cost = flops.");
        }
        StageCommit commit = StageCommit.begin(store, s.run(), SearchOutputs.STAGE, s.stageIndex().dirIndex(),
                NasConfig.hash(s.run().config(), SearchSettings.SECTIONS), s.seed(), inputs);
        if (commit.skipped()) {
            return SearchResult.read(spark, store, commit.existing(), true);
        }
        try {
            StageRecord record;
            String name = supernet.properties().get("method");
            NasMethod method = NasMethods.byName(name).orElse(null);
            NasMethod.SearchKind kind = method == null ? NasMethod.SearchKind.EVOLUTION : method.searchKind();
            if (kind != NasMethod.SearchKind.EVOLUTION) {
                // a method that outputs its architectures itself, no search: DA-NAS and DSO-NAS read them off the trained
                // logits / lambdas, DDPNAS generates one per constraint from the trained distribution (ENG)
                int tasks = s.parallelism() > 0 ? s.parallelism() : spark.sparkContext().defaultParallelism();
                if (kind == NasMethod.SearchKind.READ_OFF) {
                    ParameterReadOff.run(s, spark, store, commit, space, supernetDir, latency, tasks, method);
                } else {
                    ConstrainedGeneration.run(s, spark, store, commit, space, supernetDir, latency, tasks);
                }
                commit.putProperty("method", name);
                commit.putProperty("space_hash", space.hash());
                commit.putProperty("stage_index", String.valueOf(s.stageIndex().k()));
                commit.putProperty("supernet", supernetDir);
                record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
            } else {
                record = search(s, spark, store, commit, space, supernetDir, latency);
            }
            return SearchResult.read(spark, store, record, false);
        } catch (RuntimeException e) {
            LOG.error("search failed; its checkpoint (if any) stays at {}: re-run with --resume to continue after the last completed "
                    + "generation, or --force to start over", store.stageDir(commit.stageDir()));
            throw e;
        }
    }

    /** The cost figures of one architecture. */
    private record Costs(double mflops, double mparams, Double latencyMs) {
    }

    private static StageRecord search(SearchSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space,
                                      String supernetDir, LatencyTable latency) {
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int tasks = s.parallelism() > 0 ? s.parallelism() : spark.sparkContext().defaultParallelism();
        FlopsCostModel flops = new FlopsCostModel();
        ParamsCostModel params = new ParamsCostModel();
        LatencyCostModel lat = latency == null ? null : new LatencyCostModel(latency);
        CostModel cost = switch (s.cost()) {
            case "flops" -> flops;
            case "params" -> params;
            default -> lat;
        };
        if (lat != null) {
            List<LatencyProbe> missing = latency.missing(LatencyProbe.of(space));
            if (!missing.isEmpty()) {
                if (s.cost().equals("latency")) {
                    throw new InputDataException("The run's latency table lacks " + missing.size() + " probes of this space (e.g. " + missing.get(0)
                            + "): re-run submit/latency-profile.sh --force with the same nas.space settings.");
                }
                lat = null;
            }
        }
        SupernetState state = StateTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SUPERNET));
        OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 0, "cosine", 1, 0, 0);
        String dir = commit.stageDir();
        List<String[]> history = new ArrayList<>();
        long t0 = System.nanoTime();
        double evalSeconds = 0;
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), s.valImages(), tasks)) {
            ConstrainedNsga2.Builder builder = ConstrainedNsga2.builder(space, cost, evaluator).populationSize(s.population())
                    .generations(s.generations()).costBounds(s.costMin(), s.costUpper()).crossoverProbability(s.crossoverProbability())
                    .mutationDistributionIndex(s.mutationDistributionIndex()).maxRetries(s.maxRetries()).seed(s.seed());
            if (s.mutationProbability() > 0) {
                builder.mutationProbability(s.mutationProbability());
            }
            ConstrainedNsga2 ces;
            Optional<SearchCheckpoint> cp0 = commit.resuming() ? SearchCheckpoint.latest(store, dir) : Optional.empty();
            if (cp0.isPresent()) {
                SearchCheckpoint cp = cp0.get();
                ces = builder.restore(cp.state());
                history.addAll(cp.history());
                LOG.info("search: resuming after generation {} of {} ({} architectures already evaluated)", ces.generation(), s.generations(),
                        ces.evaluations());
            } else {
                ces = builder.build();
            }
            int evaluatedBefore = ces.evaluations();
            commit.markCheckpoints();
            LOG.info("search: CES on space {} ({} layers, 10^{} architectures), cost {} in [{}, {}] {}, population {}, {} generations, "
                            + "{} evaluation tasks", space.family(), space.size(), String.format("%.2f", space.log10Size()), s.cost(), s.costMin(),
                    Double.isInfinite(s.costUpper()) ? "inf" : s.costUpper(), cost.unit(), s.population(), s.generations(), tasks);
            while (!ces.done()) {
                int before = ces.evaluations();
                long tg = System.nanoTime();
                SparkJobLabel.set(spark, "search", "CES generation " + (ces.generation() + 1) + "/" + s.generations() + ", evaluating architectures on "
                        + tasks + " tasks");
                ces.step();
                double sec = (System.nanoTime() - tg) / 1e9;
                evalSeconds += sec;
                int fresh = ces.evaluations() - before;
                for (ConstrainedNsga2.Member m : ces.population()) {
                    history.add(new String[]{String.valueOf(ces.generation()), m.arch().arch().id(), String.valueOf(m.rank()),
                            String.valueOf(m.crowding())});
                }
                List<ConstrainedNsga2.Member> front = ces.paretoFront();
                double best = front.stream().mapToDouble(m -> m.arch().accuracy()).max().orElse(Double.NaN);
                double elapsed = (System.nanoTime() - t0) / 1e9;
                int generation = ces.generation();
                long newFeasible = ces.evaluated().stream().filter(x -> x.generation() == generation && x.feasible()).count();
                long popFeasible = ces.population().stream().filter(m -> m.arch().feasible()).count();
                LOG.info("search: generation {}/{}: {} new architectures ({} feasible, {} infeasible) in {} s ({} evaluations/s, {} val images "
                                + "each); population {} feasible / {} infeasible; front: {} architectures, best accuracy {}, cost {} to {} {}; ETA {} s",
                        ces.generation(), s.generations(), fresh, newFeasible, fresh - newFeasible,
                        String.format("%.1f", sec), String.format("%.2f", fresh / Math.max(1e-9, sec)), evaluator.valImages(), popFeasible,
                        ces.population().size() - popFeasible, front.size(),
                        String.format("%.4f", best), front.isEmpty() ? "-" : String.format("%.3f", front.get(0).arch().cost()),
                        front.isEmpty() ? "-" : String.format("%.3f", front.get(front.size() - 1).arch().cost()), cost.unit(),
                        String.format("%.0f", elapsed / (ces.generation() + 1) * (s.generations() - ces.generation())));
                SearchCheckpoint.write(store, dir, ces.state(), history);
            }
            if (ces.fallbacks() > 0) {
                LOG.warn("search: {} offspring pairs stayed outside the cost bounds after {} draws and were replaced by their parents: the "
                        + "feasible region is narrow for this space (nas.search.cost-min / cost-max)", ces.fallbacks(), s.maxRetries());
            }
            double totalSeconds = (System.nanoTime() - t0) / 1e9;
            write(spark, commit, s, space, ces, history, flops, params, lat, cost);
            commit.putProperty("evaluations", String.valueOf(ces.evaluations()));
            commit.putProperty("search_seconds", String.format("%.1f", totalSeconds));
            // this attempt's evaluations over this attempt's generation time (a resumed search restored the others)
            commit.putProperty("evaluations_per_second", String.format(Locale.ROOT, "%.3f",
                    (ces.evaluations() - evaluatedBefore) / Math.max(1e-9, evalSeconds)));
            commit.putProperty("val_images", String.valueOf(evaluator.valImages()));
            commit.putProperty("tasks", String.valueOf(tasks));
            commit.putProperty("cost", s.cost());
            commit.putProperty("cost_unit", cost.unit());
            commit.putProperty("fallbacks", String.valueOf(ces.fallbacks()));
            commit.putProperty("space_hash", space.hash());
            commit.putProperty("space_log10_size", String.format("%.3f", space.log10Size()));
            commit.putProperty("stage_index", String.valueOf(s.stageIndex().k()));
            commit.putProperty("supernet", supernetDir);
        }
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        store.deleteUnder(dir, "_checkpoint");
        return record;
    }

    private static void write(SparkSession spark, StageCommit commit, SearchSettings s, SearchSpace space, ConstrainedNsga2 ces,
                              List<String[]> history, FlopsCostModel flops, ParamsCostModel params, LatencyCostModel lat, CostModel cost) {
        Map<String, EvaluatedArch> byId = new LinkedHashMap<>();
        for (EvaluatedArch e : ces.evaluated()) {
            byId.put(e.arch().id(), e);
        }
        Map<String, Costs> costs = new LinkedHashMap<>();
        for (EvaluatedArch e : byId.values()) {
            costs.put(e.arch().id(), new Costs(flops.cost(space, e.arch()), params.cost(space, e.arch()),
                    lat == null ? null : lat.cost(space, e.arch())));
        }
        List<Row> cand = new ArrayList<>();
        for (String[] h : history) {
            EvaluatedArch e = byId.get(h[1]);
            Costs c = costs.get(h[1]);
            cand.add(RowFactory.create(Integer.parseInt(h[0]), h[1], opNames(e.arch()), e.accuracy(), e.cost(), c.mflops(), c.mparams(),
                    c.latencyMs(), Integer.parseInt(h[2]), Double.parseDouble(h[3]), e.feasible(), e.generation()));
        }
        spark.createDataFrame(cand, SearchOutputs.CANDIDATES_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SearchOutputs.CANDIDATES));
        commit.addTable(SearchOutputs.CANDIDATES, cand.size(), SearchOutputs.SCHEMA_VERSION, List.of());

        List<Row> front = new ArrayList<>();
        for (ConstrainedNsga2.Member m : ces.paretoFront()) {
            Costs c = costs.get(m.arch().arch().id());
            front.add(RowFactory.create(m.arch().arch().id(), opNames(m.arch().arch()), m.arch().accuracy(), m.arch().cost(), c.mflops(),
                    c.mparams(), c.latencyMs(), m.crowding()));
        }
        spark.createDataFrame(front, SearchOutputs.FRONT_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SearchOutputs.PARETO_FRONT));
        // the front as text (architecture, accuracy, cost), digested: equal on two runs means the same front to the last bit
        StringBuilder frontText = new StringBuilder();
        for (ConstrainedNsga2.Member m : ces.paretoFront()) {
            frontText.append(m.arch().arch().id()).append('\t').append(m.arch().accuracy()).append('\t').append(m.arch().cost()).append('\n');
        }
        commit.putProperty("pareto_front_sha256", NasConfig.sha256(frontText.toString()));
        LOG.info("search: Pareto front sha256 {}", NasConfig.sha256(frontText.toString()));
        commit.addTable(SearchOutputs.PARETO_FRONT, front.size(), SearchOutputs.SCHEMA_VERSION, List.of());

        List<EvaluatedArch> all = new ArrayList<>(byId.values());
        OpDistribution dist = OpDistribution.of(space, all, NondominatedRanks.of(all), s.rankBound());
        List<Row> rows = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            List<Op> ops = space.layer(l).candidates();
            for (int i = 0; i < ops.size(); i++) {
                rows.add(RowFactory.create(l, ops.get(i).name(), dist.counts()[l][i], dist.probabilities()[l][i], dist.architectures(), s.rankBound()));
            }
        }
        spark.createDataFrame(rows, SearchOutputs.DISTRIBUTION_SCHEMA).coalesce(1).write().parquet(commit.tableUri(SearchOutputs.OP_DISTRIBUTION));
        commit.addTable(SearchOutputs.OP_DISTRIBUTION, rows.size(), SearchOutputs.SCHEMA_VERSION, List.of());
        LOG.info("search: {} architectures evaluated; Pareto front of {}; op distribution over {} architectures of rank < {}", all.size(),
                front.size(), dist.architectures(), s.rankBound());
    }

    static String[] opNames(Arch a) {
        String[] out = new String[a.layers()];
        for (int l = 0; l < out.length; l++) {
            out[l] = String.join("+", a.ops(l).stream().map(Op::name).toList());
        }
        return out;
    }
}
