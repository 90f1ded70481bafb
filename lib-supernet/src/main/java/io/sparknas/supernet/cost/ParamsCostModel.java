package io.sparknas.supernet.cost;

import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

/** Trainable parameters in millions (BatchNorm gamma/beta included, running statistics not), analytic per op. */
public final class ParamsCostModel implements CostModel {

    @Override
    public String unit() {
        return "mparams";
    }

    @Override
    public double opCost(SearchSpace space, int layer, Op op) {
        return ConvArithmetic.op(space.layer(layer), op)[1] / 1e6;
    }

    /** One parameter: costs are whole counts in millions. */
    @Override
    public double quantum() {
        return 1e-6;
    }

    @Override
    public double fixedCost(SearchSpace space) {
        return ConvArithmetic.fixed(space)[1] / 1e6;
    }
}
