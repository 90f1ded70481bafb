package io.sparknas.jobs.config;

import io.sparknas.supernet.config.InvalidSettingsException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StageArgsTest {

    @Test
    void parsesTheSharedContract() {
        StageArgs a = StageArgs.parse(new String[]{"--config", "c.conf", "--run-root", "s3a://b/p", "--run-id", "r1", "--force",
                "-Dnas.ingest.seed=3", "-D", "nas.ingest.val-per-class=5"}, Set.of(), false);
        assertEquals("c.conf", a.configFile().getPath());
        assertTrue(a.force());
        assertEquals(Map.of("nas.run.root", "s3a://b/p", "nas.run.id", "r1", "nas.ingest.seed", "3", "nas.ingest.val-per-class", "5"),
                a.overrides());
    }

    @Test
    void stageOptionsAndPositionals() {
        StageArgs a = StageArgs.parse(new String[]{"--format", "tsv", "--limit=5", "select 1"}, Set.of("format", "limit"), true);
        assertEquals(Map.of("format", "tsv", "limit", "5"), a.options());
        assertEquals(List.of("select 1"), a.positional());
    }

    @Test
    void errorsNameTheOption() {
        InvalidSettingsException unknown = assertThrows(InvalidSettingsException.class,
                () -> StageArgs.parse(new String[]{"--forse"}, Set.of(), false));
        assertTrue(unknown.getMessage().startsWith("Unknown option --forse"), unknown.getMessage());
        InvalidSettingsException noValue = assertThrows(InvalidSettingsException.class,
                () -> StageArgs.parse(new String[]{"--config"}, Set.of(), false));
        assertTrue(noValue.getMessage().startsWith("Option --config needs a value"), noValue.getMessage());
        assertThrows(InvalidSettingsException.class, () -> StageArgs.parse(new String[]{"stray"}, Set.of(), false));
        assertThrows(InvalidSettingsException.class, () -> StageArgs.parse(new String[]{"-Dnas.x"}, Set.of(), false));
    }

    @Test
    void runIdMustBeADirectoryName() {
        StageArgs a = StageArgs.parse(new String[]{"--run-id", "../x"}, Set.of(), false);
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> RunSettings.from(a.loadConfig(), a));
        assertTrue(e.getMessage().contains("nas.run.id"), e.getMessage());
    }

    @Test
    void runRootBecomesAnAbsoluteUri() {
        assertEquals("s3a://bucket/prefix", RunSettings.toUri("s3a://bucket/prefix/").toString());
        assertTrue(RunSettings.toUri("runs").toString().startsWith("file:/"));
        assertTrue(RunSettings.toUri("runs").getPath().endsWith("/runs"));
    }
}
