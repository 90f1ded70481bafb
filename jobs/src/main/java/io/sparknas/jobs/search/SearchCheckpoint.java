package io.sparknas.jobs.search;

import io.sparknas.jobs.store.RunStore;
import io.sparknas.search.EvaluatedArch;
import io.sparknas.search.evolution.ConstrainedNsga2;
import io.sparknas.supernet.space.Arch;

import java.util.ArrayList;
import java.util.List;

/**
 * The search's checkpoint under {@code _checkpoint/}: the strategy's state (generation, population, every evaluated
 * architecture with its accuracy and cost) and the candidates history, as small tab-separated text files; the generation
 * file is written last, so a checkpoint without it is ignored.
 */
record SearchCheckpoint(ConstrainedNsga2.State state, List<String[]> history) {

    static final String GENERATION = "_checkpoint/generation";
    private static final String EVALUATED = "_checkpoint/evaluated.tsv";
    private static final String POPULATION = "_checkpoint/population.tsv";
    private static final String HISTORY = "_checkpoint/history.tsv";

    static void write(RunStore store, String dir, ConstrainedNsga2.State state, List<String[]> history) {
        StringBuilder ev = new StringBuilder();
        for (EvaluatedArch e : state.evaluated()) {
            ev.append(e.arch().id()).append('\t').append(e.accuracy()).append('\t').append(e.cost()).append('\t').append(e.feasible())
                    .append('\t').append(e.generation()).append('\n');
        }
        StringBuilder h = new StringBuilder();
        for (String[] row : history) {
            h.append(String.join("\t", row)).append('\n');
        }
        store.writeText(dir, EVALUATED, ev.toString());
        store.writeText(dir, POPULATION, String.join("\n", state.population()));
        store.writeText(dir, HISTORY, h.toString());
        store.writeText(dir, GENERATION, String.valueOf(state.generation()));
    }

    static SearchCheckpoint read(RunStore store, String dir) {
        int generation = Integer.parseInt(text(store, dir, GENERATION).trim());
        List<EvaluatedArch> evaluated = new ArrayList<>();
        for (String line : text(store, dir, EVALUATED).split("\n")) {
            if (!line.isBlank()) {
                String[] f = line.split("\t");
                evaluated.add(new EvaluatedArch(Arch.parse(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), Boolean.parseBoolean(f[3]),
                        Integer.parseInt(f[4])));
            }
        }
        List<String> population = text(store, dir, POPULATION).lines().filter(l -> !l.isBlank()).toList();
        List<String[]> history = new ArrayList<>();
        for (String line : text(store, dir, HISTORY).split("\n")) {
            if (!line.isBlank()) {
                history.add(line.split("\t"));
            }
        }
        return new SearchCheckpoint(new ConstrainedNsga2.State(generation, population, evaluated), history);
    }

    private static String text(RunStore store, String dir, String file) {
        return store.readText(dir, file).orElseThrow(() -> new IllegalStateException("search checkpoint at " + store.stageDir(dir)
                + " lacks " + file + ": re-run with --force"));
    }
}
