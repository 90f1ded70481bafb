package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

/**
 * The cost of an architecture: stem + the sum of its layers' op costs + head. A cost model never trains or runs a network;
 * search strategies use it for their objectives and constraints (PAD-NAS Eq. 2 latency bounds; DDPNAS Eq. 9-10; DSO-NAS
 * Eq. 17-19; DA-NAS Eq. 8-10).
 */
public interface CostModel {

    /** What the number measures, e.g. {@code mflops}, {@code mparams}, {@code ms}. */
    String unit();

    /** Cost of one op at one layer (0 for identity); for several ops in a layer, their sum. */
    double opCost(SearchSpace space, int layer, Op op);

    /**
     * The smallest cost difference that counts, in {@link #unit()}: where a cost is compared with a bound exactly (DDPNAS's
     * generation), costs are whole numbers of it and the bound the largest whole number not above it. Analytic counts
     * (multiply-adds, parameters) are integers, so their quantum is one of them; measured costs default to 1e-9 of the unit.
     */
    default double quantum() {
        return 1e-9;
    }

    /** Cost of what every architecture has: stem and head. */
    double fixedCost(SearchSpace space);

    /** Total cost of an architecture. */
    default double cost(SearchSpace space, Arch arch) {
        arch.requireIn(space);
        double c = fixedCost(space);
        for (int i = 0; i < arch.layers(); i++) {
            for (Op op : arch.ops(i)) {
                c += opCost(space, i, op);
            }
        }
        return c;
    }
}
