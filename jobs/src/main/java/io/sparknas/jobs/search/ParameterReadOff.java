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
import io.sparknas.supernet.space.SearchSpaces;
import io.sparknas.supernet.cost.WidthForBudget;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Locale;

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
 * retrained network sums its ops' outputs unscaled) and written to {@code generated_archs}. With {@code
 * nas.dsonas.target-mflops}, DSO-NAS's row carries the global width multiplier that meets the budget (section 4.1), and its
 * costs at that width; retrain builds it there.
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
        // the width first: a target no width meets fails before the evaluation
        FlopsCostModel flops = new FlopsCostModel();
        double width = s.space().width();
        SearchSpace built = space;
        String constraint = null;
        if (method.name().equals("dsonas") && s.dsoNasTargetMflops() > 0) {
            SearchSpaces.Options searched = s.space().options(space.resolution(), space.inChannels(), space.classes());
            width = budgetWidth(s.dsoNasTargetMflops(), searched, arch, flops);
            built = SearchSpaces.build(WidthForBudget.at(searched, width));
            constraint = "flops <= " + s.dsoNasTargetMflops();
            chosenBy += String.format(Locale.ROOT, "; width %.2f: the largest global width multiplier within nas.dsonas.target-mflops = %s "
                    + "(section 4.1; searched at %.2f, %.3f MFLOPs)", width, s.dsoNasTargetMflops(), s.space().width(), flops.cost(space, arch));
        }
        SupernetState state = StateTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SUPERNET));
        OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 0, "cosine", 1, 0, 0);
        double accuracy;
        SparkJobLabel.set(spark, "search", "read-off: supernet val accuracy of " + arch.id());
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), s.valImages(), tasks)) {
            accuracy = evaluator.accuracy(List.of(arch))[0];
        }
        double mflops = flops.cost(built, arch);
        double mparams = new ParamsCostModel().cost(built, arch);
        Double ms = latency == null || !latency.missing(LatencyProbe.of(built)).isEmpty() ? null
                : new LatencyCostModel(latency).cost(built, arch);
        Row row = RowFactory.create(arch.id(), SearchStage.opNames(arch), accuracy, mflops, mparams, ms, constraint, chosenBy, width);
        spark.createDataFrame(List.of(row), GeneratedArchsTable.SCHEMA).coalesce(1).write().parquet(commit.tableUri(GeneratedArchsTable.TABLE));
        commit.addTable(GeneratedArchsTable.TABLE, 1, SearchOutputs.SCHEMA_VERSION, List.of());
        if (method.name().equals("danas")) {
            checkAgainstTarget(store, commit, supernetDir, mflops, mparams, ms);
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        commit.putProperty("read_off", readOff.name());
        commit.putProperty("read_off_epoch", String.valueOf(last));
        commit.putProperty("evaluations", "1");
        commit.putProperty("evaluations_per_second", String.valueOf(1 / sec));
        commit.putProperty("search_seconds", String.valueOf(sec));
        commit.putProperty("cost_unit", "mflops");
        LOG.info("search: {} read-off after epoch {}: {} ({} MFLOPs, {} M params at width {}), supernet val accuracy {}", method.name(), last,
                arch.id(), String.format("%.3f", mflops), String.format("%.3f", mparams), String.format(Locale.ROOT, "%.2f", width),
                String.format("%.4f", accuracy));
    }

    /**
     * DA-NAS's beta is "a scaling factor designed as target cost" (Eq. 10): the read-off's cost against the target the supernet
     * was trained for ({@code nas.danas.target-cost} in its {@code nas.danas.cost} unit), as properties {@code target_cost} and
     * {@code cost_to_target}, and a warning naming the settings when it misses by more than 10%.
     */
    private static void checkAgainstTarget(RunStore store, StageCommit commit, String supernetDir, double mflops, double mparams, Double ms) {
        var danas = store.committed(supernetDir).orElseThrow().config().path("danas");
        double beta = danas.path("target-cost").asDouble();
        String unit = danas.path("cost").asText();
        Double cost = switch (unit) {
            case "flops" -> mflops;
            case "params" -> mparams;
            default -> ms;
        };
        if (!(beta > 0) || cost == null) {
            return;
        }
        double ratio = cost / beta;
        commit.putProperty("target_cost", String.valueOf(beta));
        commit.putProperty("cost_to_target", String.valueOf(ratio));
        String line = String.format(Locale.ROOT, "search: the read-off costs %.3f (%s) against nas.danas.target-cost = %s: %+.1f%%", cost, unit, beta,
                100 * (ratio - 1));
        if (Math.abs(ratio - 1) > 0.1) {
            LOG.warn("{}; more than 10% off the target: {}", line, ratio < 1
                    ? "the cost term keeps pulling below beta (nas.danas.cost-pull = always); set cost-pull = above-target, or lower nas.danas.cost-exponent"
                    : "raise nas.danas.cost-exponent, or lower the target");
        } else {
            LOG.info("{}", line);
        }
    }

    /**
     * DSO-NAS section 4.1: the global width multiplier at which the searched architecture meets {@code nas.dsonas.target-mflops}
     * (the largest on {@link WidthForBudget}'s grid), or an error naming the key when even the narrowest width exceeds it.
     */
    private static double budgetWidth(double target, SearchSpaces.Options searched, Arch arch, FlopsCostModel flops) {
        return WidthForBudget.largest(searched, arch, flops, target).orElseThrow(() -> new InputDataException("nas.dsonas.target-mflops = "
                + target + ": the searched architecture " + arch.id() + " costs more even at the narrowest width multiplier, "
                + WidthForBudget.MIN + " (" + String.format(Locale.ROOT, "%.3f", flops.cost(SearchSpaces.build(WidthForBudget.at(searched,
                WidthForBudget.MIN)), arch)) + " MFLOPs: the stem and head alone may exceed it). Raise the target, or set it to 0 to keep "
                + "the searched width."));
    }
}
