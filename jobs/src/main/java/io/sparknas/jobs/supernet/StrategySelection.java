package io.sparknas.jobs.supernet;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.artifact.EasinessOutputs;
import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.search.method.NasMethod;
import io.sparknas.search.method.NasMethods;
import io.sparknas.search.method.StrategyInputs;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.SparkSession;

import java.util.ArrayList;
import java.util.List;

/**
 * The training strategy of a supernet-train stage: the run's method ({@link NasMethods}) plans it; this class reads the
 * run's tables the method asks for ({@link NasMethod.Configured#needs}: the easiness stage's class ranking, the latency
 * table) and records them as the stage's inputs.
 */
final class StrategySelection {

    /** A strategy and the stages it read (inputs of the supernet-train stage). */
    record Selected(TrainingStrategy strategy, List<StageRecord.Input> inputs) {
    }

    private StrategySelection() {
    }

    static Selected select(SupernetSettings s, SparkSession spark, RunStore store, SearchSpace space) {
        String name = s.run().method();
        NasMethod method = NasMethods.of(name);
        int k = s.stageIndex().k();
        method.firstStageOnly().ifPresent(why -> {
            if (k != 1) {
                throw new InputDataException("supernet-train --stage-index " + k + " is a PAD-NAS fine-tuning stage, but "
                        + "nas.run.method = " + name + ": " + why + "; drop --stage-index.");
            }
        });
        List<StageRecord.Input> inputs = new ArrayList<>();
        int[] ranking = null;
        LatencyTable latency = null;
        for (NasMethod.Need need : s.method().needs()) {
            switch (need.kind()) {
                case EASINESS -> {
                    StageRecord easiness = store.committed(EasinessOutputs.STAGE).orElseThrow(() -> new InputDataException(need.setting()
                            + " orders classes by the easiness stage, but " + store.stageDir(EasinessOutputs.STAGE) + " is not committed: "
                            + "run submit/easiness.sh first, or set " + need.instead() + "."));
                    ranking = EasinessOutputs.ranking(spark, store, space.classes());
                    inputs.add(new StageRecord.Input(EasinessOutputs.STAGE, store.stageDir(EasinessOutputs.STAGE).toString(), easiness.fingerprint()));
                }
                case LATENCY -> {
                    latency = latency(spark, store, space, need);
                    StageRecord lat = store.committed(LatencyProfileOutputs.STAGE).orElseThrow();
                    inputs.add(new StageRecord.Input(lat.stageDir(), store.stageDir(lat.stageDir()).toString(), lat.fingerprint()));
                }
            }
        }
        StrategyInputs in = new StrategyInputs(space, k, s.stageEpochs(), s.pathSampler(), ranking, latency);
        try {
            return new Selected(s.method().strategy(in), inputs);
        } catch (IllegalArgumentException e) {
            throw new InputDataException("nas.run.method = " + name + ": " + e.getMessage());
        }
    }

    /**
     * The run's latency table as a method's cost (DA-NAS Eq. 8, DSO-NAS Eq. 19), checked to cover every candidate of the
     * space; the need names the key that asked for it and the setting that needs no table.
     */
    private static LatencyTable latency(SparkSession spark, RunStore store, SearchSpace space, NasMethod.Need need) {
        if (store.committed(LatencyProfileOutputs.STAGE).isEmpty()) {
            throw new InputDataException(need.setting() + " needs the run's latency table, but " + store.stageDir(LatencyProfileOutputs.STAGE)
                    + " is not committed: run submit/latency-profile.sh first, or set " + need.instead() + ".");
        }
        LatencyTable table = LatencyProfileOutputs.read(spark, store);
        List<LatencyProbe> missing = table.missing(LatencyProbe.of(space));
        if (!missing.isEmpty()) {
            throw new InputDataException("The run's latency table lacks " + missing.size() + " probes of this space (e.g. " + missing.get(0)
                    + "): re-run submit/latency-profile.sh --force with the same nas.space settings.");
        }
        return table;
    }
}
