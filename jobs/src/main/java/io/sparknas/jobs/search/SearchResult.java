package io.sparknas.jobs.search;

import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * What the search produced, read back from its committed tables.
 *
 * @param frontSize      architectures on the final Pareto front
 * @param bestAccuracy   the front's best supernet accuracy
 * @param bestCost       that architecture's cost (in {@code unit})
 * @param minCost        the front's lowest cost
 * @param maxCost        the front's highest cost
 * @param evaluations    architectures evaluated (each once)
 * @param evalsPerSecond evaluations per second of search wall time
 */
public record SearchResult(StageRecord record, String stageUri, boolean skipped, int frontSize, double bestAccuracy, double bestCost,
                           double minCost, double maxCost, String unit, long evaluations, double evalsPerSecond, double seconds) implements StageResult {

    static SearchResult read(SparkSession spark, RunStore store, StageRecord record, boolean skipped) {
        String dir = record.stageDir();
        String table = record.tables().containsKey(SearchStage.PARETO_FRONT) ? SearchStage.PARETO_FRONT : GeneratedArchsTable.TABLE;
        if (table.equals(GeneratedArchsTable.TABLE)) {
            Row g = spark.read().parquet(store.tableUri(dir, table)).selectExpr("count(*)", "max(accuracy)", "min(mflops)", "max(mflops)").first();
            return new SearchResult(record, store.stageDir(dir).toString(), skipped, (int) g.getLong(0), g.getDouble(1), g.getDouble(2),
                    g.getDouble(2), g.getDouble(3), "mflops", Long.parseLong(record.properties().get("evaluations")),
                    Double.parseDouble(record.properties().get("evaluations_per_second")), Double.parseDouble(record.properties().get("search_seconds")));
        }
        Row best = spark.read().parquet(store.tableUri(dir, SearchStage.PARETO_FRONT)).orderBy(org.apache.spark.sql.functions.desc("accuracy"))
                .select("accuracy", "cost").first();
        Row agg = spark.read().parquet(store.tableUri(dir, SearchStage.PARETO_FRONT)).selectExpr("count(*)", "min(cost)", "max(cost)").first();
        return new SearchResult(record, store.stageDir(dir).toString(), skipped, (int) agg.getLong(0), best.getDouble(0), best.getDouble(1),
                agg.getDouble(1), agg.getDouble(2), record.properties().get("cost_unit"), Long.parseLong(record.properties().get("evaluations")),
                Double.parseDouble(record.properties().get("evaluations_per_second")), Double.parseDouble(record.properties().get("search_seconds")));
    }

    @Override
    public String summary() {
        String root = record.config().path("run").path("root").asText();
        String view = record.stageDir().replace('-', '_');
        return record.stageDir() + " " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + String.format("  %d architectures evaluated in %.0f s (%.2f evaluations/s)%n", evaluations, seconds, evalsPerSecond)
                + String.format("  Pareto front: %d architectures, cost %.3f to %.3f %s; best supernet accuracy %.4f at %.3f %s%n", frontSize, minCost,
                maxCost, unit, bestAccuracy, bestCost, unit)
                + "  query: submit/nas-sql --run-root " + root + " --run-id " + record.runId() + " \"select arch, accuracy, cost from " + view
                + "_pareto_front order by cost\"";
    }
}
