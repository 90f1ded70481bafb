package io.sparknas.supernet.testing;

import io.sparknas.supernet.net.Supernet;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** The first n real Fashion-MNIST training images (Debian package dataset-fashion-mnist) as supernet batches. */
public final class FashionMnistBatches {

    private static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public final List<byte[]> images = new ArrayList<>();
    public final int[] labels;

    public FashionMnistBatches(int n) {
        Path img = DIR.resolve("train-images-idx3-ubyte.gz");
        if (!Files.isRegularFile(img)) {
            throw new IllegalStateException("Fashion-MNIST is not installed at " + DIR + ": apt-get install -y dataset-fashion-mnist");
        }
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(img)));
             DataInputStream lb = new DataInputStream(new GZIPInputStream(Files.newInputStream(DIR.resolve("train-labels-idx1-ubyte.gz"))))) {
            in.skipNBytes(16);
            lb.skipNBytes(8);
            labels = new int[n];
            for (int i = 0; i < n; i++) {
                byte[] px = new byte[784];
                in.readFully(px);
                images.add(px);
                labels[i] = lb.readUnsignedByte();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Batch b of the given size: [size, 1, 28, 28] in [0, 1]. */
    public INDArray x(int b, int size) {
        return Supernet.toBatch(images.subList(b * size, (b + 1) * size), 28, 28, 1);
    }

    public int[] y(int b, int size) {
        return Arrays.copyOfRange(labels, b * size, (b + 1) * size);
    }

    public int batches(int size) {
        return images.size() / size;
    }
}
