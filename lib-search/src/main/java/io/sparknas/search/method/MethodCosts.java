package io.sparknas.search.method;

import io.sparknas.supernet.cost.CostModel;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.space.SearchSpace;

/** The per-op costs a cost-aware strategy works with (DA-NAS Eq. 8, DSO-NAS Eq. 19), in the cost model's unit. */
final class MethodCosts {

    private MethodCosts() {
    }

    /** Per layer and candidate, the op's cost in the model. */
    static double[][] perOp(SearchSpace space, CostModel cost) {
        double[][] opCost = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            int layer = l;
            opCost[l] = space.layer(l).candidates().stream().mapToDouble(op -> cost.opCost(space, layer, op)).toArray();
        }
        return opCost;
    }

    /** The run's latency table as a cost model; the stage checked it covers the space ({@link NasMethod.Need.Kind#LATENCY}). */
    static CostModel latency(LatencyTable table) {
        if (table == null) {
            throw new IllegalStateException("the latency table was asked for but not given");
        }
        return new LatencyCostModel(table);
    }
}
