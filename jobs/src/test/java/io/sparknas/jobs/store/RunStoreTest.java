package io.sparknas.jobs.store;

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
        c.addTable("images", 3, 1, List.of("split"));
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
        assertTrue(store.committed("supernet-train-2").isEmpty(), "--force uncommits the old stage first");
        forced.commit(Map.of(), "CPU");
        assertEquals("h2", store.committed("supernet-train-2").orElseThrow().configHash());
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
}
