package io.sparknas.jobs.ingest;

import java.io.EOFException;
import io.sparknas.jobs.InputDataException;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/**
 * The IDX format of MNIST and Fashion-MNIST (big-endian header; images magic 2051 with count, rows, columns;
 * labels magic 2049 with count), plain or gzip-compressed (detected from the first two bytes).
 */
public final class IdxFile {

    public static final int IMAGES_MAGIC = 2051;
    public static final int LABELS_MAGIC = 2049;

    /** Header of an IDX file: its magic, item count and, for images, rows and columns. */
    public record Header(int magic, int count, int rows, int cols) {
        public int headerBytes() {
            return magic == IMAGES_MAGIC ? 16 : 8;
        }

        public int itemBytes() {
            return magic == IMAGES_MAGIC ? rows * cols : 1;
        }
    }

    private IdxFile() {
    }

    /** Wraps a raw stream, decompressing it when it starts with the gzip magic. */
    public static InputStream decompressing(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(2);
        int b1 = in.read();
        int b2 = in.read();
        in.reset();
        if (b1 == 0x1f && b2 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }

    /** Reads and checks the header; the stream is left at the first item. */
    public static Header readHeader(InputStream in, int expectedMagic, String name) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int magic = d.readInt();
        if (magic != expectedMagic) {
            throw new InputDataException(name + " is not an IDX " + (expectedMagic == IMAGES_MAGIC ? "images" : "labels")
                    + " file: magic number " + magic + ", expected " + expectedMagic + " (check the file names under nas.ingest.idx, or download it again).");
        }
        int count = d.readInt();
        if (magic == IMAGES_MAGIC) {
            int rows = d.readInt();
            int cols = d.readInt();
            if (rows <= 0 || cols <= 0 || count < 0) {
                throw new InputDataException(name + " has a bad IDX header: " + count + " images of " + rows + "x" + cols + ".");
            }
            return new Header(magic, count, rows, cols);
        }
        return new Header(magic, count, 1, 1);
    }

    /** Skips exactly {@code n} bytes (decompressing streams may skip fewer per call). */
    public static void skipFully(InputStream in, long n, String name) throws IOException {
        long left = n;
        byte[] buf = null;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (buf == null) {
                    buf = new byte[8192];
                }
                int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (r < 0) {
                    throw new EOFException(name + " ends early: " + left + " bytes short.");
                }
                s = r;
            }
            left -= s;
        }
    }
}
