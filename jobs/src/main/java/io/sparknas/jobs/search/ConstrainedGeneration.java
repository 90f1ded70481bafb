package io.sparknas.jobs.search;

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
import io.sparknas.search.generation.CostConstraint;
import io.sparknas.search.generation.ExpectationKnapsack;
import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyProbe;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The search stage of DDPNAS: efficient network generation (DDPNAS section 3.3, Eq. 9-10). From one trained supernet, for
 * every constraint of {@code nas.ddpnas.generation.constraints}, the architecture with the highest expectation
 * {@code E[alpha]} (theta of the last epoch in supernet-train's {@code arch_params}) whose cost stays within the bound
 * ({@link ExpectationKnapsack}), over every op of the space ({@code nas.ddpnas.generation.ops = all}: pruned ops keep their
 * theta, section 4.1) or over the ops the pruning left ({@code pruned}); each is evaluated by the supernet on val (BatchNorm recalibrated) and written to
 * {@code generated_archs}, which retrain trains row by row.
 */
final class ConstrainedGeneration {

    private static final Logger LOG = LoggerFactory.getLogger(ConstrainedGeneration.class);

    private ConstrainedGeneration() {
    }

    static void run(SearchSettings s, SparkSession spark, RunStore store, StageCommit commit, SearchSpace space, String supernetDir,
                    LatencyTable latency, int tasks) {
        long t0 = System.nanoTime();
        ArchParamsTable.LastEpoch p = ArchParamsTable.lastEpoch(spark, store.tableUri(supernetDir, ArchParamsTable.TABLE), space, "theta")
                .orElseThrow(() -> new InputDataException("The arch_params of " + store.stageDir(supernetDir) + " hold no theta: was it "
                        + "trained with nas.run.method = ddpnas? Re-run submit/supernet-train.sh --force -Dnas.run.method=ddpnas."));
        int last = p.epoch();
        double[][] value = p.values();
        boolean prunedOnly = s.generationOps().equals("pruned");
        String over = prunedOnly ? "the pruned space" : "every op of the space";
        for (int l = 0; l < space.size(); l++) {
            for (int i = 0; i < value[l].length; i++) {
                // with ops = pruned, a pruned op may not be chosen
                if (prunedOnly && p.pruned()[l][i]) {
                    value[l][i] = Double.NaN;
                }
            }
        }
        FlopsCostModel flops = new FlopsCostModel();
        ParamsCostModel params = new ParamsCostModel();
        LatencyCostModel lat = latency == null || !latency.missing(LatencyProbe.of(space)).isEmpty() ? null : new LatencyCostModel(latency);
        List<Arch> archs = new ArrayList<>();
        List<String> chosenBy = new ArrayList<>();
        for (CostConstraint c : s.constraints()) {
            CostModel model = switch (c.cost()) {
                case "flops" -> flops;
                case "params" -> params;
                default -> {
                    if (lat == null) {
                        throw new InputDataException("nas.ddpnas.generation.constraints has '" + c + "', which needs the run's latency table for "
                                + "every op of this space, but " + (latency == null ? "no latency-profile stage is committed" : "the table lacks some")
                                + ": run submit/latency-profile.sh (--force) first, or drop the latency constraint.");
                    }
                    yield lat;
                }
            };
            double[][] cost = new double[space.size()][];
            for (int l = 0; l < space.size(); l++) {
                int layer = l;
                cost[l] = space.layer(l).candidates().stream().mapToDouble(op -> model.opCost(space, layer, op)).toArray();
            }
            double fixed = model.fixedCost(space);
            ExpectationKnapsack.Result res = ExpectationKnapsack.solve(value, cost, fixed, c.bound(), s.generationResolution(), model.quantum())
                    .orElseThrow(() -> new InputDataException("nas.ddpnas.generation.constraints: '" + c + "' cannot be met: the cheapest "
                            + "architecture over " + over + " costs " + String.format(Locale.ROOT, "%.4f", cheapest(value, cost, fixed)) + " "
                            + c.unit() + ". Raise the bound to at least that, or drop the constraint."));
            List<Op> ops = new ArrayList<>();
            for (int l = 0; l < space.size(); l++) {
                ops.add(space.layer(l).candidates().get(res.choice()[l]));
            }
            Arch a = Arch.single(ops);
            double trueCost = model.cost(space, a);
            if (!ExpectationKnapsack.fits(cost, fixed, res.choice(), c.bound(), model.quantum())) {
                throw new IllegalStateException("ENG returned " + a.id() + " at " + trueCost + " " + c.unit() + " for " + c);
            }
            archs.add(a);
            chosenBy.add(String.format(Locale.ROOT, "ENG (DDPNAS Eq. 9-10): max E[alpha] = %.6f over %s at cost %.4f %s, %s "
                            + "(knapsack at %d budget steps)", res.expectation(), over, trueCost, c.unit(),
                    res.provenOptimal() ? "proven optimal" : String.format(Locale.ROOT, "within %.2e of the optimum", res.upperBound() - res.expectation()),
                    res.resolution()));
            LOG.info("search: ENG for {}: {} ({} {}), E[alpha] {}{}", c, a.id(), String.format(Locale.ROOT, "%.4f", trueCost), c.unit(),
                    String.format(Locale.ROOT, "%.6f", res.expectation()), res.provenOptimal() ? ", proven optimal" : "");
        }
        SupernetState state = StateTable.read(spark, store.tableUri(supernetDir, SupernetTrainOutputs.SUPERNET));
        OptimizerSettings opt = new OptimizerSettings(0.1, 0.9, 0, "cosine", 1, 0, 0);
        double[] accuracy;
        SparkJobLabel.set(spark, "search", "ENG: supernet val accuracy of the " + archs.size() + " generated architectures");
        try (PathEvaluator evaluator = new PathEvaluator(spark, store, state, space, opt, s.seed(), s.recalibrationBatches(),
                s.evalBatchSize(), s.valImages(), tasks)) {
            accuracy = evaluator.accuracy(archs);
        }
        List<Row> out = new ArrayList<>();
        for (int k = 0; k < archs.size(); k++) {
            Arch a = archs.get(k);
            out.add(RowFactory.create(a.id(), SearchStage.opNames(a), accuracy[k], flops.cost(space, a), params.cost(space, a),
                    lat == null ? null : lat.cost(space, a), s.constraints().get(k).toString(), chosenBy.get(k), s.space().width()));
            LOG.info("search: ENG architecture {} for {}: supernet val accuracy {}", k + 1, s.constraints().get(k),
                    String.format(Locale.ROOT, "%.4f", accuracy[k]));
        }
        spark.createDataFrame(out, GeneratedArchsTable.SCHEMA).coalesce(1).write().parquet(commit.tableUri(GeneratedArchsTable.TABLE));
        commit.addTable(GeneratedArchsTable.TABLE, out.size(), SearchOutputs.SCHEMA_VERSION, List.of());
        double sec = (System.nanoTime() - t0) / 1e9;
        commit.putProperty("read_off", "eng");
        commit.putProperty("read_off_epoch", String.valueOf(last));
        commit.putProperty("evaluations", String.valueOf(archs.size()));
        commit.putProperty("evaluations_per_second", String.valueOf(archs.size() / sec));
        commit.putProperty("search_seconds", String.valueOf(sec));
        commit.putProperty("cost_unit", "mflops");
        commit.putProperty("constraints", String.join("; ", s.constraints().stream().map(CostConstraint::toString).toList()));
    }

    private static double cheapest(double[][] value, double[][] cost, double fixed) {
        double c = fixed;
        for (int l = 0; l < value.length; l++) {
            double m = Double.POSITIVE_INFINITY;
            for (int i = 0; i < value[l].length; i++) {
                if (!Double.isNaN(value[l][i])) {
                    m = Math.min(m, cost[l][i]);
                }
            }
            c += m;
        }
        return c;
    }
}
