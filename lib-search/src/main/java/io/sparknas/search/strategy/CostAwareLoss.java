package io.sparknas.search.strategy;

import java.io.Serializable;

/**
 * DA-NAS's cost-aware architecture loss (Eq. 10) as this project reads it: {@code L = L_cls * (ln C' / ln beta')^gamma}, with
 * {@code C} the expected cost of the supernet under the step's weights (Eq. 8) and {@code beta} the target cost. The printed
 * form {@code L_cls * log(C / beta)^gamma} is 0 at the target and negative below it, so minimising it would maximise the
 * classification loss; DA-NAS re-implements ProxylessNAS, whose public code has exactly the ratio-of-logarithms form
 * ({@code mul#log}: CE * (ln E[cost] / ln ref)^beta).
 *
 * <p>That form's strength depends on the unit the costs are written in: {@code ln C / ln beta = 1 + ln(C / beta) / ln beta},
 * so the same gamma pulls harder at a target of 80 (ms) than at 80,000 (us). Here both costs are measured in units of
 * {@code beta / }{@value #REFERENCE} ({@code C' = REFERENCE C / beta}, {@code beta' = REFERENCE}): the factor is
 * {@code (1 + ln(C / beta) / ln REFERENCE)^gamma}, a function of C / beta alone, whatever the cost model and its unit, and
 * equal to ProxylessNAS's factor at its FLOPs reference (300 MFLOPs), so its gamma values (0.3-0.6) carry over. The factor
 * is 1 at the target, above 1 over it, below 1 under it.
 *
 * <p>{@code aboveTargetOnly}: the factor is 1 (and its derivative 0) at and below beta, so the cost term pulls only an
 * expected cost above the target down and beta acts as a budget; ProxylessNAS's form keeps rewarding any cost below it.
 *
 * @param beta            target cost, in the cost model's unit (positive)
 * @param gamma           strength of the cost term; 0 turns it off (L = L_cls)
 * @param aboveTargetOnly true: no pull below beta
 */
public record CostAwareLoss(double beta, double gamma, boolean aboveTargetOnly) implements Serializable {

    /** ProxylessNAS's form: the cost term pulls at every cost. */
    public CostAwareLoss(double beta, double gamma) {
        this(beta, gamma, false);
    }

    /** beta in the logarithms' unit: ProxylessNAS's FLOPs reference, {@code ref_value = 300} (MFLOPs). */
    public static final double REFERENCE = 300;

    public CostAwareLoss {
        if (gamma > 0 && !(beta > 0 && Double.isFinite(beta))) {
            throw new IllegalArgumentException("target cost " + beta + " must be positive");
        }
    }

    /** {@code (ln C' / ln beta')^gamma} for an expected cost {@code c} in the cost model's unit. */
    public double factor(double c) {
        if (gamma == 0 || aboveTargetOnly && c <= beta) {
            return 1;
        }
        return Math.pow(ratio(c), gamma);
    }

    /** d factor / dC. */
    public double factorDerivative(double c) {
        if (gamma == 0 || aboveTargetOnly && c <= beta) {
            return 0;
        }
        double cs = Math.max(c * REFERENCE / beta, Math.E);
        return gamma * Math.pow(ratio(c), gamma - 1) / (cs * Math.log(REFERENCE)) * REFERENCE / beta;
    }

    private double ratio(double c) {
        // C' >= e: an expected cost below beta e / 300 (never reached by a network whose fixed parts cost more) keeps the
        // logarithm's ratio positive
        return Math.log(Math.max(c * REFERENCE / beta, Math.E)) / Math.log(REFERENCE);
    }
}
