package io.sparknas.jobs.prune;

import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;

/** What the prune stage committed: ops dropped and the search-space size (log10) before and after. */
public record PruneResult(StageRecord record, String stageUri, boolean skipped, int opsDropped, double log10Before, double log10After)
        implements StageResult {

    static PruneResult of(StageRecord record, RunStore store, boolean skipped) {
        return new PruneResult(record, store.stageDir(record.stageDir()).toString(), skipped, Integer.parseInt(record.properties().get("ops_dropped")),
                Double.parseDouble(record.properties().get("log10_size_before")), Double.parseDouble(record.properties().get("log10_size_after")));
    }

    @Override
    public String summary() {
        return record.stageDir() + " " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + String.format("  %d ops dropped; search space 10^%.2f -> 10^%.2f architectures%n", opsDropped, log10Before, log10After)
                + "  query: submit/nas-sql --run-root " + record.config().path("run").path("root").asText() + " --run-id " + record.runId()
                + " \"select * from " + record.stageDir().replace('-', '_') + "_pruning where not kept\"";
    }
}
