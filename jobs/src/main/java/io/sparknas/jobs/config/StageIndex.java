package io.sparknas.jobs.config;
import io.sparknas.supernet.config.InvalidSettingsException;

/**
 * The index k of a progressive stage (PAD-NAS stages, DA-NAS steps): {@code --stage-index k}, 1 by default. Stage k = 1
 * lives in the stage's plain directory ({@code supernet-train}, {@code search}), k >= 2 in {@code <stage>-k}.
 */
public record StageIndex(int k) {

    public static final String OPTION = "stage-index";

    public StageIndex {
        if (k < 1) {
            throw new InvalidSettingsException("--" + OPTION + " must be >= 1, got " + k);
        }
    }

    public static StageIndex from(StageArgs args) {
        String v = args.options().get(OPTION);
        if (v == null) {
            return new StageIndex(1);
        }
        try {
            return new StageIndex(Integer.parseInt(v.trim()));
        } catch (NumberFormatException e) {
            throw new InvalidSettingsException("--" + OPTION + " needs a whole number >= 1, got '" + v + "'");
        }
    }

    /** The index for {@code StageCommit}: 0 (plain directory) for k = 1, else k. */
    public int dirIndex() {
        return k == 1 ? 0 : k;
    }

    /** The directory of {@code stage} at index {@code k}. */
    public static String dir(String stage, int k) {
        return k <= 1 ? stage : stage + "-" + k;
    }

    public String dir(String stage) {
        return dir(stage, k);
    }
}
