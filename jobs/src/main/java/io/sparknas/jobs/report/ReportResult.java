package io.sparknas.jobs.report;

import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.StageRecord;

/** Where the report page and its charts are. */
public record ReportResult(StageRecord record, String stageUri, boolean skipped) implements StageResult {

    @Override
    public String summary() {
        return "report " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + "  open " + record.properties().get("page") + " (charts: " + record.properties().get("charts") + ")"
                + (record.properties().containsKey("headline") ? "\n  headline: " + record.properties().get("headline") : "");
    }
}
