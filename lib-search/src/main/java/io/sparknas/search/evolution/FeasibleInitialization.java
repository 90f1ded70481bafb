package io.sparknas.search.evolution;

import org.moeaframework.core.PRNG;
import org.moeaframework.core.Solution;
import org.moeaframework.core.initialization.Initialization;
import org.moeaframework.core.variable.RealVariable;
import org.moeaframework.problem.Problem;

import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The initial CES population: architectures drawn uniformly (one op per layer, each candidate equally likely), kept only
 * when they satisfy the constraint; fails with the space's cost range when {@code maxRetries} draws per member do not fill it.
 */
final class FeasibleInitialization implements Initialization {

    private final Problem problem;
    private final Predicate<Solution> feasible;
    private final int maxRetries;
    private final Supplier<String> rangeMessage;

    FeasibleInitialization(Problem problem, Predicate<Solution> feasible, int maxRetries, Supplier<String> rangeMessage) {
        this.problem = problem;
        this.feasible = feasible;
        this.maxRetries = maxRetries;
        this.rangeMessage = rangeMessage;
    }

    @Override
    public Solution[] initialize(int n) {
        Solution[] out = new Solution[n];
        int filled = 0;
        long draws = 0;
        long limit = (long) n * maxRetries;
        while (filled < n && draws < limit) {
            draws++;
            Solution s = problem.newSolution();
            for (int l = 0; l < s.getNumberOfVariables(); l++) {
                RealVariable v = (RealVariable) s.getVariable(l);
                int candidates = (int) Math.round(v.getUpperBound() + 0.5);
                v.setValue(PRNG.nextInt(candidates));
            }
            if (feasible.test(s)) {
                out[filled++] = s;
            }
        }
        if (filled < n) {
            throw new IllegalArgumentException("The feasible region looks empty: only " + filled + " of " + draws
                    + " uniformly drawn architectures satisfy the constraint (" + rangeMessage.get() + "). Widen nas.search.cost-min / "
                    + "nas.search.cost-max (or raise nas.search.max-retries).");
        }
        return out;
    }
}
