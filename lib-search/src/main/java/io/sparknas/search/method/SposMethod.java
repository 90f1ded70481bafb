package io.sparknas.search.method;

import com.typesafe.config.Config;

import java.util.List;

/**
 * SPOS (Guo et al., single-path one-shot): a supernet trained by uniform single-path sampling, then a constrained
 * evolutionary search over it; the baseline the other methods are compared with.
 */
final class SposMethod extends UniformSamplingMethod {

    @Override
    public String name() {
        return "spos";
    }

    @Override
    public List<String> stagePlan(Config config) {
        return List.of("ingest", "latency-profile", "supernet-train", "search", "retrain", "ranking", "report");
    }

    @Override
    public List<String> planKeys() {
        return List.of();
    }
}
