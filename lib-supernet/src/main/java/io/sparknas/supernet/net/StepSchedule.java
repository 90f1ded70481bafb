package io.sparknas.supernet.net;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/** DL4J schedule view of {@link OptimizerSettings#learningRateAt}: evaluated at the global step the supernet passes in. */
public final class StepSchedule implements ISchedule {

    private static final long serialVersionUID = 1L;

    @JsonProperty
    private final OptimizerSettings settings;

    public StepSchedule(@JsonProperty("settings") OptimizerSettings settings) {
        this.settings = settings;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        return settings.learningRateAt(iteration);
    }

    @Override
    public ISchedule clone() {
        return new StepSchedule(settings);
    }
}
