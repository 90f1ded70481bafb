package io.sparknas.search.strategy;

import io.sparknas.supernet.space.Arch;

/**
 * What one training step computes.
 *
 * @param arch    a single path, or (weighted) the ops of each layer that take part
 * @param weights null for a single-path step; else {@code weights[layer][k]} multiplies the output of {@code arch.ops(layer).get(k)}
 */
public record StepPlan(Arch arch, double[][] weights) {

    public static StepPlan path(Arch arch) {
        return new StepPlan(arch, null);
    }

    public boolean weighted() {
        return weights != null;
    }
}
