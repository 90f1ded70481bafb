package io.sparknas.search;

import io.sparknas.supernet.space.Arch;

/**
 * An architecture with its supernet accuracy and cost, as a search records it.
 *
 * @param generation the generation in which it was first evaluated (0: the initial population)
 * @param feasible   whether its cost lies within the constraint bounds
 */
public record EvaluatedArch(Arch arch, double accuracy, double cost, boolean feasible, int generation) {
}
