package io.sparknas.search.prune;

import io.sparknas.search.pareto.OpDistribution;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.util.ArrayList;
import java.util.List;

/**
 * PAD-NAS operation pruning (Algorithm 1 line 6, section 3.2): at every layer, drop the operations whose estimated
 * probability is at most {@code P_th} (1% in the paper, section 4.1). A layer never loses all its operations: when every
 * op of a layer is at or below the threshold, its most frequent op (the first on a tie) stays.
 */
public final class OperationPruning {

    private OperationPruning() {
    }

    /** The pruned space and what was dropped. */
    public record Result(SearchSpace before, SearchSpace after, List<List<Op>> dropped) {

        public int droppedCount() {
            return dropped.stream().mapToInt(List::size).sum();
        }
    }

    public static Result prune(OpDistribution distribution, double threshold) {
        if (!(threshold >= 0 && threshold < 1)) {
            throw new IllegalArgumentException("pruning threshold P_th must be in [0, 1), got " + threshold);
        }
        if (distribution.architectures() == 0) {
            throw new IllegalArgumentException("the op distribution counted no architecture: nothing to prune from (was the search empty?)");
        }
        SearchSpace space = distribution.space();
        SearchSpace pruned = space;
        List<List<Op>> dropped = new ArrayList<>();
        for (int l = 0; l < space.size(); l++) {
            List<Op> cands = space.layer(l).candidates();
            double[] p = distribution.probabilities()[l];
            List<Op> keep = new ArrayList<>();
            List<Op> drop = new ArrayList<>();
            for (int k = 0; k < cands.size(); k++) {
                (p[k] > threshold ? keep : drop).add(cands.get(k));
            }
            if (keep.isEmpty()) {
                int best = 0;
                for (int k = 1; k < p.length; k++) {
                    if (p[k] > p[best]) {
                        best = k;
                    }
                }
                keep.add(cands.get(best));
                drop.remove(cands.get(best));
            }
            dropped.add(List.copyOf(drop));
            if (!drop.isEmpty()) {
                pruned = pruned.withCandidates(l, keep);
            }
        }
        return new Result(space, pruned, List.copyOf(dropped));
    }
}
