package io.sparknas.jobs.store;

import java.io.OutputStream;
import java.io.InputStream;
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
    /** Seconds of work the stage stands at when checkpoint n completes ({@link StageCommit#openElapsedSeconds}). */
    private static final String ELAPSED = "_elapsed";

    private final RunStore store;
    private final String stageDir;
    private final String dir;

    /** The stage's checkpoints in {@code _checkpoint/}, deleted when the stage commits. */
    public StageCheckpoints(RunStore store, String stageDir) {
        this.store = store;
        this.stageDir = stageDir;
        this.dir = DIR;
    }

    /** True for a directory of checkpoints, which a failed attempt keeps for {@code --resume}. */
    static boolean isCheckpointDir(String name) {
        return name.equals(DIR) || name.startsWith(DIR + "-");
    }

    /**
     * Checkpoints in another directory of the stage, {@code dir/<n>/}, named {@code _checkpoint-*}: a snapshot the committed
     * stage keeps (a commit deletes only {@code _checkpoint/}; a failed attempt keeps every {@code _checkpoint*} directory),
     * such as DSO-NAS's weights at the end of pre-training.
     */
    public StageCheckpoints(RunStore store, String stageDir, String dir) {
        if (!dir.startsWith(DIR + "-")) {
            throw new IllegalArgumentException("a kept checkpoint directory is named " + DIR + "-*, not " + dir);
        }
        this.store = store;
        this.stageDir = stageDir;
        this.dir = dir;
    }

    /** Path of a file or table of checkpoint {@code n}, relative to the stage directory. */
    public String path(long n, String name) {
        return dir + "/" + String.format("%010d", n) + "/" + name;
    }

    /**
     * Starts writing checkpoint {@code n}: removes what an interrupted attempt left of it (a kill, a full disk or a lost
     * object store mid-write leave a checkpoint without its marker, and Spark refuses to write a table over one).
     */
    public void begin(long n) {
        if (store.readText(stageDir, path(n, COMPLETE)).isPresent()) {
            throw new IllegalStateException("checkpoint " + n + " at " + store.stageDir(stageDir) + " is complete already; a checkpoint is never rewritten");
        }
        store.deleteUnder(stageDir, dir + "/" + String.format("%010d", n));
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
    public OutputStream create(long n, String name) {
        Path p = new Path(store.stageDir(stageDir), path(n, name));
        try {
            return store.fileSystem().create(p, true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + p + ": " + e.getMessage(), e);
        }
    }

    /** A binary file of checkpoint {@code n}. */
    public InputStream open(long n, String name) {
        Path p = new Path(store.stageDir(stageDir), path(n, name));
        try {
            return store.fileSystem().open(p);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + p + " (checkpoint " + n + "): " + e.getMessage() + "; re-run with --force", e);
        }
    }

    /** Makes checkpoint {@code n} the one in force (its marker, written last), then deletes the older ones. */
    public void complete(long n, String summary) {
        StageCommit.openElapsedSeconds(stageDir).ifPresent(sec -> store.writeText(stageDir, path(n, ELAPSED), String.valueOf(sec)));
        store.writeText(stageDir, path(n, COMPLETE), summary);
        for (long old : numbers()) {
            if (old < n) {
                store.deleteUnder(stageDir, dir + "/" + String.format("%010d", old));
            }
        }
    }

    /** Seconds of work behind checkpoint {@code n}; 0 for a checkpoint written before this was recorded. */
    double elapsedSeconds(long n) {
        return store.readText(stageDir, path(n, ELAPSED)).map(t -> Double.parseDouble(t.trim())).orElse(0.0);
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
        Path dir = new Path(store.stageDir(stageDir), this.dir);
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
