package io.sparknas.supernet.backend;

import org.nd4j.linalg.api.buffer.DataType;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.api.Layer;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.supernet.net.ArchitectureGraph;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import io.sparknas.supernet.testing.FashionMnistBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OneDnnLayerHelpersTest {

    /** A stand-alone graph with DL4J's oneDNN helpers computes what the same graph computes without them. */
    @Test
    void helpersEngageAndComputeWhatDl4jsOwnLayersCompute() {
        SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10, 2));
        int[] idx = new int[space.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = (i * 5) % space.layer(i).candidates().size();
        }
        Arch arch = Arch.ofIndices(space, idx);
        OptimizerSettings opt = new OptimizerSettings(0.05, 0.9, 4e-5, "cosine", 1000, 0, 0.0);
        String before = System.getProperty(OneDnnLayerHelpers.PROPERTY);
        ComputationGraph plain;
        ComputationGraph helped;
        try {
            System.setProperty(OneDnnLayerHelpers.PROPERTY, "true");
            assertTrue(!OneDnnLayerHelpers.active());
            plain = ArchitectureGraph.standalone(space, arch, opt, 3);
            System.clearProperty(OneDnnLayerHelpers.PROPERTY);
            OneDnnLayerHelpers.enable();
            assertTrue(OneDnnLayerHelpers.active(), "helpers on for the oneDNN native build");
            helped = ArchitectureGraph.standalone(space, arch, opt, 3);
        } finally {
            if (before == null) {
                System.clearProperty(OneDnnLayerHelpers.PROPERTY);
            } else {
                System.setProperty(OneDnnLayerHelpers.PROPERTY, before);
            }
        }
        assertEquals(0, OneDnnLayerHelpers.helpedLayers(plain));
        int convAndBn = 0;
        for (Layer l : helped.getLayers()) {
            if (l.getClass() == ConvolutionLayer.class
                    || l instanceof BatchNormalization) {
                convAndBn++;
            }
        }
        assertEquals(convAndBn, OneDnnLayerHelpers.helpedLayers(helped), "every convolution and BatchNorm layer has its helper");
        assertEquals(0.0, plain.params().sub(helped.params()).amaxNumber().doubleValue(), "same initial weights");

        FashionMnistBatches data = new FashionMnistBatches(640);
        INDArray x = data.x(0, 64);
        assertClose(plain.outputSingle(false, x), helped.outputSingle(false, x), 1e-4, "inference output");
        DataSet d0 = batch(data, 0);
        plain.setInputs(d0.getFeatures());
        plain.setLabels(d0.getLabels());
        plain.computeGradientAndScore();
        helped.setInputs(d0.getFeatures());
        helped.setLabels(d0.getLabels());
        helped.computeGradientAndScore();
        assertEquals(plain.score(), helped.score(), 1e-4 * Math.abs(plain.score()), "training-mode loss");
        // float kernels of two libraries: the whole gradient agrees to 1e-3 of its largest element (a wrong BatchNorm or
        // convolution backward is off by far more)
        INDArray gPlain = plain.gradient().gradient().dup();
        INDArray gHelped = helped.gradient().gradient().dup();
        // the float gradient of a fresh deep network is itself sensitive: how far it moves when the input moves by 1e-6
        plain.setInputs(d0.getFeatures().add(Nd4j.rand(d0.getFeatures().dataType(), d0.getFeatures().shape()).muli(1e-6)));
        plain.computeGradientAndScore();
        double own = plain.gradient().gradient().sub(gPlain).amaxNumber().doubleValue();
        double scale = gPlain.amaxNumber().doubleValue();
        double diff = gPlain.sub(gHelped).amaxNumber().doubleValue();
        System.out.printf("gradient: scale %.4g, own sensitivity to a 1e-6 input change %.4g, helpers vs DL4J layers %.4g%n", scale, own, diff);
        assertTrue(diff <= 10 * own + 1e-5 * scale, "gradient: helpers differ by " + diff + ", the graph's own sensitivity is " + own);
        double initial = plain.score();
        for (int s = 0; s < 10; s++) {
            plain.fit(batch(data, s));
            helped.fit(batch(data, s));
        }
        // training trajectories of float networks part ways within a few steps (measured: losses 1.41 and 1.49 after 10 steps
        // from 2.3); both must learn
        assertTrue(plain.score() < initial - 0.3 && helped.score() < initial - 0.3,
                "both learn: losses " + plain.score() + " and " + helped.score() + " from " + initial);
    }

    private static DataSet batch(FashionMnistBatches data, int b) {
        int[] y = data.y(b, 64);
        INDArray l = Nd4j.zeros(DataType.FLOAT, 64, 10);
        for (int i = 0; i < 64; i++) {
            l.putScalar(i, y[i], 1f);
        }
        return new DataSet(data.x(b, 64), l);
    }

    /** Max |a - b| at most {@code rel} of max |a|. */
    private static void assertClose(INDArray a, INDArray b, double rel, String what) {
        double scale = a.amaxNumber().doubleValue();
        double diff = a.sub(b).amaxNumber().doubleValue();
        assertTrue(diff <= rel * scale, what + ": max difference " + diff + ", scale " + scale);
    }
}
