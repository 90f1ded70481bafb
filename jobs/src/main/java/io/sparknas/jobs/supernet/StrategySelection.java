package io.sparknas.jobs.supernet;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.easiness.EasinessStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.search.strategy.UniformSampling;
import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.FlopsCostModel;
import io.sparknas.supernet.cost.ParamsCostModel;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;
import java.util.Optional;

/**
 * The training strategy of a run's method ({@code nas.run.method}): uniform single-path sampling for SPOS and PAD-NAS (on the
 * stage's space, pruned for a PAD-NAS fine-tuning stage), {@link DaNasStrategy} for DA-NAS (with the easiness stage's class
 * ranking unless its schedule is {@code all}). The one place that maps a method to its strategy.
 */
final class StrategySelection {

    /** A strategy and the stages it read (inputs of the supernet-train stage). */
    record Selected(TrainingStrategy strategy, Optional<StageRecord.Input> input) {
    }

    private StrategySelection() {
    }

    static Selected select(SupernetSettings s, SparkSession spark, RunStore store, SearchSpace space) {
        String method = s.run().method();
        switch (method) {
            case "spos", "padnas" -> {
                return new Selected(new UniformSampling(method, space, SupernetTrainStage.sampler(s.sampler()), s.stageEpochs()), Optional.empty());
            }
            case "danas" -> {
                if (s.stageIndex().k() != 1) {
                    throw new InputDataException("supernet-train --stage-index " + s.stageIndex().k() + " is a PAD-NAS fine-tuning stage, but "
                            + "nas.run.method = danas: DA-NAS prunes inside one supernet-train stage; drop --stage-index.");
                }
                DaNasStrategy.Settings d = s.danas();
                int[] ranking;
                Optional<StageRecord.Input> input = Optional.empty();
                if (d.schedule().equals("all")) {
                    ranking = java.util.stream.IntStream.range(0, space.classes()).toArray();
                } else {
                    StageRecord easiness = store.committed(EasinessStage.STAGE).orElseThrow(() -> new InputDataException("DA-NAS with "
                            + "nas.danas.schedule = " + d.schedule() + " orders classes by the easiness stage, but " + store.stageDir(EasinessStage.STAGE)
                            + " is not committed: run submit/easiness.sh first, or set nas.danas.schedule = all."));
                    ranking = ranking(spark, store, space.classes());
                    input = Optional.of(new StageRecord.Input(EasinessStage.STAGE, store.stageDir(EasinessStage.STAGE).toString(), easiness.fingerprint()));
                }
                CostModel cost = s.danasCost().equals("params") ? new ParamsCostModel() : new FlopsCostModel();
                double[][] opCost = new double[space.size()][];
                for (int l = 0; l < space.size(); l++) {
                    int layer = l;
                    opCost[l] = space.layer(l).candidates().stream().mapToDouble(op -> cost.opCost(space, layer, op)).toArray();
                }
                return new Selected(new DaNasStrategy(space, d, ranking, opCost, cost.fixedCost(space)), input);
            }
            default -> throw new InputDataException("nas.run.method = " + method + " has no supernet-train strategy in this version "
                    + "(spos, padnas, danas have).");
        }
    }

    /** Class indices from easiest (rank 1) to hardest, from the easiness stage's {@code class_easiness}. */
    static int[] ranking(SparkSession spark, RunStore store, int classes) {
        List<Row> rows = spark.read().parquet(store.tableUri(EasinessStage.STAGE, EasinessStage.CLASS_EASINESS))
                .select("class_index", "rank").orderBy("rank").collectAsList();
        if (rows.size() != classes) {
            throw new InputDataException("class_easiness of " + store.stageDir(EasinessStage.STAGE) + " ranks " + rows.size() + " classes, the run has "
                    + classes + ": re-run submit/easiness.sh --force.");
        }
        return rows.stream().mapToInt(r -> r.getInt(0)).toArray();
    }
}
