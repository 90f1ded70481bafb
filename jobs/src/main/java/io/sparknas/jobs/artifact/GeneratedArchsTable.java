package io.sparknas.jobs.artifact;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The {@code generated_archs} table of a search stage: the architectures a method outputs from its trained parameters rather
 * than from an evolutionary search (DA-NAS argmax, DDPNAS ENG per constraint, DSO-NAS non-zero lambda), with their costs,
 * the supernet's val accuracy (BatchNorm recalibrated), the constraint each answers (null: none), how it was chosen, and the
 * width multiplier it is to be built at: the space's, or (DSO-NAS with {@code nas.dsonas.target-mflops}) the one that
 * meets the budget, at which its costs are given. Retrain trains every row, as it trains a {@code pareto_front}.
 */
public final class GeneratedArchsTable {

    public static final String TABLE = "generated_archs";

    public static final StructType SCHEMA = new StructType()
            .add("arch", DataTypes.StringType, false).add("ops", DataTypes.createArrayType(DataTypes.StringType), false)
            .add("accuracy", DataTypes.DoubleType, false).add("mflops", DataTypes.DoubleType, false)
            .add("mparams", DataTypes.DoubleType, false).add("latency_ms", DataTypes.DoubleType, true)
            .add("constraint", DataTypes.StringType, true).add("chosen_by", DataTypes.StringType, false)
            .add("width", DataTypes.DoubleType, false);

    private GeneratedArchsTable() {
    }
}
