package io.sparknas.supernet.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Probes the real ND4J backend the build puts on the classpath (default profile: CPU with oneDNN). */
class NativeBackendTest {

    @Test
    void defaultBuildIsCpuWithOneDnn() {
        BackendReport report = NativeBackend.probe();
        assertEquals("CPU", report.backend().toUpperCase());
        assertTrue(report.hasOneDnn(), "native build info lacks HAVE_ONEDNN: " + report.buildInfo());
        NativeBackend.requireUsable(report, true);
        assertTrue(report.summary().contains("oneDNN yes"), report.summary());
    }
}
