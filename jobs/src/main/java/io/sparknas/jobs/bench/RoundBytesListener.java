package io.sparknas.jobs.bench;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerApplicationEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the driver receives per training round, as Spark counts it (the serialized task results that
 * {@code spark.driver.maxResultSize} limits), and the shuffle bytes the executors write for it; with the process's peak
 * resident memory at the end (in local mode the driver and the executor are one JVM). Registered by
 * {@code submit/bench-scale.sh} with {@code spark.extraListeners}; writes a tab-separated file to {@code NAS_BENCH_BYTES_OUT}:
 * one line per round job (description, result bytes, shuffle bytes written, tasks), then {@code peak_rss_bytes}.
 */
public final class RoundBytesListener extends SparkListener {

    private final Map<Integer, String> stageJob = new ConcurrentHashMap<>();
    private final Map<String, long[]> perRound = new ConcurrentHashMap<>();

    @Override
    public void onJobStart(SparkListenerJobStart start) {
        String d = start.properties() == null ? null : start.properties().getProperty("spark.job.description");
        if (d == null || !d.contains(" round ")) {
            return;
        }
        for (Object id : scala.collection.JavaConverters.seqAsJavaList(start.stageIds())) {
            stageJob.put((Integer) id, d);
        }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
        String d = stageJob.get(end.stageId());
        if (d == null || end.taskMetrics() == null) {
            return;
        }
        long[] c = perRound.computeIfAbsent(d, k -> new long[3]);
        synchronized (c) {
            c[0] += end.taskMetrics().resultSize();
            c[1] += end.taskMetrics().shuffleWriteMetrics().bytesWritten();
            c[2]++;
        }
    }

    /** Bytes of task results the driver received for the jobs of this description (0 when none ran). */
    public long resultBytes(String description) {
        long[] c = perRound.get(description);
        return c == null ? 0 : c[0];
    }

    @Override
    public void onApplicationEnd(SparkListenerApplicationEnd end) {
        String out = System.getenv("NAS_BENCH_BYTES_OUT");
        if (out == null || out.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, long[]> e : new TreeMap<>(perRound).entrySet()) {
            b.append(e.getKey()).append('\t').append(e.getValue()[0]).append('\t').append(e.getValue()[1]).append('\t').append(e.getValue()[2]).append('\n');
        }
        b.append("peak_rss_bytes\t").append(peakRss()).append('\n');
        try {
            Files.writeString(Path.of(out), b.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** VmHWM of this process (bytes), or -1 off Linux. */
    static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
