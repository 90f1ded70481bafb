package io.sparknas.jobs.ingest;

import io.sparknas.jobs.data.HadoopConfSnapshot;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.Serializable;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists the files of an ImageNet-layout tree on the executors: the driver lists only the two top folders ({@code train/},
 * {@code val/}), each class folder is listed (recursively) by an executor task, and the listing is a Spark table of
 * {@code path, length, modificationTime}. At ImageNet's 1.33 M files neither the driver's memory nor the number of tasks
 * grows with the file count: Spark's file index (the {@code binaryFile} source used before) kept every file's status on
 * the driver and planned one task per about 32 files (its open-cost packing), 41,600 tasks for ImageNet.
 *
 * <p>Hidden entries are skipped as Spark's file index skips them: a file or folder whose name starts with {@code .} or
 * {@code _}, and files ending in {@code ._COPYING_}.
 */
final class FolderListing {

    static final StructType SCHEMA = new StructType()
            .add("path", DataTypes.StringType, false)
            .add("length", DataTypes.LongType, false)
            .add("modificationTime", DataTypes.TimestampType, false);

    private FolderListing() {
    }

    /**
     * The files under {@code train} and {@code val}: the top folders' own files from the driver's listing, every
     * sub-folder listed recursively on the executors, about 8 folders a task.
     */
    static Dataset<Row> list(SparkSession spark, FileSystem fs, List<Path> tops) throws IOException {
        List<Entry> entries = new ArrayList<>();
        for (Path top : tops) {
            for (FileStatus st : fs.listStatus(top)) {
                if (hidden(st.getPath().getName())) {
                    continue;
                }
                entries.add(st.isDirectory() ? Entry.folder(st.getPath().toString())
                        : Entry.file(st.getPath().toString(), st.getLen(), st.getModificationTime()));
            }
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        long folders = entries.stream().filter(e -> e.folder).count();
        int tasks = (int) Math.max(1, Math.min(Math.max(folders, 1), Math.max(jsc.defaultParallelism(), (folders + 7) / 8)));
        HadoopConfSnapshot conf = new HadoopConfSnapshot(fs.getConf());
        JavaRDD<Row> rows = jsc.parallelize(entries, tasks).flatMap(e -> e.rows(conf).iterator());
        return spark.createDataFrame(rows, SCHEMA);
    }

    /** Spark's file index skips these (its {@code shouldFilterOutPathName}), so the listing does too. */
    static boolean hidden(String name) {
        return name.startsWith(".") || name.startsWith("_") || name.endsWith("._COPYING_");
    }

    /** A file the driver listed, or a folder an executor lists. */
    static final class Entry implements Serializable {
        private static final long serialVersionUID = 1L;
        final String path;
        final boolean folder;
        final long length;
        final long modified;

        private Entry(String path, boolean folder, long length, long modified) {
            this.path = path;
            this.folder = folder;
            this.length = length;
            this.modified = modified;
        }

        static Entry file(String path, long length, long modified) {
            return new Entry(path, false, length, modified);
        }

        static Entry folder(String path) {
            return new Entry(path, true, -1, -1);
        }

        List<Row> rows(HadoopConfSnapshot conf) throws IOException {
            if (!folder) {
                return List.of(RowFactory.create(path, length, new Timestamp(modified)));
            }
            Path dir = new Path(path);
            FileSystem fs = dir.getFileSystem(conf.get());
            List<Row> out = new ArrayList<>();
            walk(fs, dir, out);
            return out;
        }

        /**
         * Depth first with {@code listStatusIterator} (paged on S3A), never {@code listFiles}: the local file system's
         * {@code LocatedFileStatus} reads each file's permissions by starting a process per file.
         */
        private static void walk(FileSystem fs, Path dir, List<Row> out) throws IOException {
            RemoteIterator<FileStatus> it = fs.listStatusIterator(dir);
            while (it.hasNext()) {
                FileStatus st = it.next();
                if (hidden(st.getPath().getName())) {
                    continue;
                }
                if (st.isDirectory()) {
                    walk(fs, st.getPath(), out);
                } else {
                    out.add(RowFactory.create(st.getPath().toString(), st.getLen(), new Timestamp(st.getModificationTime())));
                }
            }
        }
    }
}
