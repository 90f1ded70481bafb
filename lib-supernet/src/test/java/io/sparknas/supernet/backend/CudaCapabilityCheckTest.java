package io.sparknas.supernet.backend;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CudaCapabilityCheckTest {

    @Test
    void supportsKeplerK80ToAmpere() {
        assertTrue(CudaCapabilityCheck.supports(new CudaDevice(0, "Tesla K80", 3, 7)));
        assertTrue(CudaCapabilityCheck.supports(new CudaDevice(0, "Tesla V100", 7, 0)));
        assertTrue(CudaCapabilityCheck.supports(new CudaDevice(0, "Tesla T4", 7, 5)));
        assertTrue(CudaCapabilityCheck.supports(new CudaDevice(0, "A100", 8, 0)));
        assertTrue(CudaCapabilityCheck.supports(new CudaDevice(0, "A10", 8, 6)));
    }

    @Test
    void refusesOutsideTheBuiltRange() {
        assertFalse(CudaCapabilityCheck.supports(new CudaDevice(0, "Tesla K40", 3, 5)));
        assertFalse(CudaCapabilityCheck.supports(new CudaDevice(0, "L4", 8, 9)));
        assertFalse(CudaCapabilityCheck.supports(new CudaDevice(0, "H100", 9, 0)));
        assertFalse(CudaCapabilityCheck.supports(new CudaDevice(0, "B200", 10, 0)));
    }

    @Test
    void messageNamesDeviceCapabilityAndRange() {
        List<CudaDevice> devices = List.of(new CudaDevice(0, "NVIDIA A100-SXM4-40GB", 8, 0),
                new CudaDevice(1, "NVIDIA H100 80GB HBM3", 9, 0));
        UnsupportedBackendException e = assertThrows(UnsupportedBackendException.class,
                () -> CudaCapabilityCheck.requireSupported(devices));
        assertTrue(e.getMessage().contains("device 1 'NVIDIA H100 80GB HBM3' has compute capability 9.0"), e.getMessage());
        assertTrue(e.getMessage().contains("3.7 to 8.6"), e.getMessage());
        assertFalse(e.getMessage().contains("A100-SXM4"), "a supported device is not named: " + e.getMessage());
    }

    @Test
    void allSupportedPasses() {
        assertDoesNotThrow(() -> CudaCapabilityCheck.requireSupported(
                List.of(new CudaDevice(0, "Tesla T4", 7, 5), new CudaDevice(1, "Tesla T4", 7, 5))));
    }

    @Test
    void noDeviceIsAnError() {
        assertThrows(UnsupportedBackendException.class, () -> CudaCapabilityCheck.requireSupported(List.of()));
    }

    @Test
    void cpuWithoutOneDnnIsRefusedUnlessAllowed() {
        BackendReport plain = new BackendReport("CPU", "GCC 9 AVX2 HAVE_OPENBLAS", List.of(), 2);
        assertThrows(UnsupportedBackendException.class, () -> NativeBackend.requireUsable(plain, true));
        assertDoesNotThrow(() -> NativeBackend.requireUsable(plain, false));
        BackendReport onednn = new BackendReport("CPU", "GCC 9 AVX2 HAVE_ONEDNN HAVE_OPENBLAS", List.of(), 2);
        assertDoesNotThrow(() -> NativeBackend.requireUsable(onednn, true));
    }

    @Test
    void cudaReportIsCheckedPerDevice() {
        BackendReport hopper = new BackendReport("CUDA", "CUDA 11.6", List.of(new CudaDevice(0, "H100", 9, 0)), 1);
        assertThrows(UnsupportedBackendException.class, () -> NativeBackend.requireUsable(hopper, true));
    }
}
