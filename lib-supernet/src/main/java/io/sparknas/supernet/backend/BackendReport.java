package io.sparknas.supernet.backend;

import java.util.List;

/**
 * What the ND4J backend of this JVM is.
 *
 * @param backend   ND4J's backend name ({@code CPU} or {@code CUDA})
 * @param buildInfo the native library's build information (compiler, flags, {@code HAVE_ONEDNN}, ...)
 * @param devices   CUDA devices (empty on CPU)
 * @param threads   native (OpenMP) threads ND4J uses
 */
public record BackendReport(String backend, String buildInfo, List<CudaDevice> devices, int threads) {

    public boolean isCuda() {
        return "CUDA".equalsIgnoreCase(backend);
    }

    /** oneDNN compiled into the native build (the CPU build must have it; see {@link NativeBackend#requireUsable}). */
    public boolean hasOneDnn() {
        return buildInfo != null && buildInfo.contains("HAVE_ONEDNN");
    }

    /** One line for logs. */
    public String summary() {
        StringBuilder sb = new StringBuilder("ND4J backend ").append(backend)
                .append(", native threads ").append(threads)
                .append(", oneDNN ").append(hasOneDnn() ? "yes" : "no");
        for (CudaDevice d : devices) {
            sb.append(", GPU ").append(d.index()).append(" '").append(d.name()).append("' cc ").append(d.capability());
        }
        return sb.toString();
    }
}
