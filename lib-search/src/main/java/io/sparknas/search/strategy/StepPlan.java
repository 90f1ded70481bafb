package io.sparknas.search.strategy;

import io.sparknas.supernet.step.LayerSum;
import io.sparknas.supernet.space.Arch;

/**
 * What one training step computes.
 *
 * @param arch                a single path, or (weighted) the ops of each layer that take part
 * @param weights             null for a single-path step; else {@code weights[layer][k]} multiplies the output of
 *                            {@code arch.ops(layer).get(k)}
 * @param sum                 how a weighted layer combines its ops: DA-NAS's mixture or DSO-NAS's scaled branches with the
 *                            shortcut added once ({@link LayerSum})
 * @param fixedBatchNormScale true: the step keeps every BatchNorm scale at 1 (DSO-NAS section 4.1)
 */
public record StepPlan(Arch arch, double[][] weights, LayerSum sum, boolean fixedBatchNormScale) {

    /** A weighted step as a mixture of the ops (DA-NAS Eq. 7). */
    public StepPlan(Arch arch, double[][] weights) {
        this(arch, weights, LayerSum.MIXTURE, false);
    }

    public static StepPlan path(Arch arch) {
        return new StepPlan(arch, null);
    }

    public boolean weighted() {
        return weights != null;
    }
}
