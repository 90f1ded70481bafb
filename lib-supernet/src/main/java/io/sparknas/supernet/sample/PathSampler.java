package io.sparknas.supernet.sample;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;

import java.io.Serializable;
import java.util.Random;

/**
 * Chooses the path a single-path training step trains. SPOS samples uniformly ({@link UniformPathSampler}); PAD-NAS samples
 * uniformly over the current layer-wise op sets; DDPNAS samples disjoint paths from per-layer categorical distributions
 * (DDPNAS Eq. 1). A sampler with learned state exposes it for the supernet artifact so that training can resume.
 *
 * <p>Contract: the result is a single-path architecture of {@code space}; all randomness comes from {@code rnd}, which the
 * trainer seeds per (seed, epoch, task, step), so a run is reproducible and resumable.
 */
public interface PathSampler extends Serializable {

    /** Name as in config ({@code uniform}). */
    String name();

    Arch sample(SearchSpace space, Random rnd);
}
