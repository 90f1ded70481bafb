package io.sparknas.jobs.training;

import java.util.IdentityHashMap;
import java.util.Collections;
import io.sparknas.jobs.artifact.Sample;
import io.sparknas.jobs.testing.FashionMnist;
import io.sparknas.supernet.net.Augmenter;
import io.sparknas.supernet.net.Supernet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How retraining feeds dl4j-spark: minibatches made on the workers and the images of each averaging round, on real images. */
class StandaloneTrainerTest {

    static List<Sample> shard;

    @BeforeAll
    static void images() {
        byte[][] px = FashionMnist.images("t10k");
        int[] labels = FashionMnist.labels("t10k");
        shard = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            shard.add(new Sample(labels[i], px[i]));
        }
    }

    @Test
    void minibatchesHoldTheImagesInOrderWithOneHotLabels() {
        Iterator<MultiDataSet> it = SampleBatches.batches(shard.subList(0, 150).iterator(), 64, null, 28, 1, 10, null, false, true);
        List<MultiDataSet> batches = new ArrayList<>();
        it.forEachRemaining(batches::add);
        assertEquals(3, batches.size(), "150 images in minibatches of 64: 64, 64, 22");
        assertEquals(22, batches.get(2).getFeatures(0).size(0));
        INDArray second = batches.get(1).getFeatures(0);
        List<byte[]> px = new ArrayList<>();
        for (Sample s : shard.subList(64, 128)) {
            px.add(s.pixels());
        }
        assertEquals(Supernet.toBatch(px, 28, 28, 1), second, "the supernet's input scaling and layout, images in order");
        INDArray labels = batches.get(1).getLabels(0);
        for (int i = 0; i < 64; i++) {
            assertEquals(1.0, labels.getRow(i).sumNumber().doubleValue(), 0);
            assertEquals(1.0, labels.getDouble(i, shard.get(64 + i).label()), 0, "one-hot at the label");
        }
        Iterator<DataSet> eval = SampleBatches.batches(shard.iterator(), SampleBatches.EVAL_BATCH, null, 28, 1, 10, null, false, false);
        int images = 0;
        while (eval.hasNext()) {
            images += eval.next().numExamples();
        }
        assertEquals(1000, images, "evaluation batches hold every image once");
    }

    @Test
    void augmentationIsSeededAndChangesPixels() {
        Augmenter aug = new Augmenter(2, true);
        INDArray a = SampleBatches.<MultiDataSet>batches(shard.subList(0, 32).iterator(), 32, aug, 28, 1, 10, new Random(7), false, true).next().getFeatures(0);
        INDArray b = SampleBatches.<MultiDataSet>batches(shard.subList(0, 32).iterator(), 32, aug, 28, 1, 10, new Random(7), false, true).next().getFeatures(0);
        INDArray plain = SampleBatches.<MultiDataSet>batches(shard.subList(0, 32).iterator(), 32, null, 28, 1, 10, null, false, true).next().getFeatures(0);
        assertEquals(a, b, "same generator, same augmented batch");
        assertNotEquals(plain, a, "crops and flips change the pixels");
    }

    @Test
    void theRoundsOfAnEpochTrainEveryImageOfTheShardOnce() {
        int roundImages = 64 * 5;
        List<Sample> epoch = new ArrayList<>();
        for (int r = 0; r * roundImages < shard.size(); r++) {
            List<Sample> round = SampleBatches.roundImages(shard, 1, 0, 1, r, roundImages);
            assertTrue(round.size() == roundImages || (r + 1) * roundImages >= shard.size(), "full rounds but the last");
            epoch.addAll(round);
        }
        assertEquals(shard.size(), epoch.size());
        Set<Sample> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
        distinct.addAll(epoch);
        assertEquals(shard.size(), distinct.size(), "no image twice in an epoch");
        assertTrue(SampleBatches.roundImages(shard, 1, 0, 1, 4, roundImages).isEmpty(), "past the shard: nothing");
        assertEquals(SampleBatches.roundImages(shard, 1, 0, 1, 2, roundImages), SampleBatches.roundImages(shard, 1, 0, 1, 2, roundImages),
                "deterministic");
        assertNotEquals(SampleBatches.roundImages(shard, 1, 0, 1, 0, roundImages), SampleBatches.roundImages(shard, 1, 1, 1, 0, roundImages),
                "another epoch, another order");
        assertNotEquals(SampleBatches.roundImages(shard, 1, 0, 1, 0, roundImages), SampleBatches.roundImages(shard, 1, 0, 2, 0, roundImages),
                "another worker, another order");
        Set<Integer> firstRoundLabels = new HashSet<>();
        for (Sample s : SampleBatches.roundImages(shard, 1, 0, 1, 0, roundImages)) {
            firstRoundLabels.add(s.label());
        }
        assertEquals(10, firstRoundLabels.size(), "shuffled: the first round is not one class");
    }
}
