package io.sparknas.search.method;

import com.typesafe.config.Config;
import io.sparknas.supernet.config.InvalidSettingsException;

import java.util.ArrayList;
import java.util.List;

/**
 * PAD-NAS (Algorithm 1): M supernet stages; after each but the last, a constrained evolutionary search, pruning of the
 * layer-wise op sets by the search's op distribution (P_th), and a fine-tuning stage that inherits the weights. Every
 * stage trains by uniform single-path sampling (section 3.1).
 */
public final class PadNasMethod extends UniformSamplingMethod {

    /** Epochs, peak learning rates and warm-up epochs of the fine-tuning stages 2 .. M-1, one entry each. */
    public static final String FINETUNE_EPOCHS = "nas.padnas.finetune-epochs";
    public static final String FINETUNE_LEARNING_RATES = "nas.padnas.finetune-learning-rates";
    public static final String FINETUNE_WARMUP_EPOCHS = "nas.padnas.finetune-warmup-epochs";

    @Override
    public String name() {
        return "padnas";
    }

    /**
     * Stage 1 as SPOS, then per pruning k = 1 .. M-2: search-k, prune-k, supernet-train-(k+1); retrain, ranking and report
     * of the last search (search-(M-1)), so they never mix with SPOS's of the same run.
     */
    @Override
    public List<String> stagePlan(Config config) {
        int m = config.getInt("nas.padnas.stages");
        if (m < 2) {
            throw new InvalidSettingsException("nas.padnas.stages = " + m + ": PAD-NAS needs M >= 2");
        }
        List<String> stages = new ArrayList<>(List.of("ingest", "latency-profile", "supernet-train"));
        for (int k = 1; k <= m - 2; k++) {
            String sfx = k > 1 ? "-" + k : "";
            stages.addAll(List.of("search" + sfx, "prune" + sfx, "supernet-train-" + (k + 1)));
        }
        String sfx = m - 1 > 1 ? "-" + (m - 1) : "";
        stages.addAll(List.of("search" + sfx, "retrain" + sfx, "ranking" + sfx, "report" + sfx));
        return stages;
    }

    @Override
    public List<String> planKeys() {
        return List.of("nas.padnas.stages");
    }
}
