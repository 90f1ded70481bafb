package io.sparknas.jobs.bench;

import io.sparknas.jobs.artifact.IngestOutputs;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.supernet.net.SupernetState;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The figures of one size of {@code submit/bench-scale.sh} (a command that prints figures, not a test), read from the
 * run's committed stages and {@link RoundBytesListener}'s file: ingest throughput and Parquet bytes per image; the
 * supernet-train rounds' median wall and compute seconds (the first round, which warms the JVM and the pools, left out); bytes
 * broadcast and received by the driver per round against one model's parameter sums; the process's peak resident memory.
 *
 * <p>Arguments: {@code RUN_ROOT RUN_ID BYTES_FILE CORES}. Ingest throughput is over the stage's own work time (its record's
 * {@code elapsed_seconds}: listing, decoding, writing; not the JVM's start). Prints {@code SIZE ...} lines the script turns
 * into RATIO lines.
 */
public final class ScaleBench {

    private ScaleBench() {
    }

    public static void main(String[] args) throws IOException {
        String root = args[0];
        String runId = args[1];
        java.nio.file.Path bytesFile = java.nio.file.Path.of(args[2]);
        int cores = Integer.parseInt(args[3]);
        SparkSession spark = SparkSession.builder().appName("spark-nas bench-scale report").getOrCreate();
        try {
            RunStore store = new RunStore(URI.create(root), runId, spark.sparkContext().hadoopConfiguration());
            StageRecord ingest = store.committed(IngestOutputs.STAGE).orElseThrow();
            double ingestSeconds = Double.parseDouble(ingest.properties().get("elapsed_seconds"));
            long images = ingest.tables().get(IngestOutputs.IMAGES).rows();
            Path imagesDir = new Path(store.tableUri(IngestOutputs.STAGE, IngestOutputs.IMAGES));
            long tableBytes = imagesDir.getFileSystem(spark.sparkContext().hadoopConfiguration()).getContentSummary(imagesDir).getLength();
            long train = spark.read().parquet(imagesDir.toString()).where("split = 'train'").count();
            System.out.printf(Locale.ROOT, "ingest %s: %d images (train %d) in %.1f s: %.1f images/s per core, %.0f Parquet bytes per image%n",
                    runId, images, train, ingestSeconds, images / ingestSeconds / cores, (double) tableBytes / images);

            StageRecord st = store.committed(SupernetTrainOutputs.STAGE).orElseThrow();
            List<Row> rounds = spark.read().parquet(store.tableUri(SupernetTrainOutputs.STAGE, SupernetTrainOutputs.METRICS))
                    .where("phase = 'weights'").orderBy("epoch", "round").collectAsList();
            List<Double> walls = new ArrayList<>();
            List<Double> computes = new ArrayList<>();
            long read = 0;
            long used = 0;
            for (int i = 0; i < rounds.size(); i++) {
                Row r = rounds.get(i);
                read += r.<Long>getAs("rows_read");
                used += r.<Long>getAs("images");
                if (i > 0) {
                    walls.add(r.<Double>getAs("seconds"));
                    computes.add(r.<Double>getAs("compute_seconds"));
                }
            }
            double wall = median(walls);
            double compute = median(computes);
            SupernetState state = StateTable.read(spark, store.tableUri(SupernetTrainOutputs.STAGE, SupernetTrainOutputs.SUPERNET));
            long broadcast = serializedSize(state);
            long modelSums = 8L * state.numParams();
            long received = 0;
            long shuffled = 0;
            int roundJobs = 0;
            long rss = -1;
            for (String line : Files.readAllLines(bytesFile)) {
                String[] f = line.split("\t");
                if (f[0].equals("peak_rss_bytes")) {
                    rss = Long.parseLong(f[1]);
                } else if (f[0].contains("weight round")) {
                    received += Long.parseLong(f[1]);
                    shuffled += Long.parseLong(f[2]);
                    roundJobs++;
                }
            }
            System.out.printf(Locale.ROOT, "supernet-train %s: %s workers, %d weight rounds (first left out): median %.2f s wall, %.2f s compute per round; "
                            + "%d image rows read for the %d images of all its rounds%n", runId, st.properties().get("workers"), rounds.size(), wall,
                    compute, read, used);
            System.out.printf(Locale.ROOT, "driver per round: %.1f MB broadcast, %.1f MB received (task results), %.1f MB shuffled on the executors; "
                            + "one model's parameter sums %.1f MB (%d parameters): received / model = %.2f%n", broadcast / 1e6,
                    received / 1e6 / Math.max(1, roundJobs), shuffled / 1e6 / Math.max(1, roundJobs), modelSums / 1e6, state.numParams(),
                    (double) received / Math.max(1, roundJobs) / modelSums);
            System.out.printf(Locale.ROOT, "peak resident memory (driver = executor in local mode): %.2f GB%n", rss / 1e9);
            System.out.printf(Locale.ROOT, "SIZE %s train=%d wall=%.3f compute=%.3f received_ratio=%.3f rss=%d%n", runId, train, wall,
                    compute, (double) received / Math.max(1, roundJobs) / modelSums, rss);
        } finally {
            spark.stop();
        }
    }

    private static double median(List<Double> xs) {
        if (xs.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = new ArrayList<>(xs);
        Collections.sort(s);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    /** Bytes of the object as Java serialization writes it (Spark's default serializer for broadcasts). */
    public static long serializedSize(Object o) {
        long[] n = new long[1];
        try (ObjectOutputStream out = new ObjectOutputStream(new OutputStream() {
            @Override
            public void write(int b) {
                n[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                n[0] += len;
            }
        })) {
            out.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n[0];
    }
}
