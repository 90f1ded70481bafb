package io.sparknas.jobs.ingest;

import io.sparknas.jobs.data.HadoopConfSnapshot;
import java.io.EOFException;
import io.sparknas.jobs.InputDataException;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.NoSuchElementException;

/** Executor side: reads and decodes each manifest entry (IDX offset or image file) to resized HWC pixels. */
final class ImageDecoder implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** A decoded row: the manifest's identity columns, the resized HWC pixels, or the reason the file is rejected. */
    static final StructType DECODED = new StructType()
            .add("src_split", DataTypes.StringType, false)
            .add("class_index", DataTypes.IntegerType, false)
            .add("id", DataTypes.StringType, false)
            .add("path", DataTypes.StringType, false)
            .add("height", DataTypes.IntegerType, false)
            .add("width", DataTypes.IntegerType, false)
            .add("channels", DataTypes.IntegerType, false)
            .add("pixels", DataTypes.BinaryType, true)
            .add("reason", DataTypes.StringType, true);

    private final ImageResizer resizer;
    private final HadoopConfSnapshot conf;

    ImageDecoder(ImageResizer resizer, HadoopConfSnapshot conf) {
        this.resizer = resizer;
        this.conf = conf;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        return new Iterator<>() {
            private String idxPath;
            private InputStream idxIn;
            private IdxFile.Header idxHeader;
            private long idxPos;

            @Override
            public boolean hasNext() {
                boolean more = rows.hasNext();
                if (!more) {
                    closeIdx();
                }
                return more;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Row r = rows.next();
                try {
                    return r.getLong(4) >= 0 ? idx(r) : file(r);
                } catch (IOException e) {
                    closeIdx();
                    throw new UncheckedIOException("Cannot read " + r.getString(3) + ": " + e.getMessage(), e);
                }
            }

            private Row idx(Row r) throws IOException {
                String path = r.getString(3);
                long index = r.getLong(4);
                if (idxIn == null || !path.equals(idxPath) || index < idxPos) {
                    closeIdx();
                    Path p = new Path(path);
                    idxIn = IdxFile.decompressing(p.getFileSystem(conf.get()).open(p));
                    idxHeader = IdxFile.readHeader(idxIn, IdxFile.IMAGES_MAGIC, path);
                    idxPath = path;
                    idxPos = 0;
                }
                int n = idxHeader.itemBytes();
                byte[] gray;
                try {
                    IdxFile.skipFully(idxIn, (index - idxPos) * n, path);
                    gray = idxIn.readNBytes(n);
                } catch (EOFException e) { // a gzip stream cut short
                    gray = new byte[0];
                }
                if (gray.length != n) {
                    throw new InputDataException("IDX file " + path + " is truncated: it ends at image " + index + " of the " + idxHeader.count()
                            + " its header promises; download it again (or point nas.ingest.source at a complete copy).");
                }
                idxPos = index + 1;
                byte[] px = resizer.pixelsFromGray(gray, idxHeader.cols(), idxHeader.rows());
                return decoded(r, px, null);
            }

            private Row file(Row r) throws IOException {
                Path p = new Path(r.getString(3));
                byte[] bytes;
                try (InputStream in = p.getFileSystem(conf.get()).open(p)) {
                    bytes = in.readAllBytes();
                }
                BufferedImage img;
                try {
                    img = ImageIO.read(new ByteArrayInputStream(bytes));
                } catch (IOException | RuntimeException e) {
                    return decoded(r, null, "undecodable image: " + e.getClass().getSimpleName() + ": " + e.getMessage());
                }
                if (img == null) {
                    return decoded(r, null, "undecodable image: no image reader recognises its content (" + bytes.length + " bytes)");
                }
                return decoded(r, resizer.pixels(img), null);
            }

            private Row decoded(Row r, byte[] px, String reason) {
                return RowFactory.create(r.getString(0), r.getInt(1), r.getString(2), r.getString(3), resizer.resolution(),
                        resizer.resolution(), resizer.channels(), px, reason);
            }

            private void closeIdx() {
                if (idxIn != null) {
                    try {
                        idxIn.close();
                    } catch (IOException ignored) {
                        // read-only stream; nothing is lost
                    }
                    idxIn = null;
                }
            }
        };
    }
}
