package io.sparknas.jobs.store;

import java.util.stream.Stream;
import java.util.Arrays;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunStoreTest {

    @TempDir
    Path root;

    private RunSettings run(boolean force) {
        StageArgs a = StageArgs.parse(force ? new String[]{"--run-root", root.toString(), "--run-id", "r", "--force"}
                : new String[]{"--run-root", root.toString(), "--run-id", "r"}, Set.of(), false);
        return RunSettings.from(a.loadConfig(), a);
    }

    private RunStore store() {
        return new RunStore(root.toUri(), "r", new Configuration());
    }

    private static List<StageRecord.Input> inputs(String hash) {
        return List.of(new StageRecord.Input("source:x", "file:/x", hash));
    }

    @Test
    void uncommittedDirectoryIsInvisibleAndClearedByTheNextAttempt() throws IOException {
        RunStore store = store();
        Path partial = root.resolve("r/ingest/images");
        Files.createDirectories(partial);
        Files.writeString(partial.resolve("part-0.parquet"), "half-written");
        assertTrue(store.committedStages().isEmpty());
        assertTrue(store.committed("ingest").isEmpty());

        StageCommit c = StageCommit.begin(store, run(false), "ingest", 0, "h1", 1L, inputs("a"));
        assertFalse(c.skipped());
        assertFalse(Files.exists(partial), "leftovers of a crashed attempt are removed");
        c.addTable("images", 3, SchemaVersions.of("ingest"), List.of("split"));
        StageRecord rec = c.commit(Map.of("master", "local[2]"), "CPU");
        StageRecord read = store.committed("ingest").orElseThrow();
        assertEquals(rec.fingerprint(), read.fingerprint());
        assertEquals(3, read.tables().get("images").rows());
        assertEquals(List.of("ingest"), store.committedStages().stream().map(StageRecord::stageDir).toList());
    }

    @Test
    void sameFingerprintSkipsDifferentRefusesForceReplaces() {
        RunStore store = store();
        StageCommit first = StageCommit.begin(store, run(false), "supernet-train", 2, "h1", null, inputs("a"));
        assertEquals("supernet-train-2", first.stageDir());
        first.commit(Map.of(), "CPU");

        assertTrue(StageCommit.begin(store, run(false), "supernet-train", 2, "h1", null, inputs("a")).skipped());
        StageConflictException e = assertThrows(StageConflictException.class,
                () -> StageCommit.begin(store, run(false), "supernet-train", 2, "h1", null, inputs("b")));
        assertTrue(e.getMessage().contains("supernet-train-2") && e.getMessage().contains("--force"), e.getMessage());
        assertThrows(StageConflictException.class, () -> StageCommit.begin(store, run(false), "supernet-train", 2, "h2", null, inputs("a")));

        StageCommit forced = StageCommit.begin(store, run(true), "supernet-train", 2, "h2", null, inputs("a"));
        assertFalse(forced.skipped());
        assertTrue(store.committed("supernet-train-2").isEmpty(), "while --force runs, the old stage is set aside, invisible to readers");
        assertEquals(List.of(), store.committedStages());
        forced.commit(Map.of(), "CPU");
        assertEquals("h2", store.committed("supernet-train-2").orElseThrow().configHash());
        assertEquals(List.of("supernet-train-2"), store.committedStages().stream().map(StageRecord::stageDir).toList());
        assertFalse(Files.exists(root.resolve("r/_replaced-supernet-train-2")), "the replaced stage is gone after the commit");
    }

    @Test
    void aForcedAttemptThatFailsOrIsKilledLosesNothingOfTheCommittedStage() throws Exception {
        RunStore store = store();
        StageCommit first = StageCommit.begin(store, run(false), "ingest", 0, "h1", 1L, inputs("a"));
        Files.createDirectories(root.resolve("r/ingest/images"));
        Files.writeString(root.resolve("r/ingest/images/part-0.parquet"), "the committed images");
        first.addTable("images", 3, SchemaVersions.of("ingest"), List.of());
        first.commit(Map.of(), "CPU");
        String before = checksums(root.resolve("r"));

        // fails mid-way: its partial output goes, the committed stage comes back as it was
        StageCommit failing = StageCommit.begin(store, run(true), "ingest", 0, "h2", 1L, inputs("a"));
        Files.createDirectories(root.resolve("r/ingest/images"));
        Files.writeString(root.resolve("r/ingest/images/part-0.parquet"), "half of the forced attempt's images");
        failing.abort(new RuntimeException("boom"));
        assertEquals(before, checksums(root.resolve("r")), "the committed stage's files and _stage.json unchanged");
        assertEquals("h1", store.committed("ingest").orElseThrow().configHash());

        // killed mid-way (no abort): the next attempt, forced or not, puts the committed stage back first
        StageCommit.begin(store, run(true), "ingest", 0, "h2", 1L, inputs("a"));
        Files.writeString(Files.createDirectories(root.resolve("r/ingest/images")).resolve("part-0.parquet"), "half again");
        assertTrue(Files.exists(root.resolve("r/_replaced-ingest/_stage.json")));
        assertTrue(StageCommit.begin(store, run(false), "ingest", 0, "h1", 1L, inputs("a")).skipped(), "the old stage is back and current");
        assertEquals(before, checksums(root.resolve("r")));
    }

    @Test
    void aKilledForcedAttemptContinuesWithForceAndResumeAndItsCommitDropsTheOldStage() throws Exception {
        RunStore store = store();
        StageCommit.begin(store, run(false), "supernet-train", 0, "h1", 1L, inputs("a")).commit(Map.of(), "CPU");
        StageCommit forced = StageCommit.begin(store, run(true), "supernet-train", 0, "h2", 1L, inputs("a"));
        forced.markCheckpoints();
        // killed here: no abort, the old stage aside, the forced attempt's checkpoint fingerprint in the directory
        StageArgs a = StageArgs.parse(new String[]{"--run-root", root.toString(), "--run-id", "r", "--force", "--resume"}, Set.of(), false);
        StageCommit resumed = StageCommit.begin(store, RunSettings.from(a.loadConfig(), a), "supernet-train", 0, "h2", 1L, inputs("a"));
        assertTrue(resumed.resuming(), "continues the forced attempt's checkpoints");
        assertTrue(Files.exists(root.resolve("r/_replaced-supernet-train/_stage.json")), "the old stage stays aside meanwhile");
        resumed.commit(Map.of(), "CPU");
        assertEquals("h2", store.committed("supernet-train").orElseThrow().configHash());
        assertFalse(Files.exists(root.resolve("r/_replaced-supernet-train")), "dropped at the commit");
    }

    /** Relative path and content of every file under a directory. */
    private static String checksums(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                sb.append(dir.relativize(f)).append(' ').append(Arrays.hashCode(Files.readAllBytes(f))).append('\n');
            }
        }
        return sb.toString();
    }

    @Test
    void abortRemovesPartialOutput() throws IOException {
        RunStore store = store();
        StageCommit c = StageCommit.begin(store, run(false), "ingest", 0, "h", null, inputs("a"));
        Files.createDirectories(root.resolve("r/ingest/images"));
        c.abort(new RuntimeException("boom"));
        assertFalse(Files.exists(root.resolve("r/ingest")));
    }

    @Test
    void unknownFormatVersionIsRefusedWithBothVersions() throws IOException {
        Files.createDirectories(root.resolve("r/ingest"));
        Files.writeString(root.resolve("r/ingest/_stage.json"), "{\"format_version\": 99, \"code_version\": \"9.9\", \"stage_dir\": \"ingest\"}");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> store().committed("ingest"));
        assertTrue(e.getMessage().contains("format_version 99") && e.getMessage().contains("reads 1"), e.getMessage());
    }

    @Test
    void checkpointsAreInForceOnlyOnceCompleteAndOlderOnesGoAfterANewerOneCompletes() {
        RunStore store = store();
        StageCheckpoints cps = new StageCheckpoints(store, "search");
        assertTrue(cps.latest().isEmpty());
        cps.writeText(1, "population.tsv", "a\nb");
        assertTrue(cps.latest().isEmpty(), "files without the marker are not a checkpoint");
        cps.complete(1, "generation 0");
        assertEquals(1, cps.latest().getAsLong());
        // a kill while checkpoint 2 is half-written: 1 stays in force, with its own contents
        cps.writeText(2, "population.tsv", "c");
        assertEquals(1, cps.latest().getAsLong());
        assertEquals("a\nb", cps.readText(1, "population.tsv"));
        cps.complete(2, "generation 1");
        assertEquals(2, cps.latest().getAsLong());
        assertFalse(Files.exists(root.resolve("r/search/" + cps.path(1, ""))), "older checkpoint deleted once a newer one is complete");
        assertEquals("c", cps.readText(2, "population.tsv"));
    }

    @Test
    void aHalfWrittenCheckpointIsClearedWhenItsNumberIsWrittenAgainAndACompleteOneIsNeverRewritten() throws IOException {
        RunStore store = store();
        StageCheckpoints cps = new StageCheckpoints(store, "supernet-train");
        cps.writeText(1, "position", "0 1");
        cps.complete(1, "round 1");
        // the attempt that died writing checkpoint 2 left a part of a table (Spark would refuse to write over it)
        Path partial = Files.createDirectories(root.resolve("r/supernet-train/" + cps.path(2, "state")));
        Files.writeString(partial.resolve("part-00000.parquet"), "half");
        cps.begin(2);
        assertFalse(Files.exists(partial), "the interrupted attempt's part of checkpoint 2 removed");
        cps.writeText(2, "position", "0 2");
        cps.complete(2, "round 2");
        assertEquals("0 2", cps.readText(2, "position"));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> cps.begin(2));
        assertTrue(e.getMessage().contains("never rewritten"), e.getMessage());
    }

    @Test
    void aFailedStageLosesItsPartialOutputButKeepsItsCheckpoints() throws IOException {
        RunStore store = store();
        StageCommit c = StageCommit.begin(store, run(false), "supernet-train", 0, "h1", 1L, inputs("a"));
        c.markCheckpoints();
        new StageCheckpoints(store, "supernet-train").writeText(3, "position", "0 3");
        new StageCheckpoints(store, "supernet-train").complete(3, "x");
        Files.createDirectories(root.resolve("r/supernet-train/supernet"));
        Files.writeString(root.resolve("r/supernet-train/supernet/part-0.parquet"), "half-written");
        StageCommit.abortOpen(new IllegalStateException("boom"));
        assertFalse(Files.exists(root.resolve("r/supernet-train/supernet")), "partial table removed");
        assertEquals(3, new StageCheckpoints(store, "supernet-train").latest().getAsLong(), "checkpoint kept for --resume");
        assertTrue(store.readText("supernet-train", StageCommit.CHECKPOINT_FINGERPRINT).isPresent());

        StageCommit p = StageCommit.begin(store, run(false), "prune", 0, "h1", 1L, inputs("a"));
        Files.createDirectories(root.resolve("r/prune/pruned_space"));
        StageCommit.abortOpen(new IllegalStateException("boom"));
        assertFalse(Files.exists(root.resolve("r/prune")), "a stage without checkpoints leaves nothing");
        assertFalse(p.skipped());
        // a committed stage is not touched by a later failure
        StageCommit ok = StageCommit.begin(store, run(false), "report", 0, "h1", 1L, inputs("a"));
        ok.commit(Map.of(), "CPU");
        StageCommit.abortOpen(new IllegalStateException("later"));
        assertTrue(store.committed("report").isPresent());
    }
}
