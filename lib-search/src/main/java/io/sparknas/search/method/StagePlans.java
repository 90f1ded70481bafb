package io.sparknas.search.method;

import java.util.ArrayList;
import java.util.List;

/** Stage lists the methods share. */
final class StagePlans {

    private StagePlans() {
    }

    /**
     * A method that searches inside one supernet-train stage and outputs its own architectures: ingest, the tables it needs
     * ({@code inputs}, e.g. easiness, latency-profile), supernet-train, search (its read-off or generation), retrain and
     * report. No ranking stage: ranking measures how well a search's supernet accuracy orders a Pareto front.
     */
    static List<String> oneSupernet(List<String> inputs) {
        List<String> stages = new ArrayList<>(List.of("ingest"));
        stages.addAll(inputs);
        stages.addAll(List.of("supernet-train", "search", "retrain", "report"));
        return stages;
    }
}
