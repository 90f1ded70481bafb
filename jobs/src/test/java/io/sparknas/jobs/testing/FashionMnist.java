package io.sparknas.jobs.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * The real Fashion-MNIST files of the Debian package {@code dataset-fashion-mnist}, read independently of the code under test
 * (a plain GZIP + header read) so tests can compare what the stages wrote with the source bytes.
 */
public final class FashionMnist {

    public static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");
    public static final int SIDE = 28;

    private FashionMnist() {
    }

    /** Fails loudly (no skip) when the data set is not installed. */
    public static Path dir() {
        if (!Files.isRegularFile(DIR.resolve("train-images-idx3-ubyte.gz"))) {
            throw new IllegalStateException("Fashion-MNIST is not installed at " + DIR + ": apt-get install -y dataset-fashion-mnist");
        }
        return DIR;
    }

    /** All images of a split ("train" or "t10k") as [n][784] bytes. */
    public static byte[][] images(String prefix) {
        try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(dir().resolve(prefix + "-images-idx3-ubyte.gz")), 1 << 16))) {
            if (in.readInt() != 2051) {
                throw new IllegalStateException("bad magic");
            }
            int n = in.readInt();
            int r = in.readInt();
            int c = in.readInt();
            byte[][] out = new byte[n][r * c];
            for (int i = 0; i < n; i++) {
                in.readFully(out[i]);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** All labels of a split ("train" or "t10k"). */
    public static int[] labels(String prefix) {
        try (InputStream raw = new GZIPInputStream(Files.newInputStream(dir().resolve(prefix + "-labels-idx1-ubyte.gz")));
             DataInputStream in = new DataInputStream(raw)) {
            if (in.readInt() != 2049) {
                throw new IllegalStateException("bad magic");
            }
            int n = in.readInt();
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = in.readUnsignedByte();
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
