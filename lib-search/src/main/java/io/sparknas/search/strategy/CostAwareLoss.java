package io.sparknas.search.strategy;

import java.io.Serializable;

/**
 * DA-NAS's cost-aware architecture loss (Eq. 10) as this project reads it: {@code L = L_cls * (ln C / ln beta)^gamma}, with
 * {@code C} the expected cost of the supernet under the step's weights (Eq. 8) and {@code beta} the target cost. The printed
 * form {@code L_cls * log(C / beta)^gamma} is 0 at the target and negative below it, so minimising it would maximise the
 * classification loss; DA-NAS re-implements ProxylessNAS, whose public code has exactly this form ({@code mul#log}: CE *
 * (ln E[cost] / ln ref)^beta). The factor is 1 at the target, above 1 over it, below 1 under it. Costs are taken in
 * thousandths of the cost model's unit (kFLOPs, microseconds) so that both C and beta exceed e and the logarithms are positive
 * (the project's deviations table lists the readings considered).
 *
 * @param beta  target cost, in the cost model's unit
 * @param gamma strength of the cost term; 0 turns it off (L = L_cls)
 */
public record CostAwareLoss(double beta, double gamma) implements Serializable {

    /** Costs enter the logarithms in units of 1/{@value} of the cost model's unit. */
    public static final double SCALE = 1000;

    public CostAwareLoss {
        if (gamma > 0 && !(beta * SCALE > Math.E)) {
            throw new IllegalArgumentException("target cost " + beta + " is too small: 1000 x the target must exceed e");
        }
    }

    /** {@code (ln C / ln beta)^gamma} for an expected cost {@code c} in the cost model's unit. */
    public double factor(double c) {
        if (gamma == 0) {
            return 1;
        }
        return Math.pow(ratio(c), gamma);
    }

    /** d factor / dC. */
    public double factorDerivative(double c) {
        if (gamma == 0) {
            return 0;
        }
        double cs = Math.max(c * SCALE, Math.E);
        return gamma * Math.pow(ratio(c), gamma - 1) / (cs * Math.log(beta * SCALE)) * SCALE;
    }

    private double ratio(double c) {
        // an expected cost is never below the fixed parts of the network; the clamp only guards a degenerate cost table
        return Math.log(Math.max(c * SCALE, Math.E)) / Math.log(beta * SCALE);
    }
}
