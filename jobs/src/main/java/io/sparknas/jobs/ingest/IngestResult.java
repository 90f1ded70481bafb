package io.sparknas.jobs.ingest;

import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/**
 * What ingest produced, read back from the committed tables.
 *
 * @param record  the committed {@code _stage.json}
 * @param stageUri where the stage's tables are
 * @param skipped true when the stage was already committed with the same config and inputs
 * @param train   images in the train split
 * @param val     images in the search val split
 * @param test    images in the test split
 * @param classes number of classes
 * @param rejects files not used
 */
public record IngestResult(StageRecord record, String stageUri, boolean skipped, long train, long val, long test, int classes,
                           long rejects) implements StageResult {

    static IngestResult read(SparkSession spark, RunStore store, StageRecord record, boolean skipped) {
        List<Row> rows = spark.read().parquet(store.tableUri(record.stageDir(), IngestOutputs.CLASSES))
                .selectExpr("sum(train)", "sum(val)", "sum(test)", "count(*)").collectAsList();
        Row r = rows.get(0);
        return new IngestResult(record, store.stageDir(record.stageDir()).toString(), skipped, r.getLong(0), r.getLong(1), r.getLong(2),
                (int) r.getLong(3), record.tables().get(IngestOutputs.REJECTS).rows());
    }

    @Override
    public String summary() {
        String root = record.config().path("run").path("root").asText();
        return "ingest " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + "  images: train " + train + ", val " + val + ", test " + test + " (" + classes + " classes)\n"
                + "  rejects: " + rejects + "\n"
                + "  query: submit/nas-sql --run-root " + root + " --run-id " + record.runId()
                + " \"select split, count(*) from ingest_images group by split\"";
    }
}
