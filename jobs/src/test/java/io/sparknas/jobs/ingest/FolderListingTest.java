package io.sparknas.jobs.ingest;

import io.sparknas.jobs.testing.SharedSpark;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The executor-side listing of an ImageNet-layout tree (issue 36: Spark's file index held every file on the driver). */
class FolderListingTest {

    @TempDir
    Path root;

    @Test
    void listsEveryFileOfEveryFolderOnTheExecutorsAndSkipsHiddenOnesAsSparksFileIndexDoes() throws IOException {
        SparkSession spark = SharedSpark.session();
        Map<String, Integer> kept = new TreeMap<>();
        for (int c = 0; c < 20; c++) {
            for (int i = 0; i < 3; i++) {
                kept.put("train/c" + c + "/img" + i + ".JPEG", 10 + c * 3 + i);
            }
        }
        kept.put("train/c4/nested/deeper.png", 7);
        kept.put("train/top.JPEG", 5);
        kept.put("val/v1.JPEG", 11);
        kept.put("val/v2.JPEG", 12);
        for (String hidden : List.of("train/c3/.DS_Store", "train/c3/_SUCCESS", "train/_tmp/x.JPEG", "train/.git/config",
                "train/c5/.hidden/y.JPEG", "val/v3.JPEG._COPYING_")) {
            write(hidden, 3);
        }
        for (Map.Entry<String, Integer> e : kept.entrySet()) {
            write(e.getKey(), e.getValue());
        }
        org.apache.hadoop.fs.Path train = new org.apache.hadoop.fs.Path(root.resolve("train").toUri());
        org.apache.hadoop.fs.Path val = new org.apache.hadoop.fs.Path(root.resolve("val").toUri());
        FileSystem fs = train.getFileSystem(spark.sparkContext().hadoopConfiguration());
        Dataset<Row> listing = FolderListing.list(spark, fs, List.of(train, val));

        Map<String, Integer> listed = new TreeMap<>();
        String prefix = root.toUri().getPath();
        for (Row r : listing.collectAsList()) {
            String p = new org.apache.hadoop.fs.Path(r.getString(0)).toUri().getPath();
            assertTrue(p.startsWith(prefix), p);
            assertTrue(r.getTimestamp(2).getTime() > 0, p);
            listed.put(p.substring(prefix.length()).replaceFirst("^/", ""), (int) r.getLong(1));
        }
        // every file once, with its length; hidden files and folders skipped
        assertEquals(kept, listed);
        // 20 class folders (and val) listed by tasks, at least two of them: the driver listed only train/ and val/
        assertTrue(listing.rdd().getNumPartitions() >= 2, "partitions " + listing.rdd().getNumPartitions());
    }

    private void write(String rel, int bytes) throws IOException {
        Path p = root.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.write(p, new byte[bytes]);
    }
}
