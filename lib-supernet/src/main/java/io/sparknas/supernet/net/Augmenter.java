package io.sparknas.supernet.net;

import java.io.Serializable;
import java.util.Random;

/**
 * Training augmentation on uint8 HWC images: random crop after zero padding of {@code padding} pixels on each side
 * (the CIFAR/Fashion-MNIST standard), and random horizontal flip. Returns the input unchanged when both are off.
 */
public record Augmenter(int padding, boolean horizontalFlip) implements Serializable {

    public byte[] apply(byte[] hwc, int height, int width, int channels, Random rnd) {
        if (padding == 0 && !horizontalFlip) {
            return hwc;
        }
        int dy = padding == 0 ? 0 : rnd.nextInt(2 * padding + 1) - padding;
        int dx = padding == 0 ? 0 : rnd.nextInt(2 * padding + 1) - padding;
        boolean flip = horizontalFlip && rnd.nextBoolean();
        byte[] out = new byte[hwc.length];
        for (int y = 0; y < height; y++) {
            int sy = y + dy;
            if (sy < 0 || sy >= height) {
                continue;
            }
            for (int x = 0; x < width; x++) {
                int sx = (flip ? width - 1 - x : x) + dx;
                if (sx < 0 || sx >= width) {
                    continue;
                }
                System.arraycopy(hwc, (sy * width + sx) * channels, out, (y * width + x) * channels, channels);
            }
        }
        return out;
    }
}
