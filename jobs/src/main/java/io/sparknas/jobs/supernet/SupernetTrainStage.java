package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.PruneOutputs;
import io.sparknas.jobs.artifact.SpaceTable;
import io.sparknas.jobs.artifact.RunSpace;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.launch.StageLauncher;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.search.strategy.DaNasStrategy;
import io.sparknas.search.strategy.DdpnasStrategy;
import io.sparknas.search.strategy.DsoNasStrategy;
import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Stage supernet-train: trains the weight-sharing supernet of the configured search space on the train split with parameter
 * averaging over Spark tasks, as the run's method's {@link TrainingStrategy} plans it ({@link StrategySelection}): SPOS
 * single-path training (Guo et al.; PAD-NAS section 3.1 trains its stages the same way), DA-NAS (class schedule,
 * Gumbel-softmax weighted steps, architecture rounds on val, pruning; {@link DaNasStrategy}), DDPNAS ({@link DdpnasStrategy})
 * or DSO-NAS (lambda-scaled branches, lambda rounds on D_lambda interleaved with weight rounds on D_w, training ends when
 * the strategy converges; {@link DsoNasStrategy}). docs/architecture.md describes the seam.
 *
 * <p>{@code nas.supernet.workers} replicas (never the machine's core count) train in each round: worker {@code w} holds the
 * train images whose id hashes to {@code w}, in id order ({@link ImageSplits}); the driver broadcasts the whole supernet
 * state, every worker trains its local copy for {@code nas.supernet.steps-per-round} minibatches with a path per minibatch
 * drawn from a generator seeded by (seed, epoch, worker, step), and returns the parts it trained; they are summed in one
 * fixed binary tree over the worker indices ({@link RoundSum}: on the driver, or on the executors for large models) and
 * the driver averages each part over the workers that trained it. So the same seed and config give the same
 * supernet on {@code local[1]}, {@code local[8]} or a cluster. A checkpoint at every epoch's end and at the first round
 * boundary after {@code nas.run.checkpoint-interval} lets {@code --resume} continue a killed run exactly
 * ({@link SupernetCheckpoint}). After training, random paths are evaluated on val with BatchNorm recalibrated
 * ({@link PathEvaluator}).
 *
 * <p>Outputs: {@code supernet} (per part: parameters and updater state), {@code train_metrics} (per round, weight and
 * architecture rounds), {@code path_eval}, {@code space} (the layers and their candidate ops), {@code arch_params} (the
 * strategy's parameters and pruning per epoch; empty for uniform sampling).
 */
public final class SupernetTrainStage {

    private static final Logger LOG = LoggerFactory.getLogger(SupernetTrainStage.class);

    private SupernetTrainStage() {
    }

    public static void main(String[] args) {
        StageLauncher.launch(SupernetTrainOutputs.STAGE, args, Set.of(StageIndex.OPTION), false, SupernetSettings::from, SupernetTrainStage::run);
    }

    public static SupernetTrainResult run(SupernetSettings s, SparkSession spark) {
        RunStore store = new RunStore(s.run().root(), s.run().runId(), spark.sparkContext().hadoopConfiguration());
        RunSpace rs = RunSpace.of(store, s.run().runId(), s.space());
        SearchSpace space = rs.space();
        List<StageRecord.Input> inputs = new ArrayList<>(List.of(rs.input(store)));
        SupernetTraining.Inherited inherited = null;
        int k = s.stageIndex().k();
        if (k >= 2) {
            // PAD-NAS stage k: the space pruned after search k-1, weights inherited from supernet-train k-1 (section 3.2)
            String pruneDir = StageIndex.dir(PruneOutputs.STAGE, k - 1);
            String prevDir = StageIndex.dir(SupernetTrainOutputs.STAGE, k - 1);
            StageRecord prune = store.committed(pruneDir).orElseThrow(() -> new InputDataException("supernet-train --stage-index " + k
                    + " fine-tunes the space pruned by prune --stage-index " + (k - 1) + ", but " + store.stageDir(pruneDir)
                    + " is not committed: run submit/prune.sh --stage-index " + (k - 1) + " first."));
            StageRecord prev = store.committed(prevDir).orElseThrow(() -> new InputDataException("supernet-train --stage-index " + k
                    + " inherits the weights of " + store.stageDir(prevDir) + ", which is not committed."));
            space = SpaceTable.read(spark, store.tableUri(pruneDir, PruneOutputs.PRUNED_SPACE), space);
            inputs.add(new StageRecord.Input(pruneDir, store.stageDir(pruneDir).toString(), prune.fingerprint()));
            inputs.add(new StageRecord.Input(prevDir, store.stageDir(prevDir).toString(), prev.fingerprint()));
            inherited = new SupernetTraining.Inherited(prevDir, store.tableUri(prevDir, SupernetTrainOutputs.SUPERNET));
        }
        StrategySelection.Selected selected = StrategySelection.select(s, spark, store, space);
        inputs.addAll(selected.inputs());
        Optional<DsoNasPretraining.Source> pretrained = s.method().pretrains()
                ? DsoNasPretraining.source(s, spark, rs.ingest().fingerprint()) : Optional.empty();
        pretrained.ifPresent(p -> inputs.add(p.input()));
        StageCommit commit = StageCommit.begin(store, s.run(), SupernetTrainOutputs.STAGE, s.stageIndex().dirIndex(),
                NasConfig.hash(s.run().config(), s.sections()), s.seed(), inputs);
        if (commit.skipped()) {
            return SupernetTrainResult.read(spark, store, commit.existing(), true);
        }
        try {
            StageRecord record = new SupernetTraining(s, spark, store, commit, space, inherited, selected.strategy(), pretrained,
                    rs.ingest().fingerprint()).run();
            return SupernetTrainResult.read(spark, store, record, false);
        } catch (RuntimeException e) {
            LOG.error("supernet-train failed; its checkpoints (if any) stay at {}: re-run with --resume to continue from the last "
                    + "completed epoch, or --force to start over", store.stageDir(commit.stageDir()));
            throw e;
        }
    }
}
