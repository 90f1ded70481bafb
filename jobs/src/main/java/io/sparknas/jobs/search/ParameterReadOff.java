package io.sparknas.jobs.search;

import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.search.method.NasMethod;
import io.sparknas.jobs.artifact.GeneratedArchsTable;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.SparkJobLabel;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.artifact.ArchParamsTable;
import io.sparknas.jobs.supernet.PathEvaluator;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The search stage of a method that reads its architecture off its trained parameters (no search), from the last epoch of
 * supernet-train's {@code arch_params}:
 * <ul>
 *   <li>DA-NAS (section 4.3: "our final optimal architecture can be directly picked by maximizing the architecture
 *   distribution"): per layer the live candidate with the highest logit ({@link DaNasStrategy#argmax});</li>
 *   <li>DSO-NAS (section 3.2: "the final architecture can be directly obtained by removing useless connections"): per layer
 *   every op whose lambda is not 0, possibly several or none ({@link DsoNasStrategy#nonZero}).</li>
 * </ul>
 * The architecture is evaluated by the supernet on val (BatchNorm recalibrated; DSO-NAS's lambdas are not applied: the
 * retrained network sums its ops' outputs unscaled) and written to {@code generated_archs}.
 */
final class ParameterReadOff {

    private static final Logger LOG = LoggerFactory.getLogger(ParameterReadOff.class);

    private ParameterReadOff() {
    }

    static void run(SearchSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space, String supernetDir,
                    LatencyTable latency, int tasks, NasMethod method) {
        long t0 = System.nanoTime();
        String kind = method.readOffParameter();
        ArchParamsTable.LastEpoch p = ArchParamsTable.lastEpoch(spark, store.tableUri(supernetDir, ArchParamsTable.TABLE), space, kind)
                .orElseThrow(() -> new InputDataException("The arch_params of " + store.stageDir(supernetDir) + " hold no " + kind
                        + ": was it trained with nas.run.method = " + method.name() + "? Re-run submit/supernet-train.sh --force -Dnas.run.method="
                        + method.name() + "."));
        int last = p.epoch();
        NasMethod.ReadOff readOff = method.readOff(space, p.values(), p.pruned());
        Arch arch = readOff.arch();
        String chosenBy = readOff.chosenBy();
        SupernetState state = StateTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SUPERNET));
        OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 0, "cosine", 1, 0, 0);
        double accuracy;
        SparkJobLabel.set(spark, "search", "read-off: supernet val accuracy of " + arch.id());
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), s.valImages(), tasks)) {
            accuracy = evaluator.accuracy(List.of(arch))[0];
        }
        double mflops = new FlopsCostModel().cost(space, arch);
        double mparams = new ParamsCostModel().cost(space, arch);
        Double ms = latency == null || !latency.missing(LatencyProbe.of(space)).isEmpty() ? null
                : new LatencyCostModel(latency).cost(space, arch);
        Row row = RowFactory.create(arch.id(), SearchStage.opNames(arch), accuracy, mflops, mparams, ms, null, chosenBy);
        spark.createDataFrame(List.of(row), GeneratedArchsTable.SCHEMA).coalesce(1).write().parquet(commit.tableUri(GeneratedArchsTable.TABLE));
        commit.addTable(GeneratedArchsTable.TABLE, 1, SearchOutputs.SCHEMA_VERSION, List.of());
        double sec = (System.nanoTime() - t0) / 1e9;
        commit.putProperty("read_off", readOff.name());
        commit.putProperty("read_off_epoch", String.valueOf(last));
        commit.putProperty("evaluations", "1");
        commit.putProperty("evaluations_per_second", String.valueOf(1 / sec));
        commit.putProperty("search_seconds", String.valueOf(sec));
        commit.putProperty("cost_unit", "mflops");
        LOG.info("search: {} read-off after epoch {}: {} ({} MFLOPs, {} M params), supernet val accuracy {}", method.name(), last, arch.id(),
                String.format("%.3f", mflops), String.format("%.3f", mparams), String.format("%.4f", accuracy));
    }
}
