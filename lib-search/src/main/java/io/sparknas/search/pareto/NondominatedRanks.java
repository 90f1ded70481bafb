package io.sparknas.search.pareto;

import io.sparknas.search.EvaluatedArch;
import org.moeaframework.core.Solution;
import org.moeaframework.core.attribute.CrowdingDistance;
import org.moeaframework.core.attribute.Rank;
import org.moeaframework.core.population.FastNondominatedSorting;
import org.moeaframework.core.population.Population;

import java.util.List;

/**
 * Non-domination rank and crowding distance (NSGA-II, Deb et al. 2002) of evaluated architectures on (maximise accuracy,
 * minimise cost), by MOEA Framework's fast non-dominated sorting. Ranks are 1-based as in PAD-NAS section 3.2 ("the
 * nondomination rank of Pareto frontier is 1"). Infeasible architectures are ranked after every feasible one.
 */
public final class NondominatedRanks {

    private final int[] rank;
    private final double[] crowding;

    private NondominatedRanks(int[] rank, double[] crowding) {
        this.rank = rank;
        this.crowding = crowding;
    }

    public static NondominatedRanks of(List<EvaluatedArch> archs) {
        Population pop = new Population();
        for (EvaluatedArch a : archs) {
            Solution s = new Solution(0, 2, 1);
            s.setObjectiveValue(0, -a.accuracy());
            s.setObjectiveValue(1, a.cost());
            // MOEA's default constraint is satisfied at 0; any other value is a violation of that magnitude
            s.setConstraintValue(0, a.feasible() ? 0.0 : 1.0);
            pop.add(s);
        }
        new FastNondominatedSorting().evaluate(pop);
        int[] rank = new int[archs.size()];
        double[] crowding = new double[archs.size()];
        for (int i = 0; i < rank.length; i++) {
            rank[i] = Rank.getAttribute(pop.get(i)) + 1;
            crowding[i] = CrowdingDistance.getAttribute(pop.get(i));
        }
        return new NondominatedRanks(rank, crowding);
    }

    /** 1-based non-domination rank of the i-th architecture. */
    public int rank(int i) {
        return rank[i];
    }

    /** Crowding distance of the i-th architecture within its front (infinite at the front's ends). */
    public double crowding(int i) {
        return crowding[i];
    }
}
