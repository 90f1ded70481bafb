package io.sparknas.supernet.backend;

import org.deeplearning4j.config.DL4JSystemProperties;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;

/**
 * DL4J's oneDNN helpers for its own layers (ConvolutionLayer, BatchNormalization, SubsamplingLayer, ...), which the
 * stand-alone networks of retrain and ranking use; the supernet's blocks call ND4J custom ops and do not depend on them.
 * DL4J 1.0.0-M2.1 ships them switched off twice: the system property {@value DL4JSystemProperties#DISABLE_HELPER_PROPERTY}
 * defaults to {@code true}, and its oneDNN probe looks for a class ND4J moved ({@link org.nd4j.nativeblas.Nd4jCpu} stands
 * in for it). Measured on the width-0.5 MobileNetV2 space, batch 64, one native thread: 41 -> 73 images/s for a
 * stand-alone graph's training step (loss after 25 steps 0.5116 with helpers, 0.5112 without).
 *
 * <p>A layer reads the property when it is created: call {@link #enable()} in each JVM (driver and executors) before
 * networks are built.
 */
public final class OneDnnLayerHelpers {

    /** The DL4J system property: {@code false} lets layers use helpers. */
    public static final String PROPERTY = DL4JSystemProperties.DISABLE_HELPER_PROPERTY;

    private OneDnnLayerHelpers() {
    }

    /** Lets layers created from now on in this JVM use DL4J's oneDNN helpers, unless the property was set (e.g. with -D). */
    public static void enable() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, "false");
        }
    }

    /** Whether layers created now would get a oneDNN helper (property allows it and the native build has oneDNN). */
    public static boolean active() {
        return !Boolean.parseBoolean(System.getProperty(PROPERTY, DL4JSystemProperties.HELPER_DISABLE_DEFAULT_VALUE))
                && BaseMKLDNNHelper.mklDnnEnabled();
    }

    /** The number of layers of {@code graph} that run through a helper. */
    public static int helpedLayers(ComputationGraph graph) {
        int n = 0;
        for (Layer l : graph.getLayers()) {
            if (l.getHelper() != null) {
                n++;
            }
        }
        return n;
    }
}
