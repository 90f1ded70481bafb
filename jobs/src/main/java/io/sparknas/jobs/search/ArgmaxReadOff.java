package io.sparknas.jobs.search;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.supernet.ArchParamsTable;
import io.sparknas.jobs.supernet.PathEvaluator;
import io.sparknas.jobs.supernet.StateTable;
import io.sparknas.jobs.supernet.SupernetTrainStage;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The search stage of DA-NAS: no search, the architecture is read off the trained logits (DA-NAS section 4.3: "our final
 * optimal architecture can be directly picked by maximizing the architecture distribution"): per layer the live candidate
 * with the highest logit of the last epoch in supernet-train's {@code arch_params} ({@link DaNasStrategy#argmax}), evaluated by
 * the supernet on val (BatchNorm recalibrated) and written to {@code generated_archs}.
 */
final class ArgmaxReadOff {

    private static final Logger LOG = LoggerFactory.getLogger(ArgmaxReadOff.class);

    private ArgmaxReadOff() {
    }

    static void run(SearchSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space, String supernetDir,
                    LatencyTable latency, int tasks) {
        long t0 = System.nanoTime();
        List<Row> rows = spark.read().parquet(store.tableUri(supernetDir, ArchParamsTable.TABLE)).collectAsList();
        int last = rows.stream().mapToInt(r -> r.getInt(r.fieldIndex("epoch"))).max().orElseThrow(() -> new InputDataException(
                "The arch_params of " + store.stageDir(supernetDir) + " are empty: was it trained with nas.run.method = danas? Re-run "
                        + "submit/supernet-train.sh --force -Dnas.run.method=danas."));
        double[][] logits = new double[space.size()][];
        boolean[][] live = new boolean[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            logits[l] = new double[space.layer(l).candidates().size()];
            live[l] = new boolean[logits[l].length];
            java.util.Arrays.fill(live[l], true);
        }
        for (Row r : rows) {
            if (r.getInt(r.fieldIndex("epoch")) != last) {
                continue;
            }
            int l = r.getInt(r.fieldIndex("layer"));
            int i = space.layer(l).candidates().indexOf(Op.parse(r.getString(r.fieldIndex("op"))));
            switch (r.getString(r.fieldIndex("kind"))) {
                case "logit" -> logits[l][i] = r.getDouble(r.fieldIndex("value"));
                case "pruned" -> live[l][i] = false;
                default -> {
                }
            }
        }
        Arch arch = DaNasStrategy.argmax(space, logits, live);
        SupernetState state = StateTable.read(spark, store.tableUri(supernetDir, SupernetTrainStage.SUPERNET));
        OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 0, "cosine", 1, 0, 0);
        double accuracy;
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), s.valImages(), tasks)) {
            accuracy = evaluator.accuracy(List.of(arch))[0];
        }
        double mflops = new FlopsCostModel().cost(space, arch);
        double mparams = new ParamsCostModel().cost(space, arch);
        Double ms = latency == null || !latency.missing(io.sparknas.supernet.cost.LatencyProbe.of(space)).isEmpty() ? null
                : new LatencyCostModel(latency).cost(space, arch);
        Row row = RowFactory.create(arch.id(), SearchStage.opNames(arch), accuracy, mflops, mparams, ms, null,
                "argmax of the last epoch's logits per layer over the live candidates (DA-NAS section 4.3)");
        spark.createDataFrame(List.of(row), GeneratedArchsTable.SCHEMA).coalesce(1).write().parquet(commit.tableUri(GeneratedArchsTable.TABLE));
        commit.addTable(GeneratedArchsTable.TABLE, 1, SearchStage.SCHEMA_VERSION, List.of());
        double sec = (System.nanoTime() - t0) / 1e9;
        commit.putProperty("read_off", "argmax");
        commit.putProperty("read_off_epoch", String.valueOf(last));
        commit.putProperty("evaluations", "1");
        commit.putProperty("evaluations_per_second", String.valueOf(1 / sec));
        commit.putProperty("search_seconds", String.valueOf(sec));
        commit.putProperty("cost_unit", "mflops");
        LOG.info("search: DA-NAS read-off after epoch {}: {} ({} MFLOPs, {} M params), supernet val accuracy {}", last, arch.id(),
                String.format("%.3f", mflops), String.format("%.3f", mparams), String.format("%.4f", accuracy));
    }
}
