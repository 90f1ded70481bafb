package io.sparknas.supernet.backend;

import java.util.ArrayList;
import java.util.List;

/**
 * Which CUDA devices the released ND4J CUDA build can run on.
 *
 * <p>The only released build, {@code nd4j-cuda-11.6} 1.0.0-M2.1, carries machine code for sm_37 to sm_86 and no PTX,
 * so the driver cannot JIT-compile it for a newer architecture: a Hopper (9.0) or newer device fails at the first kernel.
 * This check turns that into a clear start-up error instead of a crash deep inside a Spark task.
 */
public final class CudaCapabilityCheck {

    /** Lowest compute capability with machine code in the build (Kepler K80). */
    public static final int MIN_MAJOR = 3;
    public static final int MIN_MINOR = 7;
    /** Highest compute capability with machine code in the build (Ampere GA10x). */
    public static final int MAX_MAJOR = 8;
    public static final int MAX_MINOR = 6;

    private CudaCapabilityCheck() {
    }

    /** True when the build has machine code for this device's architecture. */
    public static boolean supports(CudaDevice device) {
        int cc = device.major() * 10 + device.minor();
        return cc >= MIN_MAJOR * 10 + MIN_MINOR && cc <= MAX_MAJOR * 10 + MAX_MINOR;
    }

    /** The supported range as text, e.g. {@code 3.7 to 8.6}. */
    public static String supportedRange() {
        return MIN_MAJOR + "." + MIN_MINOR + " to " + MAX_MAJOR + "." + MAX_MINOR;
    }

    /**
     * Checks every device; returns normally when all are supported.
     *
     * @throws UnsupportedBackendException naming each unsupported device, its capability and the supported range,
     *                                     or when there is no device at all
     */
    public static void requireSupported(List<CudaDevice> devices) {
        if (devices.isEmpty()) {
            throw new UnsupportedBackendException("The ND4J CUDA backend is on the classpath but reports no CUDA device. "
                    + "Run on a GPU executor, or build the CPU application jar (the default profile, without -Pcuda).");
        }
        List<String> refused = new ArrayList<>();
        for (CudaDevice d : devices) {
            if (!supports(d)) {
                refused.add("device " + d.index() + " '" + d.name() + "' has compute capability " + d.capability());
            }
        }
        if (!refused.isEmpty()) {
            throw new UnsupportedBackendException(String.join("; ", refused)
                    + ", but the ND4J CUDA build (nd4j-cuda-11.6 1.0.0-M2.1) only runs compute capability " + supportedRange()
                    + " (K80, P100, V100, T4, A100, A10, RTX 30xx; not Hopper H100/H200 or newer). "
                    + "Use supported GPUs, or the CPU build (default profile).");
        }
    }
}
