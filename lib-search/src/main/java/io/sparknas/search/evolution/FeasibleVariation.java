package io.sparknas.search.evolution;

import org.moeaframework.core.Solution;
import org.moeaframework.core.operator.Variation;

import java.util.function.Predicate;

/**
 * The CES rule (PAD-NAS section 3.2) around a crossover + mutation: offspring that violate the constraint are discarded and
 * the operators are applied again to the same parents, up to {@code maxRetries} times; a pair that never yields a feasible
 * child keeps copies of its (feasible) parents, counted in {@link #fallbacks()}.
 */
final class FeasibleVariation implements Variation {

    private final Variation inner;
    private final Predicate<Solution> feasible;
    private final int maxRetries;
    private int fallbacks;

    FeasibleVariation(Variation inner, Predicate<Solution> feasible, int maxRetries) {
        this.inner = inner;
        this.feasible = feasible;
        this.maxRetries = maxRetries;
    }

    @Override
    public String getName() {
        return "CES(" + inner.getName() + ")";
    }

    @Override
    public int getArity() {
        return inner.getArity();
    }

    @Override
    public Solution[] evolve(Solution[] parents) {
        Solution[] out = null;
        int filled = 0;
        for (int t = 0; t < maxRetries; t++) {
            Solution[] kids = inner.evolve(parents);
            if (out == null) {
                out = new Solution[kids.length];
            }
            for (Solution k : kids) {
                if (filled < out.length && feasible.test(k)) {
                    out[filled++] = k;
                }
            }
            if (filled == out.length) {
                return out;
            }
        }
        fallbacks++;
        for (int i = filled; i < out.length; i++) {
            out[i] = parents[i % parents.length].copy();
        }
        return out;
    }

    int fallbacks() {
        return fallbacks;
    }
}
