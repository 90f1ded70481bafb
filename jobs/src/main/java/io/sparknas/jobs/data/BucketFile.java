package io.sparknas.jobs.data;

import io.sparknas.jobs.artifact.Sample;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.convert.GroupRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.io.ColumnIOFactory;
import org.apache.parquet.io.RecordReader;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Executor-side reads of one bucket file of the images table (rows in position order, {@link ImageTable}): its index (class
 * and part of every position, read from those two columns only, never the pixels) and the rows of a range of positions (only
 * the row groups that hold them). Indexes are kept per JVM (a few bytes per image), pixels never.
 */
public final class BucketFile {

    private static final int INDEX_CACHE = 4096;
    private static final Map<String, Index> INDEXES = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Index> e) {
            return size() > INDEX_CACHE;
        }
    };

    private BucketFile() {
    }

    /**
     * Class and part of every position of a bucket, and where its row groups start.
     *
     * @param labels          class index per position
     * @param parts           id-fixed part per position ({@link Sample#part()})
     * @param rowGroupStarts  first position of each row group, then the row count
     */
    public record Index(int[] labels, byte[] parts, long[] rowGroupStarts) {

        public int size() {
            return labels.length;
        }
    }

    /** The index of a bucket file (cached in this JVM). */
    public static Index index(String file, HadoopConfSnapshot conf) {
        synchronized (INDEXES) {
            Index cached = INDEXES.get(file);
            if (cached != null) {
                return cached;
            }
        }
        Index index = readIndex(file, conf.get());
        synchronized (INDEXES) {
            INDEXES.put(file, index);
        }
        return index;
    }

    private static Index readIndex(String file, Configuration conf) {
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(file), conf))) {
            List<BlockMetaData> groups = r.getRowGroups();
            long[] starts = new long[groups.size() + 1];
            for (int g = 0; g < groups.size(); g++) {
                starts[g + 1] = starts[g] + groups.get(g).getRowCount();
            }
            int n = Math.toIntExact(starts[groups.size()]);
            int[] labels = new int[n];
            byte[] parts = new byte[n];
            MessageType schema = project(r, "pos", "class_index", "part");
            r.setRequestedSchema(schema);
            int i = 0;
            PageReadStore pages;
            while ((pages = r.readNextRowGroup()) != null) {
                RecordReader<Group> rows = new ColumnIOFactory().getColumnIO(schema).getRecordReader(pages, new GroupRecordConverter(schema));
                for (long k = 0; k < pages.getRowCount(); k++, i++) {
                    Group g = rows.read();
                    if (g.getInteger("pos", 0) != i) {
                        throw new IllegalStateException(file + ": row " + i + " holds position " + g.getInteger("pos", 0)
                                + "; a bucket file's rows must be in position order (written by ingest): re-run ingest with --force.");
                    }
                    labels[i] = g.getInteger("class_index", 0);
                    parts[i] = (byte) g.getInteger("part", 0);
                }
            }
            return new Index(labels, parts, starts);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the index of " + file, e);
        }
    }

    /** The rows of positions [from, to) of a bucket file, reading only the row groups that hold them. */
    public static List<Sample> read(String file, HadoopConfSnapshot conf, long from, long to) {
        Index index = index(file, conf);
        long[] starts = index.rowGroupStarts();
        List<Sample> out = new ArrayList<>((int) Math.max(0, to - from));
        if (from >= to) {
            return out;
        }
        try (ParquetFileReader r = ParquetFileReader.open(HadoopInputFile.fromPath(new Path(file), conf.get()))) {
            MessageType schema = project(r, "class_index", "part", "pixels");
            r.setRequestedSchema(schema);
            for (int g = 0; g < starts.length - 1; g++) {
                if (starts[g + 1] <= from || starts[g] >= to) {
                    continue;
                }
                PageReadStore pages = r.readRowGroup(g);
                RecordReader<Group> rows = new ColumnIOFactory().getColumnIO(schema).getRecordReader(pages, new GroupRecordConverter(schema));
                for (long p = starts[g]; p < starts[g + 1]; p++) {
                    Group row = rows.read();
                    if (p >= from && p < to) {
                        out.add(new Sample(row.getInteger("class_index", 0), row.getBinary("pixels", 0).getBytes(), row.getInteger("part", 0)));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading positions [" + from + ", " + to + ") of " + file, e);
        }
        return out;
    }

    private static MessageType project(ParquetFileReader r, String... columns) {
        MessageType file = r.getFooter().getFileMetaData().getSchema();
        List<Type> fields = new ArrayList<>();
        for (String c : columns) {
            fields.add(file.getType(c));
        }
        return new MessageType(file.getName(), fields);
    }
}
