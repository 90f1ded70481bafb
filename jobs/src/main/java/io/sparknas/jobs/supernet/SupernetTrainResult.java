package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/**
 * What supernet-train produced, read back from its committed tables.
 *
 * @param record          the committed {@code _stage.json}
 * @param stageUri        where its tables are
 * @param skipped         already committed with the same config and inputs
 * @param epochs          epochs trained
 * @param firstEpochLoss  mean training loss of the first epoch
 * @param lastEpochLoss   mean training loss of the last epoch
 * @param lastEpochAccuracy training accuracy (sampled paths) of the last epoch
 * @param imagesPerSecond training throughput over all rounds
 * @param meanPathAccuracy mean val accuracy of the evaluated random paths (NaN when none)
 * @param bestPathAccuracy best val accuracy among them
 * @param paths           evaluated paths
 */
public record SupernetTrainResult(StageRecord record, String stageUri, boolean skipped, int epochs, double firstEpochLoss,
                                  double lastEpochLoss, double lastEpochAccuracy, double imagesPerSecond, double meanPathAccuracy,
                                  double bestPathAccuracy, long paths) implements StageResult {

    static SupernetTrainResult read(SparkSession spark, RunStore store, StageRecord record, boolean skipped) {
        String dir = record.stageDir();
        List<Row> perEpoch = spark.read().parquet(store.tableUri(dir, SupernetTrainOutputs.METRICS)).where("phase = 'weights'")
                .groupBy("epoch").agg(org.apache.spark.sql.functions.expr("sum(loss * steps) / sum(steps)").as("loss"),
                        org.apache.spark.sql.functions.expr("sum(train_accuracy * images) / sum(images)").as("acc"))
                .orderBy("epoch").collectAsList();
        Row speed = spark.read().parquet(store.tableUri(dir, SupernetTrainOutputs.METRICS)).selectExpr("sum(images) / sum(seconds)").first();
        Row eval = spark.read().parquet(store.tableUri(dir, SupernetTrainOutputs.PATH_EVAL))
                .selectExpr("avg(val_accuracy)", "max(val_accuracy)", "count(*)").first();
        Row first = perEpoch.get(0);
        Row last = perEpoch.get(perEpoch.size() - 1);
        return new SupernetTrainResult(record, store.stageDir(dir).toString(), skipped, last.getInt(0), first.getDouble(1), last.getDouble(1),
                last.getDouble(2), speed.isNullAt(0) ? 0 : speed.getDouble(0), eval.isNullAt(0) ? Double.NaN : eval.getDouble(0),
                eval.isNullAt(1) ? Double.NaN : eval.getDouble(1), eval.getLong(2));
    }

    @Override
    public String summary() {
        String root = record.config().path("run").path("root").asText();
        return "supernet-train " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + String.format("  %d epochs: training loss %.4f -> %.4f, train accuracy of sampled paths %.3f, %.1f images/s%n", epochs,
                firstEpochLoss, lastEpochLoss, lastEpochAccuracy, imagesPerSecond)
                + String.format("  %d random paths on val after BN recalibration: mean accuracy %.3f, best %.3f%n", paths, meanPathAccuracy,
                bestPathAccuracy)
                + "  query: submit/nas-sql --run-root " + root + " --run-id " + record.runId()
                + " \"select * from supernet_train_path_eval order by val_accuracy desc\"";
    }
}
