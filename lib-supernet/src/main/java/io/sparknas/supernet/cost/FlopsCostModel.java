package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

/** Multiply-adds in millions ("MFLOPs" as the NAS papers report them), analytic per op at its layer shape. */
public final class FlopsCostModel implements CostModel {

    @Override
    public String unit() {
        return "mflops";
    }

    @Override
    public double opCost(SearchSpace space, int layer, Op op) {
        return ConvArithmetic.op(space.layer(layer), op)[0] / 1e6;
    }

    /** One multiply-add: costs are whole counts in millions. */
    @Override
    public double quantum() {
        return 1e-6;
    }

    @Override
    public double fixedCost(SearchSpace space) {
        return ConvArithmetic.fixed(space)[0] / 1e6;
    }
}
