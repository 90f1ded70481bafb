package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.ArchParamsTable;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.store.StageCheckpoints;
import io.sparknas.supernet.net.SupernetState;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * supernet-train's checkpoint: where training stands (epoch, rounds of it done), the averaged supernet state (parameters,
 * BatchNorm statistics and updater state of every part), the strategy's state (DA-NAS logits, pruning and optimiser moments),
 * the per-round metrics and the {@code arch_params} rows so far. Everything a round computes is a
 * function of (seed, epoch, worker, step) and of this state, so training resumed from it equals an uninterrupted run.
 * Written atomically through {@link StageCheckpoints}; checkpoint number = rounds done since the start of training.
 */
record SupernetCheckpoint(int epoch, int roundsDone, SupernetState state, List<Row> metrics, String strategyState, List<Row> archParams) {

    private static final String POSITION = "position";
    private static final String STATE = "state";
    private static final String METRICS = "metrics";
    private static final String STRATEGY = "strategy";
    private static final String ARCH_PARAMS = "arch_params";

    static void write(SparkSession spark, StageCheckpoints cps, long number, int epoch, int roundsDone, SupernetState state, List<Row> metrics,
                      String strategyState, List<Row> archParams) {
        cps.begin(number);
        StateTable.write(spark, state, cps.tableUri(number, STATE));
        cps.writeText(number, STRATEGY, strategyState);
        ArchParamsTable.write(spark, archParams, cps.tableUri(number, ARCH_PARAMS));
        spark.createDataFrame(metrics, SupernetTrainOutputs.METRICS_SCHEMA).coalesce(1).write().parquet(cps.tableUri(number, METRICS));
        cps.writeText(number, POSITION, epoch + " " + roundsDone);
        cps.complete(number, "epoch " + epoch + ", rounds done " + roundsDone);
    }

    static Optional<SupernetCheckpoint> latest(SparkSession spark, StageCheckpoints cps) {
        OptionalLong n = cps.latest();
        if (n.isEmpty()) {
            return Optional.empty();
        }
        String[] pos = cps.readText(n.getAsLong(), POSITION).trim().split(" ");
        SupernetState state = StateTable.read(spark, cps.tableUri(n.getAsLong(), STATE));
        List<Row> metrics = spark.read().parquet(cps.tableUri(n.getAsLong(), METRICS)).orderBy("epoch", "round").collectAsList();
        return Optional.of(new SupernetCheckpoint(Integer.parseInt(pos[0]), Integer.parseInt(pos[1]), state, metrics,
                cps.readText(n.getAsLong(), STRATEGY), ArchParamsTable.read(spark, cps.tableUri(n.getAsLong(), ARCH_PARAMS))));
    }
}
