package io.sparknas.search.method;

import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.sample.PathSampler;
import io.sparknas.supernet.space.SearchSpace;

/**
 * What a method's strategy is built from: the stage's space (pruned for a PAD-NAS fine-tuning stage), its epochs, the path
 * sampler, and the run's tables the method asked for ({@link NasMethod.Configured#needs}; null when not asked for).
 *
 * @param classRanking class indices from easiest to hardest (the easiness stage), or null
 * @param latency      the run's latency table, or null
 */
public record StrategyInputs(SearchSpace space, int stageIndex, int stageEpochs, PathSampler sampler, int[] classRanking,
                             LatencyTable latency) {
}
