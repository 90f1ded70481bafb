package io.sparknas.jobs.config;

import io.sparknas.supernet.config.InvalidSettingsException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueType;
import io.sparknas.jobs.ingest.IngestSettings;
import io.sparknas.jobs.testing.TestConfigs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NasConfigTest {

    @Test
    void presetsLoadAndValidate() {
        for (String preset : List.of("fashion-mnist-tiny.conf", "fashion-mnist.conf")) {
            StageArgs args = TestConfigs.args(preset);
            IngestSettings s = IngestSettings.from(args.loadConfig(), args);
            assertEquals(28, s.resolution());
            assertEquals(10, s.classNames().size());
        }
        // the ImageNet preset needs its source; without it the error names the key
        StageArgs args = TestConfigs.args("imagenet-mobile.conf");
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> IngestSettings.from(args.loadConfig(), args));
        assertTrue(e.getMessage().startsWith("nas.ingest.source is empty"), e.getMessage());
        StageArgs withSource = TestConfigs.args("imagenet-mobile.conf", "-Dnas.ingest.source=s3a://bucket/imagenet");
        assertEquals(224, IngestSettings.from(withSource.loadConfig(), withSource).resolution());
    }

    @Test
    void typoInFileNamesKeyOriginAndNearestValidKey(@TempDir Path dir) throws IOException {
        File f = dir.resolve("typo.conf").toFile();
        Files.writeString(f.toPath(), "nas {\n  ingest {\n    val-per-clas = 10\n  }\n}\n");
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> NasConfig.load(f, Map.of()));
        assertTrue(e.getMessage().contains("Unknown configuration key 'nas.ingest.val-per-clas'"), e.getMessage());
        assertTrue(e.getMessage().contains("typo.conf: 3"), "names file and line: " + e.getMessage());
        assertTrue(e.getMessage().contains("Did you mean 'nas.ingest.val-per-class'?"), e.getMessage());
    }

    @Test
    void typoInOverrideSuggestsKeyInAnotherSection() {
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                () -> NasConfig.load(null, Map.of("nas.run.roots", "/tmp/x")));
        assertTrue(e.getMessage().contains("'nas.run.roots' (-Dnas.run.roots)"), e.getMessage());
        assertTrue(e.getMessage().contains("Did you mean 'nas.run.root'?"), e.getMessage());
    }

    @Test
    void wrongTypeNamesKeyValueAndExpectation() {
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                () -> NasConfig.load(null, Map.of("nas.ingest.resolution", "big")));
        assertTrue(e.getMessage().contains("nas.ingest.resolution"), e.getMessage());
        assertTrue(e.getMessage().contains("big"), e.getMessage());
        assertTrue(e.getMessage().toLowerCase().contains("number"), e.getMessage());
    }

    @Test
    void outOfRangeValueNamesAllowedRange() {
        Config c = NasConfig.load(null, Map.of("nas.ingest.resolution", "4", "nas.ingest.source", "/x"));
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                () -> IngestSettings.from(c, TestConfigs.args(null)));
        assertEquals("Bad value for nas.ingest.resolution = 4 (-Dnas.ingest.resolution): expected a whole number from 8 to 1024.", e.getMessage());
        Config m = NasConfig.load(null, Map.of("nas.ingest.resize-mode", "squash", "nas.ingest.source", "/x"));
        InvalidSettingsException e2 = assertThrows(InvalidSettingsException.class, () -> IngestSettings.from(m, TestConfigs.args(null)));
        assertTrue(e2.getMessage().contains("expected one of center-crop, pad, stretch"), e2.getMessage());
    }

    @Test
    void overridesWinOverFileAndListsParse(@TempDir Path dir) throws IOException {
        File f = dir.resolve("a.conf").toFile();
        Files.writeString(f.toPath(), "nas.ingest { val-per-class = 7, source = \"/data\" }\n");
        Config c = NasConfig.load(f, Map.of("nas.ingest.val-per-class", "9", "nas.ingest.class-names", "[a, b]",
                "nas.run.root", "s3a://bucket/prefix//x"));
        assertEquals(9, c.getInt("nas.ingest.val-per-class"));
        assertEquals("/data", c.getString("nas.ingest.source"));
        assertEquals(List.of("a", "b"), c.getStringList("nas.ingest.class-names"));
        assertEquals("s3a://bucket/prefix//x", c.getString("nas.run.root"), "'//' in a -D value is not a HOCON comment");
    }

    @Test
    void overrideOutsideNasIsRefused() {
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                () -> NasConfig.load(null, Map.of("spark.executor.memory", "4g")));
        assertTrue(e.getMessage().contains("spark-submit --conf"), e.getMessage());
    }

    @Test
    void missingConfigFileIsNamed() {
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class,
                () -> NasConfig.load(new File("/nonexistent/x.conf"), Map.of()));
        assertTrue(e.getMessage().contains("/nonexistent/x.conf"), e.getMessage());
    }

    @Test
    void hashCoversOnlyTheNamedSections() {
        Config a = NasConfig.load(null, Map.of("nas.ingest.seed", "1"));
        Config b = NasConfig.load(null, Map.of("nas.ingest.seed", "1", "nas.run.id", "other"));
        Config c = NasConfig.load(null, Map.of("nas.ingest.seed", "2"));
        assertEquals(NasConfig.hash(a, List.of("nas.ingest")), NasConfig.hash(b, List.of("nas.ingest")));
        assertNotEquals(NasConfig.hash(a, List.of("nas.ingest")), NasConfig.hash(c, List.of("nas.ingest")));
    }

    @Test
    void aDashDOverrideIsTheSameConfigurationAsTheFileValueOrTheDefault(@TempDir Path dir) throws IOException {
        // -D values arrive as strings; a string "1000" used to render (and hash) differently from the number 1000,
        // so re-running a stage with the default spelled out on the command line was refused as a different config
        List<String> search = List.of("nas.search");
        Config defaults = NasConfig.load(null, Map.of());
        int retries = defaults.getInt("nas.search.max-retries");
        Config spelledOut = NasConfig.load(null, Map.of("nas.search.max-retries", " " + retries));
        assertEquals(NasConfig.hash(defaults, search), NasConfig.hash(spelledOut, search));
        assertEquals(NasConfig.renderJson(defaults, "nas.search"), NasConfig.renderJson(spelledOut, "nas.search"));

        File f = dir.resolve("a.conf").toFile();
        Files.writeString(f.toPath(), "nas.supernet.optimizer.learning-rate = 0.05\nnas.danas.prune = false\n");
        Config fromFile = NasConfig.load(f, Map.of());
        Config fromOverrides = NasConfig.load(null, Map.of("nas.supernet.optimizer.learning-rate", "0.05", "nas.danas.prune", "false"));
        for (String section : List.of("nas.supernet", "nas.danas")) {
            assertEquals(NasConfig.renderJson(fromFile, section), NasConfig.renderJson(fromOverrides, section), section);
        }
        assertEquals(ConfigValueType.BOOLEAN, NasConfig.load(null, Map.of("nas.danas.prune", "yes")).getValue("nas.danas.prune").valueType());
        assertNotEquals(NasConfig.hash(defaults, search),
                NasConfig.hash(NasConfig.load(null, Map.of("nas.search.max-retries", String.valueOf(retries + 1))), search));
    }

    @Test
    void editDistance() {
        assertEquals(0, NasConfig.editDistance("abc", "abc"));
        assertEquals(1, NasConfig.editDistance("val-per-clas", "val-per-class"));
        assertEquals(3, NasConfig.editDistance("kitten", "sitting"));
    }
}
