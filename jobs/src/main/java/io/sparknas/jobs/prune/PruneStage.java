package io.sparknas.jobs.prune;

import io.sparknas.jobs.artifact.PruneOutputs;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.JobEnvironment;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.search.pareto.OpDistribution;
import io.sparknas.search.prune.OperationPruning;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Stage prune (PAD-NAS Algorithm 1 line 6): reads search k's {@code op_distribution} and drops, per layer, the ops whose
 * estimated probability is at most {@code nas.padnas.prune-threshold} (P_th), never emptying a layer
 * ({@link OperationPruning}). Outputs {@code pruned_space} (the layer-wise candidate sets supernet-train k+1 trains) and
 * {@code pruning} (every op with its probability and whether it stays); the search-space sizes before and after (log10) are
 * properties of the stage.
 */
public final class PruneStage {

    private static final Logger LOG = LoggerFactory.getLogger(PruneStage.class);

    private PruneStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(PruneOutputs.STAGE, args, Set.of(StageIndex.OPTION), false, PruneSettings::from, PruneStage::run);
    }

    public static PruneResult run(PruneSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        int k = s.stageIndex().k();
        String searchDir = StageIndex.dir(SearchOutputs.STAGE, k);
        String supernetDir = StageIndex.dir(SupernetTrainOutputs.STAGE, k);
        StageRecord search = store.committed(searchDir).orElseThrow(() -> new InputDataException("prune --stage-index " + k
                + " reads the op distribution of " + store.stageDir(searchDir) + ", which is not committed: run submit/search.sh"
                + (k > 1 ? " --stage-index " + k : "") + " first."));
        SearchSpace space = SpaceTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SPACE), rs.space());
        if (!space.hash().equals(search.properties().get("space_hash"))) {
            throw new InputDataException("The search at " + store.stageDir(searchDir) + " ran on space " + search.properties().get("space_hash")
                    + " but " + supernetDir + "/space is " + space.hash() + ": re-run the search (--force).");
        }
        StageCommit commit = StageCommit.begin(store, s.run(), PruneOutputs.STAGE, s.stageIndex().dirIndex(), NasConfig.hash(s.run().config(), PruneSettings.SECTIONS),
                null, List.of(rs.input(store), new StageRecord.Input(searchDir, store.stageDir(searchDir).toString(), search.fingerprint())));
        if (commit.skipped()) {
            return PruneResult.of(commit.existing(), store, true);
        }
        OpDistribution dist = readDistribution(spark, store.tableUri(searchDir, SearchOutputs.OP_DISTRIBUTION), space);
        OperationPruning.Result res = OperationPruning.prune(dist, s.threshold());
        List<Row> rows = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            List<Op> ops = space.layer(l).candidates();
            for (int i = 0; i < ops.size(); i++) {
                rows.add(RowFactory.create(l, ops.get(i).name(), dist.probabilities()[l][i], res.after().layer(l).candidates().contains(ops.get(i))));
            }
        }
        int layers = SpaceTable.write(spark, res.after(), commit.tableUri(PruneOutputs.PRUNED_SPACE));
        commit.addTable(PruneOutputs.PRUNED_SPACE, layers, PruneOutputs.SCHEMA_VERSION, List.of());
        spark.createDataFrame(rows, PruneOutputs.PRUNING_SCHEMA).coalesce(1).write().parquet(commit.tableUri(PruneOutputs.PRUNING));
        commit.addTable(PruneOutputs.PRUNING, rows.size(), PruneOutputs.SCHEMA_VERSION, List.of());
        commit.putProperty("threshold", String.valueOf(s.threshold()));
        commit.putProperty("ops_dropped", String.valueOf(res.droppedCount()));
        commit.putProperty("log10_size_before", String.format("%.4f", res.before().log10Size()));
        commit.putProperty("log10_size_after", String.format("%.4f", res.after().log10Size()));
        commit.putProperty("space_hash_before", res.before().hash());
        commit.putProperty("space_hash_after", res.after().hash());
        commit.putProperty("stage_index", String.valueOf(k));
        commit.putProperty("counted_architectures", String.valueOf(dist.architectures()));
        LOG.info("prune: {} ops dropped at P_th = {} (from {} architectures of rank < bound); search space 10^{} -> 10^{}", res.droppedCount(),
                s.threshold(), dist.architectures(), String.format("%.2f", res.before().log10Size()), String.format("%.2f", res.after().log10Size()));
        StageRecord record = commit.commit(JobEnvironment.sparkInfo(spark), JobEnvironment.backend().summary());
        return PruneResult.of(record, store, false);
    }

    /** The op_distribution table back as an {@link OpDistribution} over {@code space} (a clear error when they disagree). */
    static OpDistribution readDistribution(SparkSession spark, String uri, SearchSpace space) {
        int[][] counts = new int[space.size()][];
        double[][] p = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            counts[l] = new int[space.layer(l).candidates().size()];
            p[l] = new double[counts[l].length];
        }
        int archs = -1;
        for (Row r : spark.read().parquet(uri).collectAsList()) {
            int l = r.getAs("layer");
            String op = r.getAs("op");
            int i = -1;
            for (int j = 0; j < space.layer(l).candidates().size(); j++) {
                if (space.layer(l).candidates().get(j).name().equals(op)) {
                    i = j;
                }
            }
            if (i < 0) {
                throw new InputDataException("op_distribution at " + uri + " lists " + op + " at layer " + l + ", not a candidate of the searched space");
            }
            counts[l][i] = r.getAs("count");
            p[l][i] = r.getAs("probability");
            archs = r.getAs("architectures");
        }
        return new OpDistribution(space, counts, p, Math.max(0, archs));
    }
}
