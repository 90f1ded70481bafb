package io.sparknas.supernet.backend;

/**
 * One CUDA device as ND4J's CUDA backend reports it.
 *
 * @param index  device ordinal
 * @param name   device name, e.g. {@code NVIDIA H100 80GB HBM3}
 * @param major  compute capability, major part (9 for Hopper)
 * @param minor  compute capability, minor part
 */
public record CudaDevice(int index, String name, int major, int minor) {

    /** The capability as printed by NVIDIA, e.g. {@code 8.6}. */
    public String capability() {
        return major + "." + minor;
    }
}
