package io.sparknas.jobs.store;

import java.util.regex.Pattern;
import java.nio.file.Paths;
import java.nio.file.Files;
import java.nio.charset.StandardCharsets;
import io.sparknas.jobs.InputDataException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A run's artifacts: {@code <root>/<run-id>/<stage>[-<k>]/<table>/} (Parquet) and {@code <root>/<run-id>/<stage>[-<k>]/_stage.json},
 * on any Hadoop file system (local path or {@code s3a://}), through one code path.
 *
 * <p>Commit protocol: a stage writes its tables, then {@code _stage.json} last ({@link #commit}). A directory without
 * {@code _stage.json} is not a stage for readers ({@link #committed}) and may be cleared by the next attempt.
 */
public final class RunStore {

    public static final String STAGE_FILE = "_stage.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final URI root;
    private final String runId;
    private final FileSystem fs;
    private final Path runDir;

    public RunStore(URI root, String runId, Configuration hadoopConf) {
        this.root = root;
        this.runId = runId;
        this.runDir = new Path(new Path(root), runId);
        try {
            this.fs = runDir.getFileSystem(hadoopConf);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot open the file system of run root " + root + ": " + e.getMessage(), e);
        }
    }

    public URI root() {
        return root;
    }

    public String runId() {
        return runId;
    }

    public Path runDir() {
        return runDir;
    }

    public Path stageDir(String stageDir) {
        return new Path(runDir, stageDir);
    }

    /** Fully qualified location of a table, as Spark reads and writes it. */
    public String tableUri(String stageDir, String table) {
        return fs.makeQualified(new Path(stageDir(stageDir), table)).toString();
    }

    /**
     * The committed record of a stage directory, for reading its tables: if {@code _stage.json} exists; refuses an unknown
     * format version, and tables of another schema version than this code reads ({@link SchemaVersions}).
     */
    public Optional<StageRecord> committed(String stageDir) {
        Optional<StageRecord> r = record(stageDir);
        r.ifPresent(rec -> SchemaVersions.check(rec, new Path(stageDir(stageDir), STAGE_FILE).toString()));
        return r;
    }

    /** The committed record of a stage directory as it is, whatever its tables' schema versions (to skip, refuse or --force it, to list it). */
    public Optional<StageRecord> record(String stageDir) {
        Path file = new Path(stageDir(stageDir), STAGE_FILE);
        try (InputStream in = fs.open(file)) {
            StageRecord r = JSON.readValue(in, StageRecord.class);
            if (r.formatVersion() != StageRecord.FORMAT_VERSION) {
                throw new IllegalStateException(file + " has format_version " + r.formatVersion() + " but this version of spark-nas reads "
                        + StageRecord.FORMAT_VERSION + ": re-run the stage with --force, or read it with the version that wrote it ("
                        + r.codeVersion() + ").");
            }
            requireInside(r, stageDir, file);
            return Optional.of(r);
        } catch (FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** A record names its own directory and tables inside it: nothing it names may lead a reader out of the run. */
    private static void requireInside(StageRecord r, String stageDir, Path file) {
        if (!stageDir.equals(r.stageDir())) {
            throw new InputDataException(file + " says stage_dir \"" + r.stageDir() + "\" but lies in " + stageDir
                    + ": the directory was copied or renamed; re-run the stage with --force.");
        }
        if (r.tables() != null) {
            for (Map.Entry<String, StageRecord.Table> t : r.tables().entrySet()) {
                if (!SAFE_NAME.matcher(t.getKey()).matches() || t.getValue().path() == null || !SAFE_NAME.matcher(t.getValue().path()).matches()) {
                    throw new InputDataException(file + " names table '" + t.getKey() + "' at path '" + t.getValue().path()
                            + "', which is not a plain name inside the stage directory: the file was edited or is not spark-nas's; re-run the stage with --force.");
                }
            }
        }
    }

    /** A stage directory, table or run name: letters, digits, '_', '-' and '.' (not starting with '.'). */
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]*");

    /** Every committed stage of the run, by directory name. */
    public List<StageRecord> committedStages() {
        List<StageRecord> out = new ArrayList<>();
        try {
            if (!fs.exists(runDir)) {
                return out;
            }
            FileStatus[] dirs = fs.listStatus(runDir);
            Arrays.sort(dirs, Comparator.comparing(s -> s.getPath().getName()));
            for (FileStatus d : dirs) {
                if (d.isDirectory() && !d.getPath().getName().startsWith(SET_ASIDE_PREFIX)) {
                    record(d.getPath().getName()).ifPresent(out::add);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list run " + runDir + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Below this much usable space a local run root is refused before a stage starts (a stage would fail half-way). */
    static final long MIN_FREE_BYTES = 256L << 20;

    /**
     * Fails before any work when a local run root cannot take a stage's output: its nearest existing ancestor is not a
     * writable directory, or has less than {@link #MIN_FREE_BYTES} usable. Other file systems (s3a://) are not probed:
     * a failure there fails the stage without committing it.
     */
    public void requireWritable() {
        if (!"file".equals(fs.getUri().getScheme())) {
            return;
        }
        java.nio.file.Path p = Paths.get(runDir.toUri());
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        String problem = p == null ? "no part of it exists"
                : !Files.isDirectory(p) ? p + " is not a directory"
                : !Files.isWritable(p) ? p + " is not writable"
                : p.toFile().getUsableSpace() < MIN_FREE_BYTES ? p + " has only " + (p.toFile().getUsableSpace() >> 20) + " MB free" : null;
        if (problem != null) {
            throw new InputDataException("Run root " + root + " cannot take run " + runId + ": " + problem
                    + ". Give a writable --run-root with space (a local directory or s3a://bucket/prefix).");
        }
    }

    /** Whether anything (committed or not) is at the stage directory. */
    public boolean exists(String stageDir) {
        try {
            return fs.exists(stageDir(stageDir));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Removes a stage directory; {@code _stage.json} first, so a crash half-way leaves an uncommitted directory, never a broken committed one. */
    public void delete(String stageDir) {
        Path dir = stageDir(stageDir);
        try {
            fs.delete(new Path(dir, STAGE_FILE), false);
            fs.delete(dir, true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Where {@code --force} keeps a committed stage while its replacement runs: {@code <run>/_replaced-<stage dir>}. */
    static final String SET_ASIDE_PREFIX = "_replaced-";

    private Path setAsideDir(String stageDir) {
        return new Path(runDir, SET_ASIDE_PREFIX + stageDir);
    }

    /** Whether a committed stage is set aside for a forced re-run ({@link #setAside}). */
    public boolean hasSetAside(String stageDir) {
        try {
            return fs.exists(setAsideDir(stageDir));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Moves a committed stage beside its directory (a rename: atomic on a local or HDFS file system, a copy on S3), where
     * no reader sees it, so a forced re-run can write the directory afresh and the old stage can come back if it fails.
     */
    public void setAside(String stageDir) {
        rename(stageDir(stageDir), setAsideDir(stageDir));
    }

    /** Puts a set-aside stage back: what the directory holds now (a failed attempt's output) is removed first. */
    public void restoreSetAside(String stageDir) {
        delete(stageDir);
        rename(setAsideDir(stageDir), stageDir(stageDir));
    }

    /** Removes a set-aside stage once its replacement is committed. */
    public void dropSetAside(String stageDir) {
        Path dir = setAsideDir(stageDir);
        try {
            fs.delete(new Path(dir, STAGE_FILE), false);
            fs.delete(dir, true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }

    private void rename(Path from, Path to) {
        try {
            if (fs.exists(to)) {
                throw new IllegalStateException("Cannot move " + from + " to " + to + ": it exists");
            }
            if (!fs.rename(from, to)) {
                throw new IOException("rename returned false");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot move " + from + " to " + to + ": " + e.getMessage(), e);
        }
    }

    /** Writes {@code _stage.json}: the last step of a stage. */
    public void commit(StageRecord record) {
        Path file = new Path(stageDir(record.stageDir()), STAGE_FILE);
        try (FSDataOutputStream out = fs.create(file, false)) {
            out.write(JSON.writeValueAsBytes(record));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** A small text file under a stage directory, if present. */
    public Optional<String> readText(String stageDir, String relative) {
        Path file = new Path(stageDir(stageDir), relative);
        try (InputStream in = fs.open(file)) {
            return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Writes (replaces) a small text file under a stage directory. */
    public void writeText(String stageDir, String relative, String text) {
        Path file = new Path(stageDir(stageDir), relative);
        try (FSDataOutputStream out = fs.create(file, true)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** Deletes a path under a stage directory (recursively). */
    public void deleteUnder(String stageDir, String relative) {
        Path p = new Path(stageDir(stageDir), relative);
        try {
            fs.delete(p, true);
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete " + p + ": " + e.getMessage(), e);
        }
    }

    public FileSystem fileSystem() {
        return fs;
    }
}
