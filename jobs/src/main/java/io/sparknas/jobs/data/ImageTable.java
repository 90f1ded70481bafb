package io.sparknas.jobs.data;

import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.SparkSession;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One split of a run's images table as its bucket files ({@code images/split=S/bucket=B/part-*.parquet}, one per bucket
 * that holds images, written by ingest): what executor tasks need to read a worker's buckets straight from storage,
 * with no shuffle. Listed once on the driver (one recursive listing, also on S3) and shipped to the tasks.
 *
 * @param split   train, val or test
 * @param files   per bucket, its file's URI, or null for a bucket without images
 * @param conf    the driver's Hadoop configuration (S3A endpoint and credentials) for the tasks
 */
public record ImageTable(String split, String[] files, HadoopConfSnapshot conf) implements Serializable {

    /** Buckets of the split (those without images included). */
    public int buckets() {
        return files.length;
    }

    /** The buckets worker {@code w} of {@code workers} reads: {@code b mod workers = w}, in ascending order. */
    public int[] bucketsOf(int w, int workers) {
        List<Integer> out = new ArrayList<>();
        for (int b = w; b < files.length; b += workers) {
            if (files[b] != null) {
                out.add(b);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Refuses more workers than buckets (a worker would have no data), naming the two settings. */
    public void checkWorkers(int workers, String setting) {
        if (workers > files.length) {
            throw new InputDataException(setting + " = " + workers + " workers, but the run's images are in " + files.length
                    + " buckets per split (nas.ingest.buckets of its ingest): each worker reads whole buckets. Re-run ingest with "
                    + "nas.ingest.buckets >= " + workers + " (and --force), or lower " + setting + ".");
        }
    }

    /** The split's bucket files, from the committed ingest stage of the run. */
    public static ImageTable open(SparkSession spark, RunStore store, String split) {
        StageRecord ingest = store.committed(IngestOutputs.STAGE).orElseThrow(() -> new InputDataException(
                "Run " + store.runId() + " has no committed ingest stage under " + store.runDir() + ": run ingest first."));
        String b = ingest.properties() == null ? null : ingest.properties().get(IngestOutputs.BUCKETS_PROPERTY);
        if (b == null) {
            throw new InputDataException("The ingest stage of run " + store.runId() + " records no bucket count (written by an older "
                    + "spark-nas): re-run ingest with --force.");
        }
        String[] files = new String[Integer.parseInt(b)];
        Path dir = new Path(store.tableUri(IngestOutputs.STAGE, IngestOutputs.IMAGES), "split=" + split);
        try {
            FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
            RemoteIterator<LocatedFileStatus> it;
            try {
                it = fs.listFiles(dir, true);
            } catch (FileNotFoundException e) {
                throw new InputDataException("The images table of run " + store.runId() + " has no split " + split + " (" + dir
                        + " does not exist): re-run ingest with images in that split (nas.ingest.val-per-class > 0 for val).");
            }
            while (it.hasNext()) {
                Path p = it.next().getPath();
                String name = p.getName();
                String parent = p.getParent().getName();
                if (!name.endsWith(".parquet")) {
                    continue;
                }
                if (!parent.startsWith("bucket=")) {
                    throw new InputDataException("The images table of run " + store.runId() + " has " + p + " outside a bucket=N folder: it "
                            + "was not written by this version's ingest (one file per bucket); re-run ingest with --force.");
                }
                int bucket = Integer.parseInt(parent.substring("bucket=".length()));
                if (bucket < 0 || bucket >= files.length || files[bucket] != null) {
                    throw new InputDataException("The images table of run " + store.runId() + " has " + (bucket < 0 || bucket >= files.length
                            ? "bucket " + bucket + " outside [0, " + files.length + ")" : "two files in bucket " + bucket) + " (" + p.getParent()
                            + "): it was not written by this ingest; re-run ingest with --force.");
                }
                files[bucket] = p.toString();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("listing " + dir, e);
        }
        if (Arrays.stream(files).allMatch(Objects::isNull)) {
            throw new InputDataException("The images table of run " + store.runId() + " has no image in split " + split + " (no bucket file under "
                    + dir + "): re-run ingest with images in that split (nas.ingest.val-per-class > 0 for val).");
        }
        return new ImageTable(split, files, new HadoopConfSnapshot(spark.sparkContext().hadoopConfiguration()));
    }
}
