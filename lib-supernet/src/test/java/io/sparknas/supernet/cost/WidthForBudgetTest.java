package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WidthForBudgetTest {

    /** The tiny preset's space (Fashion-MNIST, one layer per stage) at width 0.25. */
    static final SearchSpaces.Options TINY = new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 1);

    /** Every layer's costliest op. */
    static Arch largest(SearchSpace space) {
        FlopsCostModel flops = new FlopsCostModel();
        List<Op> ops = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            ops.add(space.layer(l).candidates().stream().max(java.util.Comparator.comparingDouble(o -> flops.opCost(space, layer, o))).orElseThrow());
        }
        return Arch.single(ops);
    }

    /**
     * DSO-NAS section 4.1's global width multiplier: the answer meets the budget and the next grid width does not; a budget
     * equal to the cost at the searched width gives at least that width; below the narrowest width's cost there is none
     * (channels stop shrinking at 8: the tiny space costs 75% of its width-0.25 cost at 0.05).
     */
    @Test
    void theLargestGridWidthWithinTheBudgetAndNoneBelowTheNarrowest() {
        FlopsCostModel flops = new FlopsCostModel();
        SearchSpace space = SearchSpaces.build(TINY);
        Arch arch = largest(space);
        double atSearched = flops.cost(space, arch);
        for (double share : new double[]{0.8, 0.9, 1.0, 2.5}) {
            double budget = share * atSearched;
            double w = WidthForBudget.largest(TINY, arch, flops, budget).orElseThrow();
            double cost = flops.cost(SearchSpaces.build(WidthForBudget.at(TINY, w)), arch);
            assertTrue(cost <= budget, "width " + w + ": " + cost + " within " + budget);
            assertTrue(flops.cost(SearchSpaces.build(WidthForBudget.at(TINY, w + WidthForBudget.STEP)), arch) > budget, "width " + w + " is the largest");
            assertTrue(share < 1 ? w < 0.25 : w >= 0.25, "share " + share + ": width " + w);
        }
        double narrowest = flops.cost(SearchSpaces.build(WidthForBudget.at(TINY, WidthForBudget.MIN)), arch);
        assertEquals(WidthForBudget.MIN, WidthForBudget.largest(TINY, arch, flops, narrowest).orElseThrow(), 0);
        assertTrue(WidthForBudget.largest(TINY, arch, flops, narrowest * 0.99).isEmpty());
    }
}
