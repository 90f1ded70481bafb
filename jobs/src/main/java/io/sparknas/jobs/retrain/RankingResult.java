package io.sparknas.jobs.retrain;

import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.SparkSession;

/** What ranking committed: Kendall's tau over the retrained architectures. */
public record RankingResult(StageRecord record, String stageUri, boolean skipped, RankingStage.Tau tau, long models) implements StageResult {

    static RankingResult read(SparkSession spark, RunStore store, StageRecord record, boolean skipped) {
        return new RankingResult(record, store.stageDir(record.stageDir()).toString(), skipped, RankingStage.Tau.of(record.properties()),
                Long.parseLong(record.properties().get("models")));
    }

    @Override
    public String summary() {
        return "ranking " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + String.format("  Kendall tau between supernet and stand-alone accuracy over %d architectures: %s%n", models, tau.text())
                + "  query: submit/nas-sql --run-root " + record.config().path("run").path("root").asText() + " --run-id " + record.runId()
                + " \"select * from ranking_ranking order by cost\"";
    }
}
