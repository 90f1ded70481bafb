package io.sparknas.search.method;

import com.typesafe.config.Config;

import java.util.Optional;

/**
 * What SPOS and PAD-NAS share: every supernet stage trains by uniform single-path sampling ({@link UniformTraining}), fine-tuning
 * stages k >= 2 are allowed, and a constrained evolutionary search finds the architectures.
 */
abstract class UniformSamplingMethod implements NasMethod {

    @Override
    public Configured configure(Config config, long seed) {
        return new UniformTraining(name());
    }

    @Override
    public Optional<String> firstStageOnly() {
        return Optional.empty();
    }

    @Override
    public SearchKind searchKind() {
        return SearchKind.EVOLUTION;
    }
}
