package io.sparknas.jobs.store;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * A stage's checkpoints, atomic on any Hadoop file system (local, HDFS, {@code s3a://}): checkpoint {@code n} is a new
 * directory {@code _checkpoint/<n>/} that is never overwritten; its files and tables are written first and its marker
 * {@code _COMPLETE} last, by one create. A reader takes the highest-numbered checkpoint that has its marker, so a kill at
 * any point leaves either the new checkpoint complete or the previous one in force. Older checkpoints are deleted only after
 * a newer one is complete.
 */
public final class StageCheckpoints {

    static final String DIR = "_checkpoint";
    private static final String COMPLETE = "_COMPLETE";

    private final RunStore store;
    private final String stageDir;

    public StageCheckpoints(RunStore store, String stageDir) {
        this.store = store;
        this.stageDir = stageDir;
    }

    /** Path of a file or table of checkpoint {@code n}, relative to the stage directory. */
    public String path(long n, String name) {
        return DIR + "/" + String.format("%010d", n) + "/" + name;
    }

    /**
     * Starts writing checkpoint {@code n}: removes what an interrupted attempt left of it (a kill, a full disk or a lost
     * object store mid-write leave a checkpoint without its marker, and Spark refuses to write a table over one).
     */
    public void begin(long n) {
        if (store.readText(stageDir, path(n, COMPLETE)).isPresent()) {
            throw new IllegalStateException("checkpoint " + n + " at " + store.stageDir(stageDir) + " is complete already; a checkpoint is never rewritten");
        }
        store.deleteUnder(stageDir, DIR + "/" + String.format("%010d", n));
    }

    /** Where Spark writes a table of checkpoint {@code n}. */
    public String tableUri(long n, String table) {
        return store.tableUri(stageDir, path(n, table));
    }

    public void writeText(long n, String name, String text) {
        store.writeText(stageDir, path(n, name), text);
    }

    public String readText(long n, String name) {
        return store.readText(stageDir, path(n, name)).orElseThrow(() -> new IllegalStateException("checkpoint " + n + " at "
                + store.stageDir(stageDir) + " lacks " + name + ": re-run with --force"));
    }

    /** A new binary file of checkpoint {@code n} (replacing a partial one an interrupted attempt left). */
    public java.io.OutputStream create(long n, String name) {
        Path p = new Path(store.stageDir(stageDir), path(n, name));
        try {
            return store.fileSystem().create(p, true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    /** A binary file of checkpoint {@code n}. */
    public java.io.InputStream open(long n, String name) {
        Path p = new Path(store.stageDir(stageDir), path(n, name));
        try {
            return store.fileSystem().open(p);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + p + " (checkpoint " + n + "): " + e.getMessage() + "; re-run with --force", e);
        }
    }

    /** Makes checkpoint {@code n} the one in force (its marker, written last), then deletes the older ones. */
    public void complete(long n, String summary) {
        store.writeText(stageDir, path(n, COMPLETE), summary);
        for (long old : numbers()) {
            if (old < n) {
                store.deleteUnder(stageDir, DIR + "/" + String.format("%010d", old));
            }
        }
    }

    /** The highest-numbered complete checkpoint, if any. */
    public OptionalLong latest() {
        List<Long> ns = numbers();
        for (int i = ns.size() - 1; i >= 0; i--) {
            if (store.readText(stageDir, path(ns.get(i), COMPLETE)).isPresent()) {
                return OptionalLong.of(ns.get(i));
            }
        }
        return OptionalLong.empty();
    }

    private List<Long> numbers() {
        List<Long> out = new ArrayList<>();
        FileSystem fs = store.fileSystem();
        Path dir = new Path(store.stageDir(stageDir), DIR);
        try {
            if (!fs.exists(dir)) {
                return out;
            }
            for (FileStatus f : fs.listStatus(dir)) {
                String name = f.getPath().getName();
                if (f.isDirectory() && name.matches("\\d{10}")) {
                    out.add(Long.parseLong(name));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + dir + ": " + e.getMessage(), e);
        }
        out.sort(Long::compare);
        return out;
    }
}
