package io.sparknas.jobs.search;

import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCheckpoints;
import io.sparknas.search.EvaluatedArch;
import io.sparknas.search.evolution.ConstrainedNsga2;
import io.sparknas.supernet.space.Arch;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The search's checkpoint after a generation: the strategy's state (generation, population, every evaluated architecture with
 * its accuracy and cost) and the candidates history, as small tab-separated text files in checkpoint number = generation of
 * {@link StageCheckpoints} (atomic: a kill between two files leaves the previous generation's checkpoint in force).
 */
record SearchCheckpoint(ConstrainedNsga2.State state, List<String[]> history) {

    private static final String EVALUATED = "evaluated.tsv";
    private static final String POPULATION = "population.tsv";
    private static final String HISTORY = "history.tsv";

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
        StageCheckpoints cps = new StageCheckpoints(store, dir);
        long n = state.generation() + 1L;
        cps.begin(n);
        cps.writeText(n, EVALUATED, ev.toString());
        cps.writeText(n, POPULATION, String.join("\n", state.population()));
        cps.writeText(n, HISTORY, h.toString());
        cps.complete(n, "generation " + state.generation());
    }

    static Optional<SearchCheckpoint> latest(RunStore store, String dir) {
        StageCheckpoints cps = new StageCheckpoints(store, dir);
        OptionalLong latest = cps.latest();
        if (latest.isEmpty()) {
            return Optional.empty();
        }
        long n = latest.getAsLong();
        int generation = (int) (n - 1);
        List<EvaluatedArch> evaluated = new ArrayList<>();
        for (String line : cps.readText(n, EVALUATED).split("\n")) {
            if (!line.isBlank()) {
                String[] f = line.split("\t");
                evaluated.add(new EvaluatedArch(Arch.parse(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]), Boolean.parseBoolean(f[3]),
                        Integer.parseInt(f[4])));
            }
        }
        List<String> population = cps.readText(n, POPULATION).lines().filter(l -> !l.isBlank()).toList();
        List<String[]> history = new ArrayList<>();
        for (String line : cps.readText(n, HISTORY).split("\n")) {
            if (!line.isBlank()) {
                history.add(line.split("\t"));
            }
        }
        return Optional.of(new SearchCheckpoint(new ConstrainedNsga2.State(generation, population, evaluated), history));
    }
}
