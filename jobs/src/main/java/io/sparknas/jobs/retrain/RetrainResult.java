package io.sparknas.jobs.retrain;

import io.sparknas.jobs.artifact.RetrainOutputs;
import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.util.List;

/** What retrain committed: per model its architecture, test accuracy and cost. */
public record RetrainResult(StageRecord record, String stageUri, boolean skipped, List<String> lines) implements StageResult {

    static RetrainResult read(SparkSession spark, RunStore store, StageRecord record, boolean skipped) {
        List<Row> rows = spark.read().parquet(store.tableUri(record.stageDir(), RetrainOutputs.FINAL_MODELS)).orderBy("model")
                .select("model", "arch", "test_accuracy", "supernet_accuracy", "mflops", "mparams", "wall_seconds").collectAsList();
        List<String> lines = rows.stream().map(r -> String.format("  model %d: test accuracy %.4f (supernet %s), %.2f MFLOPs, %.3f M params, %.0f s: %s",
                r.getInt(0), r.getDouble(2), r.isNullAt(3) ? "-" : String.format("%.4f", r.getDouble(3)), r.getDouble(4), r.getDouble(5),
                r.getDouble(6), r.getString(1))).toList();
        return new RetrainResult(record, store.stageDir(record.stageDir()).toString(), skipped, lines);
    }

    @Override
    public String summary() {
        return "retrain " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + String.join("\n", lines) + "\n"
                + "  query: submit/nas-sql --run-root " + record.config().path("run").path("root").asText() + " --run-id " + record.runId()
                + " \"select model, arch, test_accuracy, mflops from retrain_final_models order by test_accuracy desc\"";
    }
}
