package io.sparknas.search.method;

import io.sparknas.search.strategy.TrainingStrategy;
import io.sparknas.search.strategy.UniformSampling;

import java.util.List;

/** SPOS's and PAD-NAS's supernet-train: uniform single-path sampling on the stage's (possibly pruned) space. */
final class UniformTraining implements NasMethod.Configured {

    private final String method;

    UniformTraining(String method) {
        this.method = method;
    }

    /**
     * The first stage does not depend on the fine-tuning epochs, so changing them keeps the shared SPOS stages
     * (supernet-train, search) of a PAD-NAS run.
     */
    @Override
    public List<String> supernetSections(int stageIndex) {
        return stageIndex == 1 ? List.of("nas.space", "nas.supernet")
                : List.of("nas.space", "nas.supernet", PadNasMethod.FINETUNE_EPOCHS, PadNasMethod.FINETUNE_LEARNING_RATES,
                PadNasMethod.FINETUNE_WARMUP_EPOCHS);
    }

    @Override
    public List<NasMethod.Need> needs() {
        return List.of();
    }

    @Override
    public TrainingStrategy strategy(StrategyInputs in) {
        return new UniformSampling(method, in.space(), in.sampler(), in.stageEpochs());
    }
}
