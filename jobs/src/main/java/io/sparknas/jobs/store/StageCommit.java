package io.sparknas.jobs.store;

import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileStatus;
import java.util.OptionalDouble;
import java.util.Locale;
import io.sparknas.jobs.InputDataException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.RunSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One attempt at a stage: decides whether to run, skip or refuse, collects the tables written, and commits them all
 * at once by writing {@code _stage.json} last. A failed attempt is {@link #abort aborted}: its partial output is removed.
 *
 * <ul>
 *   <li>committed, same fingerprint (config and inputs), no {@code --force}: skipped, the committed record is the result;</li>
 *   <li>committed, different fingerprint, no {@code --force}: refused with {@link StageConflictException};</li>
 *   <li>{@code --force}: the committed stage is set aside ({@link RunStore#setAside}) and run again; the new attempt's
 *   commit drops the old one, its failure (or, after a kill, the next attempt) puts the old one back: a forced run that
 *   fails loses nothing;</li>
 *   <li>an uncommitted directory (a crashed attempt) is cleared and the stage runs.</li>
 * </ul>
 */
public final class StageCommit {

    private static final Logger LOG = LoggerFactory.getLogger(StageCommit.class);

    private final RunStore store;
    private final RunSettings run;
    private final String stage;
    private final String stageDir;
    private final int stageIndex;
    private final String configHash;
    private final String fingerprint;
    private final Long seed;
    private final List<StageRecord.Input> inputs;
    private final StageRecord existing;
    private final Instant startedAt = Instant.now();
    private final Map<String, StageRecord.Table> tables = new LinkedHashMap<>();
    private final Map<String, String> properties = new LinkedHashMap<>();
    private final boolean resuming;
    /** Seconds the attempts before this one spent up to the checkpoint this one resumes from (0 when not resuming). */
    private final double resumedSeconds;
    private final long startNanos = System.nanoTime();
    /** Whether this attempt set a committed stage aside ({@code --force}), to drop at the commit or restore on failure. */
    private final boolean replacing;

    private StageCommit(RunStore store, RunSettings run, String stage, int stageIndex, String configHash, Long seed,
                        List<StageRecord.Input> inputs, StageRecord existing, boolean resuming, boolean replacing) {
        this.resuming = resuming;
        this.replacing = replacing;
        if (existing == null) {
            open = this;
        }
        this.store = store;
        this.run = run;
        this.stage = stage;
        this.stageIndex = stageIndex;
        this.stageDir = dirName(stage, stageIndex);
        this.configHash = configHash;
        this.seed = seed;
        this.inputs = List.copyOf(inputs);
        this.fingerprint = fingerprint(configHash, inputs);
        this.existing = existing;
        StageCheckpoints checkpoints = new StageCheckpoints(store, stageDir);
        this.resumedSeconds = resuming ? checkpoints.latest().stream().mapToDouble(checkpoints::elapsedSeconds).findFirst().orElse(0) : 0;
    }

    /**
     * The work the open attempt of this JVM stands for, in seconds: its own wall time plus, when it resumed, the earlier
     * attempts' time up to its checkpoint (so a stage interrupted and resumed reports about what it would take in one go;
     * the work redone after the last checkpoint counts once). Empty when no attempt is open.
     */
    static OptionalDouble openElapsedSeconds(String stageDir) {
        StageCommit c = open;
        return c == null || !c.stageDir.equals(stageDir) ? OptionalDouble.empty() : OptionalDouble.of(c.elapsedSeconds());
    }

    private double elapsedSeconds() {
        return resumedSeconds + (System.nanoTime() - startNanos) / 1e9;
    }

    /** {@code stage} or {@code stage-k} for progressive stages (k >= 1; 0 means not indexed). */
    public static String dirName(String stage, int stageIndex) {
        return stageIndex > 0 ? stage + "-" + stageIndex : stage;
    }

    static String fingerprint(String configHash, List<StageRecord.Input> inputs) {
        StringBuilder sb = new StringBuilder(configHash);
        for (StageRecord.Input in : inputs) {
            sb.append('|').append(in.id()).append('=').append(in.hash());
        }
        return NasConfig.sha256(sb.toString());
    }

    /**
     * Starts a stage attempt.
     *
     * @param configHash hash of the config sections the stage depends on ({@link NasConfig#hash})
     * @param seed       the stage's seed, or null
     * @param inputs     what the stage reads, with hashes
     */
    public static StageCommit begin(RunStore store, RunSettings run, String stage, int stageIndex, String configHash, Long seed,
                                    List<StageRecord.Input> inputs) {
        String dir = dirName(stage, stageIndex);
        requireFresh(store, dir, inputs);
        store.requireWritable();
        String fp = fingerprint(configHash, inputs);
        boolean replacing = recoverSetAside(store, dir, run, fp);
        StageRecord committed = store.record(dir).orElse(null);
        if (committed != null) {
            if (run.force()) {
                LOG.info("Stage {} of run {} is committed; --force: setting it aside until the new attempt commits (restored if it fails)",
                        dir, run.runId());
                store.setAside(dir);
                return new StageCommit(store, run, stage, stageIndex, configHash, seed, inputs, null, false, true);
            } else if (fp.equals(committed.fingerprint())) {
                LOG.info("Stage {} of run {} is already committed with the same config and inputs (fingerprint {}): skipped. "
                        + "Pass --force to run it again.", dir, run.runId(), fp.substring(0, 12));
            } else {
                throw new StageConflictException("Stage " + dir + " of run " + run.runId() + " is already committed at "
                        + store.stageDir(dir) + " with a different config or inputs (config hash " + shortHash(committed.configHash())
                        + " there, " + shortHash(configHash) + " now). Pass --force to overwrite it, or use another --run-id.");
            }
        } else if (store.exists(dir)) {
            String checkpointFp = store.readText(dir, CHECKPOINT_FINGERPRINT).orElse(null);
            if (run.resume() && fp.equals(checkpointFp)) {
                LOG.info("Resuming stage {} of run {} from its checkpoint at {}", dir, run.runId(), store.stageDir(dir));
                return new StageCommit(store, run, stage, stageIndex, configHash, seed, inputs, null, true, replacing);
            }
            if (run.resume()) {
                LOG.warn("--resume: no checkpoint of the same config and inputs at {}; starting over", store.stageDir(dir));
            }
            LOG.info("Clearing uncommitted output of an earlier attempt at {}", store.stageDir(dir));
            store.delete(dir);
        }
        return new StageCommit(store, run, stage, stageIndex, configHash, seed, inputs, committed, false, false);
    }

    /**
     * A committed stage set aside by a forced attempt that was killed before it committed or restored it: dropped when the
     * replacement did commit; kept aside when this attempt resumes the forced one ({@code --force --resume} with its
     * checkpoint); otherwise put back. Returns whether it stays aside (this attempt then replaces it).
     */
    private static boolean recoverSetAside(RunStore store, String dir, RunSettings run, String fp) {
        if (!store.hasSetAside(dir)) {
            return false;
        }
        if (store.record(dir).isPresent()) {
            LOG.info("Stage {} of run {}: the forced attempt committed; removing the stage it replaced", dir, run.runId());
            store.dropSetAside(dir);
            return false;
        }
        if (run.force() && run.resume() && fp.equals(store.readText(dir, CHECKPOINT_FINGERPRINT).orElse(null))) {
            return true;
        }
        LOG.warn("Stage {} of run {}: an interrupted --force attempt set the committed stage aside; putting it back", dir, run.runId());
        store.restoreSetAside(dir);
        return false;
    }

    /**
     * Refuses to build on a stale stage: one of this run's input stages was itself built from a stage that has been re-run
     * since with another config or inputs (its recorded input fingerprint is no longer the committed one), so the two
     * disagree about the data or the space (e.g. a supernet trained on the ingest that --force replaced).
     */
    static void requireFresh(RunStore store, String dir, List<StageRecord.Input> inputs) {
        for (StageRecord.Input in : inputs) {
            if (!isStageOfThisRun(in.id())) {
                continue;
            }
            StageRecord upstream = store.record(in.id()).orElse(null);
            if (upstream == null || upstream.inputs() == null) {
                continue;
            }
            for (StageRecord.Input before : upstream.inputs()) {
                if (!isStageOfThisRun(before.id())) {
                    continue;
                }
                String now = store.record(before.id()).map(StageRecord::fingerprint).orElse(null);
                if (!before.hash().equals(now)) {
                    throw new InputDataException("Stage " + in.id() + " of run " + store.runId() + " is stale: it was built from "
                            + before.id() + " " + shortHash(before.hash()) + ", but " + before.id() + " is now "
                            + (now == null ? "not committed" : shortHash(now) + " (re-run since)") + ". Re-run " + in.id()
                            + " with --force before " + dir + " (submit/pipeline.sh --from " + in.id() + " --force re-runs it and the stages after it).");
                }
            }
        }
    }

    private static boolean isStageOfThisRun(String inputId) {
        return !inputId.startsWith("source:") && !inputId.contains("/");
    }

    /**
     * Property of every committed stage: the seconds of work it took over all its attempts (started_at and ended_at are
     * the committing attempt's; see {@link #openElapsedSeconds}).
     */
    public static final String ELAPSED_SECONDS = "elapsed_seconds";

    /** File under the stage directory holding the fingerprint its checkpoints belong to. */
    public static final String CHECKPOINT_FINGERPRINT = "_checkpoint/fingerprint";

    /** True when this attempt continues an uncommitted one from its checkpoint ({@code --resume}). */
    public boolean resuming() {
        return resuming;
    }

    /** Marks the stage directory's checkpoints as belonging to this attempt's config and inputs. */
    public void markCheckpoints() {
        checkpointed = true;
        if (!fingerprint.equals(store.readText(stageDir, CHECKPOINT_FINGERPRINT).orElse(null))) {
            store.writeText(stageDir, CHECKPOINT_FINGERPRINT, fingerprint);
        }
    }

    /** Records a stage-specific fact in {@code _stage.json}. */
    public void putProperty(String key, String value) {
        properties.put(key, value);
    }

    private static String shortHash(String h) {
        return h == null ? "none" : h.substring(0, Math.min(12, h.length()));
    }

    /** True when the stage is committed with the same fingerprint and nothing needs to run. */
    public boolean skipped() {
        return existing != null;
    }

    /** The committed record when {@link #skipped()}. */
    public StageRecord existing() {
        return Objects.requireNonNull(existing, "not skipped");
    }

    public String stageDir() {
        return stageDir;
    }

    public String fingerprint() {
        return fingerprint;
    }

    public RunStore store() {
        return store;
    }

    /** Where to write a table of this stage. */
    public String tableUri(String table) {
        return store.tableUri(stageDir, table);
    }

    /** Records a table the stage has written completely. */
    public void addTable(String table, long rows, int schemaVersion, List<String> partitionedBy) {
        tables.put(table, new StageRecord.Table(table, rows, schemaVersion, List.copyOf(partitionedBy)));
    }

    /** Writes {@code _stage.json}: after this the stage exists for readers. */
    public StageRecord commit(Map<String, String> sparkInfo, String backend) {
        if (existing != null) {
            throw new IllegalStateException("stage " + stageDir + " was skipped; nothing to commit");
        }
        JsonNode config;
        try {
            config = RunStore.JSON.readTree(NasConfig.renderJson(run.config(), NasConfig.ROOT));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        properties.put(ELAPSED_SECONDS, String.format(Locale.ROOT, "%.1f", elapsedSeconds()));
        StageRecord record = new StageRecord(StageRecord.FORMAT_VERSION, stage, stageDir, stageIndex, run.runId(), run.method(),
                CodeVersion.get(), configHash, fingerprint, seed, config, new ArrayList<>(inputs), new LinkedHashMap<>(tables),
                startedAt.toString(), Instant.now().toString(), StageRecord.COMMITTED, new LinkedHashMap<>(sparkInfo), backend,
                new LinkedHashMap<>(properties));
        store.commit(record);
        if (open == this) {
            open = null;
        }
        if (replacing) {
            store.dropSetAside(stageDir);
        }
        LOG.info("Committed stage {} at {} ({} s of work{})", stageDir, store.stageDir(stageDir), properties.get(ELAPSED_SECONDS),
                resumedSeconds > 0 ? String.format(Locale.ROOT, ", %.1f s of them before it was resumed", resumedSeconds) : "");
        return record;
    }

    /** The attempt begun in this JVM and neither skipped nor committed yet, if any. */
    private static volatile StageCommit open;
    private boolean checkpointed;

    /**
     * After a failure (StageLauncher): removes what the open attempt wrote, keeping its checkpoints ({@code _checkpoint/},
     * with the fingerprint they belong to, and kept ones such as {@code _checkpoint-pretrained/}) when it made any, so {@code --resume} can continue; the stage stays uncommitted.
     */
    public static void abortOpen(Throwable cause) {
        StageCommit c = open;
        open = null;
        if (c == null) {
            return;
        }
        if (!c.checkpointed || c.replacing) {
            // a forced attempt puts the stage it replaced back, its own checkpoints included in what goes
            c.abort(cause);
            return;
        }
        try {
            FileSystem fs = c.store.fileSystem();
            Path dir = c.store.stageDir(c.stageDir);
            if (fs.exists(dir)) {
                for (FileStatus f : fs.listStatus(dir)) {
                    if (!StageCheckpoints.isCheckpointDir(f.getPath().getName())) {
                        fs.delete(f.getPath(), true);
                    }
                }
            }
            LOG.warn("Stage {} failed ({}); removed its partial output and kept its checkpoints at {}: --resume continues from the last one",
                    c.stageDir, cause.toString(), new Path(dir, StageCheckpoints.DIR));
        } catch (IOException | RuntimeException e) {
            LOG.warn("Stage {} failed and its partial output at {} could not be removed: {}", c.stageDir, c.store.stageDir(c.stageDir), e.toString());
        }
    }

    /** Removes whatever this attempt wrote (best effort); the stage stays uncommitted. */
    public void abort(Throwable cause) {
        if (open == this) {
            open = null;
        }
        if (existing != null) {
            return;
        }
        try {
            if (replacing) {
                store.restoreSetAside(stageDir);
                LOG.warn("Stage {} failed ({}); removed its partial output and put back the committed stage --force had set aside",
                        stageDir, cause.toString());
                return;
            }
            store.delete(stageDir);
            LOG.warn("Stage {} failed ({}); removed its partial output", stageDir, cause.toString());
        } catch (RuntimeException e) {
            LOG.warn("Stage {} failed and its partial output at {} could not be removed: {}", stageDir, store.stageDir(stageDir), e.toString());
        }
    }
}
