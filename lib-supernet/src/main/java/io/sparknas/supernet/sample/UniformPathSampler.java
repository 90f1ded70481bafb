package io.sparknas.supernet.sample;

import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;

import java.util.Random;

/** SPOS uniform sampling (Guo et al. 2020, Eq. 5-6): each layer's op uniformly from its current candidates. */
public final class UniformPathSampler implements PathSampler {

    private static final long serialVersionUID = 1L;

    @Override
    public String name() {
        return "uniform";
    }

    @Override
    public Arch sample(SearchSpace space, Random rnd) {
        int[] idx = new int[space.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = rnd.nextInt(space.layer(i).candidates().size());
        }
        return Arch.ofIndices(space, idx);
    }
}
