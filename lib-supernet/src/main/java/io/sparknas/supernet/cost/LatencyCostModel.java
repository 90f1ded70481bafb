package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

/** Latency in milliseconds summed from a measured {@link LatencyTable} (PAD-NAS Eq. 2's LAT(a); DA-NAS Eq. 8). */
public final class LatencyCostModel implements CostModel {

    private final LatencyTable table;

    public LatencyCostModel(LatencyTable table) {
        this.table = table;
    }

    public LatencyTable table() {
        return table;
    }

    @Override
    public String unit() {
        return "ms";
    }

    @Override
    public double opCost(SearchSpace space, int layer, Op op) {
        return op instanceof Op.Identity ? 0 : table.ms(LatencyProbe.of(space.layer(layer), op));
    }

    @Override
    public double fixedCost(SearchSpace space) {
        return table.ms(LatencyProbe.stem(space)) + table.ms(LatencyProbe.head(space)) + table.ms(LatencyProbe.classifier(space));
    }
}
