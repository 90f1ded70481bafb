package io.sparknas.jobs.retrain;

import java.util.Optional;
import java.util.Locale;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.training.StandaloneTrainer;
import io.sparknas.jobs.artifact.RankingOutputs;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.search.rank.KendallTau;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
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
 * Stage ranking (PAD-NAS section 4.3, Table 8): N architectures spread at about equal cost distances along a search's Pareto
 * front are trained from scratch for a short budget ({@link StandaloneTrainer}) and Kendall's tau between their supernet
 * accuracy and their stand-alone test accuracy says how far the supernet's ranking can be trusted. Output {@code ranking}:
 * per architecture both accuracies, its cost and ranks, and the tau (also a property of the stage). A checkpoint after
 * every model ({@link RankingCheckpoint}) lets {@code --resume} train only the models not yet done.
 */
public final class RankingStage {

    private static final Logger LOG = LoggerFactory.getLogger(RankingStage.class);

    private RankingStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(RankingOutputs.STAGE, args, Set.of(StageIndex.OPTION), false, RankingSettings::from, RankingStage::run);
    }

    /** An architecture to rank with its supernet accuracy and cost. */
    record Ranked(Arch arch, double supernetAccuracy, double cost, boolean onFront) {
    }

    public static RankingResult run(RankingSettings s, SparkSession spark) throws Exception {
        RunStore store = new RunStore(s.retrain().run().root(), s.retrain().run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.retrain().run().runId(), s.retrain().space());
        String source = s.source();
        int k = s.retrain().index().k();
        StageRecord search = store.committed(source).orElseThrow(() -> new InputDataException("ranking" + (k > 1 ? " --stage-index " + k : "")
                + " reads " + store.stageDir(source) + ", which is not committed: run submit/search.sh" + (k > 1 ? " --stage-index " + k : "")
                + " first."));
        String supernetDir = search.properties().get("supernet");
        SearchSpace space = SpaceTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SPACE), rs.space());
        List<Ranked> picked = pick(spark, store, source, s.models());
        StageCommit commit = StageCommit.begin(store, s.retrain().run(), RankingOutputs.STAGE, s.retrain().index().dirIndex(),
                NasConfig.hash(s.retrain().run().config(), RankingSettings.SECTIONS) + "|source=" + source,
                s.retrain().seed(), List.of(rs.input(store), new StageRecord.Input(source, store.stageDir(source).toString(), search.fingerprint())));
        if (commit.skipped()) {
            return RankingResult.read(spark, store, commit.existing(), true);
        }
        double[] sup = new double[picked.size()];
        double[] alone = new double[picked.size()];
        String dir = commit.stageDir();
        Optional<RankingCheckpoint.Numbered> cp = commit.resuming() ? RankingCheckpoint.latest(store, dir) : Optional.empty();
        commit.markCheckpoints();
        List<String> doneArchs = new ArrayList<>(cp.map(c -> c.checkpoint().archs()).orElse(List.of()));
        List<Double> doneAccuracies = new ArrayList<>(cp.map(c -> c.checkpoint().accuracies()).orElse(List.of()));
        for (int i = 0; i < doneArchs.size(); i++) {
            if (i >= picked.size() || !doneArchs.get(i).equals(picked.get(i).arch().id())) {
                throw new IllegalStateException("ranking's checkpoint at " + store.stageDir(dir) + " holds model " + (i + 1) + " = " + doneArchs.get(i)
                        + ", which is not the architecture this attempt picked: re-run ranking with --force");
            }
            sup[i] = picked.get(i).supernetAccuracy();
            alone[i] = doneAccuracies.get(i);
        }
        if (cp.isPresent()) {
            LOG.info("ranking: resuming from checkpoint {}: {} of {} models done", cp.get().number(), doneArchs.size(), picked.size());
        }
        long number = cp.map(RankingCheckpoint.Numbered::number).orElse(0L);
        try (StandaloneTrainer trainer = new StandaloneTrainer(spark, store, space, s.trainer(), s.trainImages())) {
            for (int i = doneArchs.size(); i < picked.size(); i++) {
                StandaloneTrainer.Trained t = trainer.train(picked.get(i).arch(), i, "ranking: model " + (i + 1) + "/" + picked.size());
                sup[i] = picked.get(i).supernetAccuracy();
                alone[i] = t.evaluation().accuracy();
                doneArchs.add(picked.get(i).arch().id());
                doneAccuracies.add(alone[i]);
                RankingCheckpoint.write(store, dir, ++number, new RankingCheckpoint(doneArchs, doneAccuracies));
                LOG.info("ranking: model {}/{}: supernet accuracy {}, stand-alone test accuracy {} ({} epochs on {} images)", i + 1, picked.size(),
                        String.format("%.4f", sup[i]), String.format("%.4f", alone[i]), s.epochs(), trainer.trainImages());
            }
        }
        Tau tau = Tau.of(sup, alone);
        if (tau.value() == null) {
            LOG.warn("ranking: Kendall tau is undefined: {}", tau.undefined());
        }
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < picked.size(); i++) {
            Ranked r = picked.get(i);
            rows.add(RowFactory.create(r.arch().id(), r.cost(), sup[i], alone[i], r.onFront(), tau.value(), tau.undefined()));
        }
        spark.createDataFrame(rows, RankingOutputs.SCHEMA).coalesce(1).write().parquet(commit.tableUri(RankingOutputs.RANKING));
        commit.addTable(RankingOutputs.RANKING, rows.size(), RankingOutputs.SCHEMA_VERSION, List.of());
        if (tau.value() != null) {
            commit.putProperty("kendall_tau", String.format(Locale.ROOT, "%.4f", tau.value()));
        } else {
            commit.putProperty("kendall_tau_undefined", tau.undefined());
        }
        commit.putProperty("models", String.valueOf(rows.size()));
        commit.putProperty("source", source);
        LOG.info("ranking: Kendall tau between supernet and stand-alone accuracy over {} architectures: {}", rows.size(), tau.text());
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        store.deleteUnder(dir, "_checkpoint");
        return RankingResult.read(spark, store, record, false);
    }

    /**
     * Kendall's tau-b of the two accuracy columns, or why it is undefined (never a NaN in the table or the record): with
     * every short training at the same accuracy, say, the ranking tells nothing, and the table says so.
     *
     * @param value     tau, null when undefined
     * @param undefined why tau is undefined and what to change, null when defined
     */
    record Tau(Double value, String undefined) {

        static Tau of(double[] supernet, double[] standalone) {
            try {
                return new Tau(KendallTau.of(supernet, standalone), null);
            } catch (IllegalArgumentException e) {
                return new Tau(null, e.getMessage() + ": the stand-alone budget is too short to tell the architectures apart; raise "
                        + "nas.ranking.epochs or nas.ranking.train-images");
            }
        }

        /** From a committed ranking's properties. */
        static Tau of(Map<String, String> properties) {
            String v = properties.get("kendall_tau");
            return new Tau(v == null ? null : Double.valueOf(v), v == null ? properties.get("kendall_tau_undefined") : null);
        }

        String text() {
            return value != null ? String.format(Locale.ROOT, "%.4f", value) : "undefined (" + undefined + ")";
        }
    }

    /**
     * N architectures at about equal cost distances along the front (the cheapest and the most expensive included); when
     * the front has fewer, the rest come from the search's other evaluated architectures by rank, then crowding.
     */
    static List<Ranked> pick(SparkSession spark, RunStore store, String source, int n) {
        List<Row> front = spark.read().parquet(store.tableUri(source, SearchOutputs.PARETO_FRONT)).orderBy("cost")
                .select("arch", "accuracy", "cost").collectAsList();
        Map<String, Ranked> out = new LinkedHashMap<>();
        if (front.size() <= n) {
            front.forEach(r -> out.put(r.getString(0), new Ranked(Arch.parse(r.getString(0)), r.getDouble(1), r.getDouble(2), true)));
        } else {
            double lo = front.get(0).getDouble(2);
            double hi = front.get(front.size() - 1).getDouble(2);
            for (int i = 0; i < n; i++) {
                double target = lo + (hi - lo) * i / (n - 1);
                Row best = null;
                for (Row r : front) {
                    if (!out.containsKey(r.getString(0)) && (best == null || Math.abs(r.getDouble(2) - target) < Math.abs(best.getDouble(2) - target))) {
                        best = r;
                    }
                }
                out.put(best.getString(0), new Ranked(Arch.parse(best.getString(0)), best.getDouble(1), best.getDouble(2), true));
            }
        }
        if (out.size() < n) {
            List<Row> others = spark.read().parquet(store.tableUri(source, SearchOutputs.CANDIDATES)).where("feasible")
                    .groupBy("arch").agg(org.apache.spark.sql.functions.min("rank").as("rank"), org.apache.spark.sql.functions.max("crowding").as("crowding"),
                            org.apache.spark.sql.functions.first("accuracy").as("accuracy"), org.apache.spark.sql.functions.first("cost").as("cost"))
                    .orderBy(org.apache.spark.sql.functions.asc("rank"), org.apache.spark.sql.functions.desc("crowding"), org.apache.spark.sql.functions.asc("arch"))
                    .select("arch", "accuracy", "cost").collectAsList();
            for (Row r : others) {
                if (out.size() >= n) {
                    break;
                }
                out.putIfAbsent(r.getString(0), new Ranked(Arch.parse(r.getString(0)), r.getDouble(1), r.getDouble(2), false));
            }
        }
        if (out.size() < 2) {
            throw new InputDataException("The search " + source + " offers " + out.size() + " architecture(s): Kendall tau needs at least 2.");
        }
        return new ArrayList<>(out.values());
    }
}
