package io.sparknas.search.method;

import com.typesafe.config.Config;
import io.sparknas.search.strategy.DdpnasStrategy;
import io.sparknas.search.strategy.TrainingStrategy;

import java.util.List;
import java.util.Optional;

/**
 * DDPNAS (Zheng et al., Algorithm 1): a per-layer distribution learned from the val accuracy of disjointly sampled paths
 * and pruned every T epochs ({@link DdpnasStrategy}); the search stage then generates one architecture per cost
 * constraint from the final distribution (ENG, section 3.3) by an exact knapsack.
 */
final class DdpnasMethod implements NasMethod {

    @Override
    public String name() {
        return "ddpnas";
    }

    /** A latency constraint in {@code nas.ddpnas.generation.constraints} needs the latency table; no ranking stage. */
    @Override
    public List<String> stagePlan(Config config) {
        boolean latency = config.getStringList("nas.ddpnas.generation.constraints").stream().anyMatch(c -> c.contains("latency"));
        return StagePlans.oneSupernet(latency ? List.of("latency-profile") : List.of());
    }

    @Override
    public List<String> planKeys() {
        return List.of("nas.ddpnas.generation.constraints");
    }

    @Override
    public Configured configure(Config config, long seed) {
        DdpnasStrategy.Settings d = DdpnasStrategy.Settings.read(config, seed);
        return new Configured() {
            /** Not nas.ddpnas.generation: the constraints are the search stage's, so changing them keeps the trained supernet. */
            @Override
            public List<String> supernetSections(int stageIndex) {
                return List.of("nas.space", "nas.supernet", "nas.run.method", "nas.ddpnas.epochs-per-update", "nas.ddpnas.momentum",
                        "nas.ddpnas.utility", "nas.ddpnas.utility-temperature", "nas.ddpnas.normalisation", "nas.ddpnas.learning-rate",
                        "nas.ddpnas.sampling", "nas.ddpnas.pass-per-architecture");
            }

            @Override
            public List<Need> needs() {
                return List.of();
            }

            @Override
            public TrainingStrategy strategy(StrategyInputs in) {
                return new DdpnasStrategy(in.space(), d);
            }
        };
    }

    @Override
    public Optional<String> firstStageOnly() {
        return Optional.of("DDPNAS prunes inside one supernet-train stage");
    }

    @Override
    public SearchKind searchKind() {
        return SearchKind.GENERATION;
    }
}
