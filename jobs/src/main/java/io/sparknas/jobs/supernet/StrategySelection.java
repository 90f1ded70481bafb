package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.DdpnasStrategy;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.search.strategy.UniformSampling;
import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.MacCostModel;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/**
 * The training strategy of a run's method ({@code nas.run.method}): uniform single-path sampling for SPOS and PAD-NAS (on the
 * stage's space, pruned for a PAD-NAS fine-tuning stage), {@link DaNasStrategy} for DA-NAS (with the easiness stage's class
 * ranking unless its schedule is {@code all}), {@link DdpnasStrategy} for DDPNAS, {@link DsoNasStrategy} for DSO-NAS (with
 * its budget's per-op costs). The one place that maps a method to its strategy.
 */
final class StrategySelection {

    /** A strategy and the stages it read (inputs of the supernet-train stage). */
    record Selected(TrainingStrategy strategy, List<StageRecord.Input> inputs) {
    }

    private StrategySelection() {
    }

    static Selected select(SupernetSettings s, SparkSession spark, RunStore store, SearchSpace space) {
        String method = s.run().method();
        switch (method) {
            case "spos", "padnas" -> {
                return new Selected(new UniformSampling(method, space, SupernetTrainStage.sampler(s.sampler()), s.stageEpochs()), List.of());
            }
            case "danas" -> {
                if (s.stageIndex().k() != 1) {
                    throw new InputDataException("supernet-train --stage-index " + s.stageIndex().k() + " is a PAD-NAS fine-tuning stage, but "
                            + "nas.run.method = danas: DA-NAS prunes inside one supernet-train stage; drop --stage-index.");
                }
                DaNasStrategy.Settings d = s.danas();
                int[] ranking;
                List<StageRecord.Input> inputs = new java.util.ArrayList<>();
                if (d.schedule().equals("all")) {
                    ranking = java.util.stream.IntStream.range(0, space.classes()).toArray();
                } else {
                    StageRecord easiness = store.committed(EasinessOutputs.STAGE).orElseThrow(() -> new InputDataException("DA-NAS with "
                            + "nas.danas.schedule = " + d.schedule() + " orders classes by the easiness stage, but " + store.stageDir(EasinessOutputs.STAGE)
                            + " is not committed: run submit/easiness.sh first, or set nas.danas.schedule = all."));
                    ranking = EasinessOutputs.ranking(spark, store, space.classes());
                    inputs.add(new StageRecord.Input(EasinessOutputs.STAGE, store.stageDir(EasinessOutputs.STAGE).toString(), easiness.fingerprint()));
                }
                CostModel cost = switch (s.danasCost()) {
                    case "params" -> new ParamsCostModel();
                    case "latency" -> latency(spark, store, space, "nas.danas.cost = latency", "nas.danas.cost = flops");
                    default -> new FlopsCostModel();
                };
                if (s.danasCost().equals("latency")) {
                    StageRecord lat = store.committed(LatencyProfileOutputs.STAGE).orElseThrow();
                    inputs.add(new StageRecord.Input(lat.stageDir(), store.stageDir(lat.stageDir()).toString(), lat.fingerprint()));
                }
                return new Selected(new DaNasStrategy(space, d, ranking, opCosts(space, cost), cost.fixedCost(space)), inputs);
            }
            case "ddpnas" -> {
                if (s.stageIndex().k() != 1) {
                    throw new InputDataException("supernet-train --stage-index " + s.stageIndex().k() + " is a PAD-NAS fine-tuning stage, but "
                            + "nas.run.method = ddpnas: DDPNAS prunes inside one supernet-train stage; drop --stage-index.");
                }
                return new Selected(new DdpnasStrategy(space, s.ddpnas()), List.of());
            }
            case "dsonas" -> {
                if (s.stageIndex().k() != 1) {
                    throw new InputDataException("supernet-train --stage-index " + s.stageIndex().k() + " is a PAD-NAS fine-tuning stage, but "
                            + "nas.run.method = dsonas: DSO-NAS searches inside one supernet-train stage; drop --stage-index.");
                }
                String budget = s.dsonas().budget();
                List<StageRecord.Input> inputs = new java.util.ArrayList<>();
                CostModel cost = switch (budget) {
                    case "flops" -> new FlopsCostModel();
                    case "mac" -> new MacCostModel();
                    case "latency" -> latency(spark, store, space, "nas.dsonas.budget = latency", "nas.dsonas.budget = flops");
                    default -> null;
                };
                if (budget.equals("latency")) {
                    StageRecord lat = store.committed(LatencyProfileOutputs.STAGE).orElseThrow();
                    inputs.add(new StageRecord.Input(lat.stageDir(), store.stageDir(lat.stageDir()).toString(), lat.fingerprint()));
                }
                try {
                    return new Selected(new DsoNasStrategy(space, s.dsonas(), cost == null ? null : opCosts(space, cost)), inputs);
                } catch (IllegalArgumentException e) {
                    throw new InputDataException("nas.run.method = dsonas: " + e.getMessage());
                }
            }
            default -> throw new InputDataException("nas.run.method = " + method + " has no supernet-train strategy in this version "
                    + "(spos, padnas, danas, ddpnas, dsonas have).");
        }
    }

    /** Per layer and candidate, the op's cost in the model. */
    private static double[][] opCosts(SearchSpace space, CostModel cost) {
        double[][] opCost = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            opCost[l] = space.layer(l).candidates().stream().mapToDouble(op -> cost.opCost(space, layer, op)).toArray();
        }
        return opCost;
    }

    /**
     * The run's latency table as a method's cost (DA-NAS Eq. 8, DSO-NAS Eq. 19), checked to cover every candidate of the
     * space; {@code setting} names the key that asked for it, {@code instead} the setting that needs no table.
     */
    private static CostModel latency(SparkSession spark, RunStore store, SearchSpace space, String setting, String instead) {
        if (store.committed(LatencyProfileOutputs.STAGE).isEmpty()) {
            throw new InputDataException(setting + " needs the run's latency table, but " + store.stageDir(
                    LatencyProfileOutputs.STAGE) + " is not committed: run submit/latency-profile.sh first, or set " + instead + ".");
        }
        io.sparknas.supernet.cost.LatencyTable table = LatencyProfileOutputs.read(spark, store);
        List<io.sparknas.supernet.cost.LatencyProbe> missing = table.missing(io.sparknas.supernet.cost.LatencyProbe.of(space));
        if (!missing.isEmpty()) {
            throw new InputDataException("The run's latency table lacks " + missing.size() + " probes of this space (e.g. " + missing.get(0)
                    + "): re-run submit/latency-profile.sh --force with the same nas.space settings.");
        }
        return new io.sparknas.supernet.cost.LatencyCostModel(table);
    }
}
