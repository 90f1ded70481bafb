package io.sparknas.search.strategy;

import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.util.ArrayList;
import java.util.List;

/** The candidates a pruning strategy has left: per layer of the full space, 0 for a live op, else the epoch it was pruned. */
final class PrunedCandidates {

    private PrunedCandidates() {
    }

    /** Layer l's live ops, in the full space's order. */
    static List<Op> live(SearchSpace full, int[][] prunedAt, int l) {
        List<Op> ops = new ArrayList<>();
        List<Op> cands = full.layer(l).candidates();
        for (int i = 0; i < cands.size(); i++) {
            if (prunedAt[l][i] == 0) {
                ops.add(cands.get(i));
            }
        }
        return ops;
    }

    /** The full space restricted to the live ops. */
    static SearchSpace space(SearchSpace full, int[][] prunedAt) {
        SearchSpace sp = full;
        for (int l = 0; l < full.size(); l++) {
            sp = sp.withCandidates(l, live(full, prunedAt, l));
        }
        return sp;
    }
}
