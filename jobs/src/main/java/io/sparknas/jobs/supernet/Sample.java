package io.sparknas.jobs.supernet;

import java.io.Serializable;

/** One image of the images table as the trainer holds it: class index and uint8 HWC pixels (read by {@code ImageSplits}). */
public record Sample(int label, byte[] pixels) implements Serializable {
}
