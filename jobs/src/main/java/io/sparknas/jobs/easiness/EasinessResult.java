package io.sparknas.jobs.easiness;

import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;

/** What easiness committed: the class order and how far the reference networks agree on it. */
public record EasinessResult(StageRecord record, String stageUri, boolean skipped, String networks, String easiestFirst, double meanPairwiseSpearman,
                             double easinessAccuracySpearman) implements StageResult {

    static EasinessResult read(RunStore store, StageRecord record, boolean skipped) {
        return new EasinessResult(record, store.stageDir(record.stageDir()).toString(), skipped, record.properties().get("networks"),
                record.properties().get("easiest_first"), Double.parseDouble(record.properties().get("mean_pairwise_spearman")),
                Double.parseDouble(record.properties().get("easiness_accuracy_spearman")));
    }

    @Override
    public String summary() {
        return "easiness " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + "  classes, easiest first: " + easiestFirst + " (networks " + networks + ")\n"
                + String.format("  networks' mean pairwise Spearman rho of class scores %.4f; Spearman rho of easiness and per-class test accuracy %.4f%n",
                meanPairwiseSpearman, easinessAccuracySpearman)
                + "  query: submit/nas-sql --run-root " + record.config().path("run").path("root").asText() + " --run-id " + record.runId()
                + " \"select class_index, rank, score from easiness_class_easiness order by rank\"";
    }
}
