package io.sparknas.supernet.backend;

import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.nativeblas.NativeOpsHolder;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Probes the ND4J backend of this JVM and refuses one the project cannot use.
 *
 * <p>Every job calls {@link #probe()} and {@link #requireUsable} at start-up and logs {@link BackendReport#summary()}.
 * On CPU the native build must contain oneDNN ({@code HAVE_ONEDNN} in {@code buildInfo()}; ND4J's environment
 * information does not say): without it depthwise convolutions run 20-90x slower (PLATFORM-NOTES).
 * On CUDA every device must be one the released build runs ({@link CudaCapabilityCheck}).
 */
public final class NativeBackend {

    private NativeBackend() {
    }

    /** Loads ND4J (if not yet loaded) and reports what it runs on. */
    @SuppressWarnings("unchecked")
    public static BackendReport probe() {
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        String backend = String.valueOf(env.getOrDefault("backend", "unknown"));
        String buildInfo = NativeOpsHolder.getInstance().getDeviceNativeOps().buildInfo();
        List<CudaDevice> devices = new ArrayList<>();
        Object info = env.get("cuda.devicesInformation");
        if (info instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                Map<String, Object> m = (Map<String, Object>) list.get(i);
                devices.add(new CudaDevice(i, String.valueOf(m.get("cuda.deviceName")),
                        toInt(m.get("cuda.deviceMajor")), toInt(m.get("cuda.deviceMinor"))));
            }
        }
        int threads = toInt(env.getOrDefault("omp.threads", -1));
        return new BackendReport(backend, buildInfo, List.copyOf(devices), threads);
    }

    /**
     * Refuses a backend the project cannot use.
     *
     * @param requireOneDnn on CPU, whether a native build without oneDNN is an error (config {@code nas.backend.require-onednn})
     * @throws UnsupportedBackendException with the cause and the fix
     */
    public static void requireUsable(BackendReport report, boolean requireOneDnn) {
        if (report.isCuda()) {
            CudaCapabilityCheck.requireSupported(report.devices());
        } else if (requireOneDnn && !report.hasOneDnn()) {
            throw new UnsupportedBackendException("The ND4J CPU native build on the classpath has no oneDNN (HAVE_ONEDNN missing from "
                    + "its build info), which makes convolutions 20-90x slower. Put nd4j-native with classifier "
                    + "linux-x86_64-onednn-avx2 on the classpath (the default Maven profile does), "
                    + "or set nas.backend.require-onednn = false to run anyway.");
        }
    }

    private static int toInt(Object o) {
        if (o instanceof Number n) {
            return n.intValue();
        }
        try {
            return Integer.parseInt(String.valueOf(o).trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
