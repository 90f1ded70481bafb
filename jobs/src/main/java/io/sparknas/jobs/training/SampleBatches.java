package io.sparknas.jobs.training;

import org.nd4j.linalg.dataset.api.MultiDataSet;
import java.util.NoSuchElementException;
import java.util.Iterator;
import java.util.Collections;
import io.sparknas.jobs.artifact.Sample;
import io.sparknas.supernet.backend.OneDnnLayerHelpers;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.Supernet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The images a standalone network trains and is evaluated on, as minibatches: which images a worker trains in a round of an
 * epoch (a seeded shuffle of its shard), and consecutive images as ND4J data sets.
 */
final class SampleBatches {

    private SampleBatches() {
    }

    /**
     * The images worker {@code p} trains in round {@code r} of epoch {@code e}: positions {@code [r, r + 1) x roundImages} of
     * its shard shuffled by a generator seeded by (seed, e, p). Over the rounds of an epoch every image of the shard is trained
     * once; the order changes with the epoch.
     */
    static List<Sample> roundImages(List<Sample> shard, long seed, int e, int p, int r, int roundImages) {
        List<Sample> order = new ArrayList<>(shard);
        Collections.shuffle(order, new Random(seed * 1_000_003L + e * 7919L + p));
        return order.subList(Math.min(order.size(), r * roundImages), Math.min(order.size(), (r + 1) * roundImages));
    }

    /**
     * Images per data-set object of the test and val splits, and dl4j-spark's evaluation batch: equal, so its iterator passes
     * every object through whole. With its default batch of 64 it re-cut the 250-image objects and failed on a partition's
     * last, smaller one ("Cannot merge examples: ... First example features shape: []", reproduced with 10,000 test images).
     */
    static final int EVAL_BATCH = 250;

    static Iterator<DataSet> evalBatches(Iterator<Sample> it, int res, int ch, int classes, boolean helpers) {
        Iterator<Object> b = batches(it, EVAL_BATCH, null, res, ch, classes, null, helpers, false);
        return new Iterator<>() {
            public boolean hasNext() {
                return b.hasNext();
            }

            public DataSet next() {
                return (DataSet) b.next();
            }
        };
    }

    /**
     * Consecutive images as minibatches of {@code size} (the last one smaller): features scaled to [0, 1] as the supernet's,
     * one-hot labels, augmented when {@code aug} is given; {@link org.nd4j.linalg.dataset.MultiDataSet}s when {@code multi}
     * (training), else {@link DataSet}s. Made lazily, one minibatch at a time. Runs on the executors before dl4j-spark builds
     * its worker networks there, so it also switches DL4J's oneDNN helpers on in that JVM when asked
     * ({@link OneDnnLayerHelpers#enable()}: a system property, read when a layer is created).
     */
    @SuppressWarnings("unchecked")
    static <T> Iterator<T> batches(Iterator<Sample> it, int size, Augmenter aug, int res, int ch, int classes, Random rnd,
                                             boolean oneDnnHelpers, boolean multi) {
        if (oneDnnHelpers) {
            OneDnnLayerHelpers.enable();
        }
        return new Iterator<>() {
            public boolean hasNext() {
                return it.hasNext();
            }

            public T next() {
                List<byte[]> px = new ArrayList<>(size);
                List<Integer> labels = new ArrayList<>(size);
                while (it.hasNext() && px.size() < size) {
                    Sample x = it.next();
                    px.add(aug == null ? x.pixels() : aug.apply(x.pixels(), res, res, ch, rnd));
                    labels.add(x.label());
                }
                if (px.isEmpty()) {
                    throw new NoSuchElementException();
                }
                INDArray f = Supernet.toBatch(px, res, res, ch);
                float[] oneHot = new float[px.size() * classes];
                for (int i = 0; i < px.size(); i++) {
                    oneHot[i * classes + labels.get(i)] = 1f;
                }
                INDArray l = Nd4j.create(oneHot, new long[]{px.size(), classes});
                return (T) (multi ? new org.nd4j.linalg.dataset.MultiDataSet(f, l) : new DataSet(f, l));
            }
        };
    }
}
