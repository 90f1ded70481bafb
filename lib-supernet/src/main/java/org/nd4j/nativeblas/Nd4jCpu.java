package org.nd4j.nativeblas;

/**
 * Stand-in for the class under which DL4J 1.0.0-M2.1 looks for oneDNN. {@code BaseMKLDNNHelper.mklDnnEnabled()} (DL4J's
 * switch for its oneDNN layer helpers: convolution, BatchNorm, pooling) reflectively calls
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment.getInstance().isUseMKLDNN()}; ND4J M2.1 moved that class to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu} and dropped {@code isUseMKLDNN()}, so the lookup fails and every
 * helper stays off. This class answers from the loaded native build ({@code HAVE_ONEDNN} in its build info). Nothing else
 * uses it; {@link io.sparknas.supernet.backend.OneDnnLayerHelpers} is the project's switch.
 */
public final class Nd4jCpu {

    private Nd4jCpu() {
    }

    /** What {@code BaseMKLDNNHelper} calls. */
    public static final class Environment {

        private static final Environment INSTANCE = new Environment();

        private final boolean oneDnn = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo().contains("HAVE_ONEDNN");

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Whether the native build has oneDNN. */
        public boolean isUseMKLDNN() {
            return oneDnn;
        }
    }
}
