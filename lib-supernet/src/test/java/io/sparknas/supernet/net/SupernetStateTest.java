package io.sparknas.supernet.net;

import org.nd4j.linalg.api.ndarray.INDArray;
import java.util.Random;
import java.util.Arrays;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.Op;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import io.sparknas.supernet.testing.FashionMnistBatches;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parameter averaging semantics: each part is averaged over the tasks that trained it; unused parts keep the broadcast value. */
class SupernetStateTest {

    static final OptimizerSettings OPT = new OptimizerSettings(0.05, 0.9, 4e-5, "cosine", 100, 0, 0.0);

    @Test
    void partsAreAveragedOverTheirOwnContributors() {
        SearchSpace full = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10));
        SearchSpace space = full;
        for (int i = 0; i < full.size(); i++) {
            space = space.withCandidates(i, full.layer(i).candidates().subList(0, 2));
        }
        FashionMnistBatches data = new FashionMnistBatches(128);
        Supernet a = new Supernet(space, OPT, 1);
        SupernetState start = SupernetState.capture(a);
        Supernet b = new Supernet(space, OPT, 99);
        start.applyTo(b);
        assertArrayEquals(start.params().get("stem"), SupernetState.capture(b).params().get("stem"), "apply then capture round-trips");

        int[] zeros = new int[space.size()];
        int[] ones = new int[space.size()];
        Arrays.fill(ones, 1);
        Arch pathA = Arch.ofIndices(space, zeros);
        Arch pathB = Arch.ofIndices(space, ones);
        a.trainStep(pathA, data.x(0, 64), data.y(0, 64), 0, 0);
        b.trainStep(pathB, data.x(1, 64), data.y(1, 64), 0, 0);
        SupernetState.Sum sum = SupernetState.accumulate(a, a.partKeys(pathA)).merge(SupernetState.accumulate(b, b.partKeys(pathB)));
        SupernetState avg = start.averageInto(sum);

        String onlyA = Supernet.opKey(3, space.layer(3).candidates().get(0));
        String onlyB = Supernet.opKey(3, space.layer(3).candidates().get(1));
        assertEquals(2, sum.counts().get("stem"));
        assertEquals(1, sum.counts().get(onlyA));
        assertArrayEquals(SupernetState.capture(a).params().get(onlyA), avg.params().get(onlyA), "trained by A only: A's values");
        assertArrayEquals(SupernetState.capture(b).params().get(onlyB), avg.params().get(onlyB), "trained by B only: B's values");
        float[] sa = SupernetState.capture(a).params().get("stem");
        float[] sb = SupernetState.capture(b).params().get("stem");
        float[] avgStem = avg.params().get("stem");
        for (int i = 0; i < avgStem.length; i++) {
            assertEquals((sa[i] + sb[i]) / 2, avgStem[i], 1e-6f);
        }
        float[] ua = SupernetState.capture(a).updater().get("head");
        float[] ub = SupernetState.capture(b).updater().get("head");
        assertTrue(ua.length > 0, "momentum state exists");
        assertEquals((ua[0] + ub[0]) / 2, avg.updater().get("head")[0], 1e-6f, "updater state averaged too");

        // a part no task used keeps the broadcast value
        List<String> unused = new ArrayList<>();
        for (int i = 0; i < space.size(); i++) {
            for (Op op : space.layer(i).candidates()) {
                String k = Supernet.opKey(i, op);
                if (op instanceof Op.IBConv && !sum.counts().containsKey(k)) {
                    unused.add(k);
                }
            }
        }
        assertTrue(unused.isEmpty(), "with two complementary paths every op block was used: " + unused);
        SupernetState onlyHead = start.averageInto(SupernetState.accumulate(a, List.of("head")));
        assertArrayEquals(start.params().get("stem"), onlyHead.params().get("stem"), "unused part unchanged");
    }
    @Test
    void aPrunedSupernetInheritsTheWeightsOfTheOpsItKept() {
        // PAD-NAS fine-tuning starts from the previous stage's weights: a pruned supernet (layer-wise op sets, including
        // layers left with same-expansion ops only) built from a trained full supernet's state computes the same function
        SearchSpace full = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 1));
        FashionMnistBatches data = new FashionMnistBatches(256);
        Supernet big = new Supernet(full, OPT, 5);
        Random r = new Random(3);
        for (int s = 0; s < 3; s++) {
            int[] idx = new int[full.size()];
            for (int l = 0; l < idx.length; l++) {
                idx[l] = r.nextInt(full.layer(l).candidates().size());
            }
            big.trainStep(Arch.ofIndices(full, idx), data.x(s, 64), data.y(s, 64), s, 0);
        }
        SearchSpace pruned = full;
        for (int l = 0; l < full.size(); l++) {
            List<Op> c = full.layer(l).candidates();
            List<Op> keep = new ArrayList<>();
            for (Op op : c) {
                // keep identity, the expansion-1 ops with kernel >= 5, k5e6, k7e6 and k7e3 (no op both narrowest and smallest)
                if (op instanceof Op.Identity || op instanceof Op.IBConv b && b.kernel() >= 5 && (b.expansion() != 3 || b.kernel() == 7)) {
                    keep.add(op);
                }
            }
            pruned = pruned.withCandidates(l, keep);
        }
        assertTrue(pruned.log10Size() < full.log10Size());
        SupernetState inherited = SupernetState.capture(big).retainedFor(new Supernet(pruned, OPT, 1));
        Supernet small = new Supernet(pruned, OPT, 77);
        inherited.applyTo(small);
        assertEquals(small.parts().size(), inherited.params().size());
        int[] idx = new int[pruned.size()];
        for (int l = 0; l < idx.length; l++) {
            idx[l] = pruned.layer(l).candidates().size() - 1;
        }
        Arch path = Arch.ofIndices(pruned, idx);
        INDArray x = data.x(5, 32);
        double diff = small.predict(path, x).sub(big.predict(path, x)).amaxNumber().doubleValue();
        assertTrue(diff < 1e-6, "same outputs on a path of the pruned space: " + diff);
    }
}
