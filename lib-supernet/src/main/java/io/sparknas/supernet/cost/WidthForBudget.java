package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;

import java.util.OptionalDouble;

/**
 * The global width multiplier that brings a searched architecture to a cost budget (DSO-NAS section 4.1: "after step two,
 * we adjust the number of filters in each operation by a global width multiplier to satisfy the computation budget"): the
 * largest width on a grid of {@value #STEP} in [{@value #MIN}, {@value #MAX}] (the range of {@code nas.space.width}) at which
 * the architecture, built in the same space family, resolution and depth, costs at most the budget. Every width of the
 * grid is tried, so the answer does not rely on the cost growing monotonically with the width (channel rounding).
 */
public final class WidthForBudget {

    public static final double MIN = 0.05;
    public static final double MAX = 4.0;
    /** Grid widths per unit of width. */
    private static final int PER_UNIT = 100;
    public static final double STEP = 1.0 / PER_UNIT;

    private WidthForBudget() {
    }

    /**
     * @param options the space the architecture was searched in (its width is replaced)
     * @param budget  the largest cost allowed, in the model's unit
     * @return the largest grid width within the budget, or empty when even {@value #MIN} exceeds it
     */
    public static OptionalDouble largest(SearchSpaces.Options options, Arch arch, CostModel model, double budget) {
        double quantum = model.quantum();
        for (long k = Math.round(MAX * PER_UNIT); k >= Math.round(MIN * PER_UNIT); k--) {
            double w = k / (double) PER_UNIT;
            SearchSpace space = SearchSpaces.build(at(options, w));
            // in whole quanta, as DDPNAS's bounds: the sum of the op costs may land an ulp above the decimal budget
            if (Math.round(model.cost(space, arch) / quantum) <= Math.floor(budget / quantum + 1e-9)) {
                return OptionalDouble.of(w);
            }
        }
        return OptionalDouble.empty();
    }

    /** The options at another width. */
    public static SearchSpaces.Options at(SearchSpaces.Options o, double width) {
        return new SearchSpaces.Options(o.family(), width, o.resolution(), o.inChannels(), o.stemStride(), o.classes(), o.maxLayersPerStage());
    }
}
