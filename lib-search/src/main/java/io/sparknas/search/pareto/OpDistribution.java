package io.sparknas.search.pareto;

import io.sparknas.search.EvaluatedArch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;

import java.util.List;

/**
 * The estimated probability of each operation per layer (PAD-NAS Algorithm 1 line 5): the frequency of op i at layer j
 * among the feasible architectures whose non-domination rank is below a bound (10 in the paper, section 3.2, to soften the
 * noise of supernet-predicted accuracy), normalised per layer.
 *
 * @param counts        counts[layer][candidate index in the space]
 * @param probabilities counts normalised per layer (all zero for a layer when no architecture qualified)
 * @param architectures how many architectures were counted
 */
public record OpDistribution(SearchSpace space, int[][] counts, double[][] probabilities, int architectures) {

    /**
     * @param archs     evaluated architectures (each counted once per occurrence: pass unique architectures)
     * @param ranks     their non-domination ranks, same order
     * @param rankBound count architectures with {@code rank < rankBound} (1-based ranks)
     */
    public static OpDistribution of(SearchSpace space, List<EvaluatedArch> archs, NondominatedRanks ranks, int rankBound) {
        if (rankBound < 2) {
            throw new IllegalArgumentException("rank bound must be >= 2 (rank 1 is the Pareto front), got " + rankBound);
        }
        int[][] counts = new int[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            counts[l] = new int[space.layer(l).candidates().size()];
        }
        int n = 0;
        for (int a = 0; a < archs.size(); a++) {
            EvaluatedArch e = archs.get(a);
            if (!e.feasible() || ranks.rank(a) >= rankBound) {
                continue;
            }
            n++;
            for (int l = 0; l < space.size(); l++) {
                for (Op op : e.arch().ops(l)) {
                    int k = space.layer(l).candidates().indexOf(op);
                    if (k < 0) {
                        throw new IllegalArgumentException("architecture " + e.arch().id() + " uses " + op.name() + " at layer " + l
                                + ", which is not a candidate there");
                    }
                    counts[l][k]++;
                }
            }
        }
        double[][] p = new double[space.size()][];
        for (int l = 0; l < space.size(); l++) {
            p[l] = new double[counts[l].length];
            int sum = 0;
            for (int c : counts[l]) {
                sum += c;
            }
            for (int k = 0; k < p[l].length; k++) {
                p[l][k] = sum == 0 ? 0 : (double) counts[l][k] / sum;
            }
        }
        return new OpDistribution(space, counts, p, n);
    }
}
