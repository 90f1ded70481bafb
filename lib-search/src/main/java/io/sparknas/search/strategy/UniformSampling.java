package io.sparknas.search.strategy;

import java.util.stream.IntStream;
import io.sparknas.supernet.step.StepResult;
import io.sparknas.supernet.sample.PathSampler;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;

import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * SPOS single-path training (Guo et al.; PAD-NAS section 3.1): every step trains one path drawn by the sampler (uniform over
 * the current layer-wise op sets, which for a PAD-NAS fine-tuning stage is the pruned space), all classes, no parameters of
 * its own, no architecture steps; a CES search reads the trained supernet.
 */
public final class UniformSampling implements TrainingStrategy {

    private final String method;
    private final SearchSpace space;
    private final PathSampler sampler;
    private final int epochs;
    private final int[] classes;

    public UniformSampling(String method, SearchSpace space, PathSampler sampler, int epochs) {
        this.method = method;
        this.space = space;
        this.sampler = sampler;
        this.epochs = epochs;
        this.classes = IntStream.range(0, space.classes()).toArray();
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public SearchSpace space() {
        return space;
    }

    @Override
    public int epochs() {
        return epochs;
    }

    @Override
    public EpochPlan epochPlan(int e) {
        return new EpochPlan(classes, false, "epoch " + (e + 1) + "/" + epochs);
    }

    @Override
    public RoundPlan plan(int e, Phase phase) {
        if (phase != Phase.WEIGHTS) {
            throw new IllegalArgumentException("uniform sampling has no architecture steps");
        }
        return new Plan(space, sampler);
    }

    @Override
    public void observe(int e, double[][] gradientSum, long steps) {
        throw new IllegalStateException("uniform sampling has no architecture steps");
    }

    @Override
    public List<ArchParam> endEpoch(int e) {
        return List.of();
    }

    @Override
    public Optional<Arch> readOff() {
        return Optional.empty();
    }

    @Override
    public String state() {
        return "";
    }

    @Override
    public void restore(String state) {
        if (!state.isBlank()) {
            throw new IllegalArgumentException("uniform sampling has no state, got: " + state);
        }
    }

    private record Plan(SearchSpace space, PathSampler sampler) implements RoundPlan {

        @Override
        public StepPlan step(int worker, int step, Random rnd) {
            return StepPlan.path(sampler.sample(space, rnd));
        }

        @Override
        public double[][] parameterGradient(StepPlan step, StepResult result) {
            throw new IllegalStateException("uniform sampling has no architecture steps");
        }
    }
}
