package io.sparknas.jobs.latency;

import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.StageResult;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import org.apache.spark.sql.SparkSession;

/**
 * What latency-profile produced: the table and, as headline figures, the latency of the space's smallest and largest
 * architectures (first and last candidate of every layer) summed from it.
 */
public record LatencyProfileResult(StageRecord record, String stageUri, boolean skipped, LatencyTable table, double minArchMs,
                                   double maxArchMs) implements StageResult {

    static LatencyProfileResult read(SparkSession spark, RunStore store, StageRecord record, SearchSpace space, boolean skipped) {
        LatencyTable table = LatencyProfileOutputs.read(spark, store, record);
        LatencyCostModel cost = new LatencyCostModel(table);
        double lo = Double.MAX_VALUE;
        double hi = 0;
        int[] first = new int[space.size()];
        int[] last = new int[space.size()];
        for (int i = 0; i < space.size(); i++) {
            last[i] = space.layer(i).candidates().size() - 1;
        }
        for (int[] idx : new int[][]{first, last}) {
            double c = cost.cost(space, Arch.ofIndices(space, idx));
            lo = Math.min(lo, c);
            hi = Math.max(hi, c);
        }
        return new LatencyProfileResult(record, store.stageDir(record.stageDir()).toString(), skipped, table, lo, hi);
    }

    @Override
    public String summary() {
        String root = record.config().path("run").path("root").asText();
        return "latency-profile " + (skipped ? "skipped (already committed with the same config and inputs)" : "committed") + ": " + stageUri + "\n"
                + String.format("  %d probes at batch %d on %s%n", table.entries().size(), table.batchSize(), table.device())
                + String.format("  summed latency of the first-candidate and last-candidate architectures: %.3f ms and %.3f ms%n", minArchMs, maxArchMs)
                + "  query: submit/nas-sql --run-root " + root + " --run-id " + record.runId()
                + " \"select * from latency_profile_latency order by median_ms desc\"";
    }
}
