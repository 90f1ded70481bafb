package io.sparknas.search;

import io.sparknas.supernet.space.Arch;

import java.util.List;

/**
 * What a search strategy asks for and never computes itself: the supernet-predicted accuracy of architectures (weights
 * inherited from the trained supernet, BatchNorm recalibrated, accuracy on the search {@code val} split; SPOS, PAD-NAS
 * section 3.2). Implementations may evaluate a batch in parallel (on Spark executors); strategies pass each architecture
 * once (they cache).
 */
public interface ArchEvaluator {

    /**
     * @return for each architecture, in order, its accuracy in [0, 1]
     */
    double[] accuracy(List<Arch> archs);
}
