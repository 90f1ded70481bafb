package io.sparknas.jobs.retrain;

import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCheckpoints;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Ranking's checkpoint ({@link StageCheckpoints}, atomic), written after every model: the architecture and stand-alone test
 * accuracy of each model trained so far, in the order the stage picked them. {@code --resume} trains only the rest. A model
 * is the unit: ranking's trainings are short (a few epochs on a subset), and each model's result depends only on its
 * architecture and the seed, not on the models before it, so a resumed ranking equals an uninterrupted one.
 *
 * @param archs      the finished models' architecture ids
 * @param accuracies their stand-alone test accuracies
 */
record RankingCheckpoint(List<String> archs, List<Double> accuracies) {

    private static final String MODELS = "models";
    private static final String POSITION = "position";

    /**
     * Writes checkpoint {@code n}: one line per finished model, {@code <arch id> <accuracy>}, the number of finished models
     * ({@code position}), then the marker.
     */
    static void write(RunStore store, String dir, long n, RankingCheckpoint c) {
        StageCheckpoints cps = new StageCheckpoints(store, dir);
        cps.begin(n);
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < c.archs().size(); i++) {
            text.append(c.archs().get(i)).append(' ').append(c.accuracies().get(i)).append('\n');
        }
        cps.writeText(n, MODELS, text.toString());
        cps.writeText(n, POSITION, String.valueOf(c.archs().size()));
        cps.complete(n, c.archs().size() + " models done");
    }

    /** The latest complete checkpoint and its number, if any. */
    static Optional<Numbered> latest(RunStore store, String dir) {
        StageCheckpoints cps = new StageCheckpoints(store, dir);
        OptionalLong latest = cps.latest();
        return latest.isEmpty() ? Optional.empty() : Optional.of(read(cps, latest.getAsLong()));
    }

    private static Numbered read(StageCheckpoints cps, long n) {
        List<String> archs = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        for (String line : cps.readText(n, MODELS).split("\n")) {
            if (!line.isBlank()) {
                String[] f = line.strip().split(" ");
                archs.add(f[0]);
                accuracies.add(Double.parseDouble(f[1]));
            }
        }
        return new Numbered(n, new RankingCheckpoint(archs, accuracies));
    }

    /** A checkpoint and its number. */
    record Numbered(long number, RankingCheckpoint checkpoint) {
    }
}
