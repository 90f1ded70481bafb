package io.sparknas.jobs.artifact;

import java.io.Serializable;

/**
 * One image of the images table as the trainer holds it: class index, uint8 HWC pixels (read by {@code ImageSplits}) and the
 * image's part, a fixed function of its id in [0, {@value #PARTS}) ({@code ImageSplits.partOf}), which splits a split into
 * fixed fractions (DSO-NAS's D_w / D_lambda) independently of the worker shards.
 */
public record Sample(int label, byte[] pixels, int part) implements Serializable {

    /** Parts of a split: fractions of it are taken in steps of 1 / {@value}. */
    public static final int PARTS = 100;

    /** An image whose part does not matter (recalibration, evaluation). */
    public Sample(int label, byte[] pixels) {
        this(label, pixels, 0);
    }
}
