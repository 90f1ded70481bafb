package io.sparknas.jobs.report;

import io.sparknas.jobs.artifact.PruneOutputs;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.artifact.SearchOutputs;
import io.sparknas.jobs.artifact.RetrainOutputs;
import io.sparknas.jobs.artifact.ReportOutputs;
import io.sparknas.jobs.artifact.RankingOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.StageIndex;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The stages one method's result is made of, ending at search stage k: the run's shared stages (ingest, easiness,
 * latency-profile), {@code supernet-train} and {@code search} up to k, {@code prune} before k, and {@code retrain-k},
 * {@code ranking-k}. Several methods can share a run (SPOS's chain is k = 1; PAD-NAS M = 3 shares its first stages and
 * ends at k = 2): each chain gets its own report row and report ({@code report}, {@code report-k}).
 *
 * @param k      the index of the chain's last search
 * @param stages its committed stages, in directory order
 */
record ReportChain(int k, List<StageRecord> stages) {

    /** The committed stages of chain k of a run (the report stages themselves excluded). */
    static ReportChain of(RunStore store, int k) {
        return of(store.committedStages(), k);
    }

    private static ReportChain of(List<StageRecord> committed, int k) {
        List<StageRecord> out = new ArrayList<>();
        for (StageRecord r : committed) {
            int i = Math.max(1, r.stageIndex());
            boolean in = switch (r.stage()) {
                case SupernetTrainOutputs.STAGE, SearchOutputs.STAGE -> i <= k;
                case PruneOutputs.STAGE -> i < k;
                case RetrainOutputs.STAGE, RankingOutputs.STAGE -> i == k;
                case ReportOutputs.STAGE -> false;
                default -> true;
            };
            if (in) {
                out.add(r);
            }
        }
        return new ReportChain(k, List.copyOf(out));
    }

    /** Every chain of a run that has a committed retrain; or, without any, the chain of its last search. */
    static List<ReportChain> all(RunStore store, String runId) {
        List<StageRecord> committed = store.committedStages();
        List<Integer> retrains = committed.stream().filter(r -> r.stage().equals(RetrainOutputs.STAGE)).map(r -> Math.max(1, r.stageIndex()))
                .sorted().toList();
        int lastSearch = committed.stream().filter(r -> r.stage().equals(SearchOutputs.STAGE)).mapToInt(r -> Math.max(1, r.stageIndex()))
                .max().orElse(0);
        if (retrains.isEmpty() && lastSearch == 0) {
            throw new InputDataException("--compare " + runId + ": the run has no committed search stage under " + store.root());
        }
        List<ReportChain> out = new ArrayList<>();
        for (int k : retrains.isEmpty() ? List.of(lastSearch) : retrains) {
            out.add(of(committed, k));
        }
        return out;
    }

    String searchDir() {
        return StageIndex.dir(SearchOutputs.STAGE, k);
    }

    String retrainDir() {
        return StageIndex.dir(RetrainOutputs.STAGE, k);
    }

    String rankingDir() {
        return StageIndex.dir(RankingOutputs.STAGE, k);
    }

    Optional<StageRecord> stage(String dir) {
        return stages.stream().filter(r -> r.stageDir().equals(dir)).findFirst();
    }

    /** The method of the chain: its retrain's, else its last search's (a PAD-NAS chain starts with stages SPOS ran). */
    String method() {
        return stage(retrainDir()).or(() -> stage(searchDir())).map(StageRecord::method).orElse(stages.isEmpty() ? "" : stages.get(0).method());
    }
}
