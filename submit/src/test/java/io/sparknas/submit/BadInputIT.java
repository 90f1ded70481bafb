package io.sparknas.submit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input through the real entry points (the README's table "Bad input"): each case ends with its exit status and a
 * one-line cause naming the problem and the fix as the last line of standard error, and writes or overwrites nothing
 * (the run root's files and their checksums are the same before and after).
 */
class BadInputIT {

    private static final String FMNIST = "/usr/share/datasets/fashion-mnist";

    @TempDir
    static Path root;

    @BeforeAll
    static void ingestTheTinyPreset() throws Exception {
        Scripts.Run r = stage("ingest", "base");
        assertEquals(0, r.status(), r.toString());
    }

    private static Scripts.Run stage(String script, String runId, String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", runId, "--master", "local[2]"));
        args.addAll(List.of(extra));
        return Scripts.run("submit/" + script + (script.equals("nas-sql") ? "" : ".sh"), args.toArray(String[]::new));
    }

    /** Every file under the run root with its SHA-256: what "nothing written or overwritten" compares. */
    private static String snapshot() throws Exception {
        StringBuilder sb = new StringBuilder();
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (Stream<Path> files = Files.walk(root.getParent().resolve(root.getFileName()))) {
            for (Path f : files.sorted().toList()) {
                sb.append(root.relativize(f));
                if (Files.isRegularFile(f)) {
                    sb.append(' ').append(HexFormat.of().formatHex(sha.digest(Files.readAllBytes(f))));
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** Runs a bad case and checks its status, its last line, and that the run root is unchanged. */
    private static void refused(int status, List<String> lastLineHas, String script, String runId, String... extra) throws Exception {
        String before = snapshot();
        Scripts.Run r = stage(script, runId, extra);
        assertEquals(status, r.status(), r.toString());
        for (String s : lastLineHas) {
            assertTrue(r.lastErrLine().contains(s), "'" + s + "' in the last line: " + r.lastErrLine());
        }
        assertEquals(before, snapshot(), "nothing written or overwritten under the run root by " + script + " " + String.join(" ", extra));
    }

    @Test
    void outOfRangeValueNamesTheKeyAndTheRange() throws Exception {
        refused(2, List.of("nas.supernet.epochs", "-1"), "supernet-train", "base", "-Dnas.supernet.epochs=-1");
    }

    @Test
    void unknownMethodIsRefusedByThePipelineAndByAStage() throws Exception {
        String before = snapshot();
        Scripts.Run p = Scripts.run("submit/pipeline.sh", "--method", "enas", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString());
        assertEquals(2, p.status(), p.toString());
        assertTrue(p.lastErrLine().contains("nas.run.method = \"enas\"") && p.lastErrLine().contains("spos"), p.lastErrLine());
        assertEquals(before, snapshot());
        refused(2, List.of("nas.run.method", "enas", "spos"), "supernet-train", "base", "-Dnas.run.method=enas");
    }

    @Test
    void aRunIdOrTableThatWouldLeaveTheRunRootIsRefused() throws Exception {
        refused(2, List.of("nas.run.id", "../x"), "ingest", "../x");
        assertFalse(Files.exists(root.resolveSibling("x")), "nothing beside the run root");
        refused(2, List.of("nas.run.id"), "nas-sql", "a/../../b", "select 1");
        // a _stage.json edited to name a table outside its stage directory: no reader follows it
        Scripts.copyTree(root.resolve("base/ingest"), root.resolve("evil/ingest"));
        Path json = root.resolve("evil/ingest/_stage.json");
        edit(json, "\"path\" : \"images\"", "\"path\" : \"../../../outside\"");
        refused(4, List.of("../../../outside", "--force"), "nas-sql", "evil", "select count(*) from ingest_images");
        refused(4, List.of("../../../outside"), "supernet-train", "evil");
    }

    @Test
    void anUnwritableRunRootIsRefusedBeforeAnyWork() throws Exception {
        Path file = Files.writeString(root.resolve("not-a-dir"), "x");
        String before = snapshot();
        List<String> args = List.of("--config", "conf/fashion-mnist-tiny.conf", "--run-root", file.resolve("runs").toString(), "--run-id", "w",
                "--master", "local[2]");
        Scripts.Run r = Scripts.run("submit/ingest.sh", args.toArray(String[]::new));
        assertEquals(4, r.status(), r.toString());
        assertTrue(r.lastErrLine().contains(file + " is not a directory") && r.lastErrLine().contains("writable --run-root"), r.lastErrLine());
        assertFalse(r.err().contains("decoding"), "refused before decoding any image: " + r);
        assertEquals(before, snapshot());
    }

    @Test
    void aMissingUpstreamStageNamesTheScriptToRun() throws Exception {
        refused(4, List.of("supernet-train", "not committed", "submit/supernet-train.sh"), "search", "base");
    }

    @Test
    void anUpstreamStageOfAnOlderSchemaVersionIsRefused() throws Exception {
        Scripts.copyTree(root.resolve("base/ingest"), root.resolve("old/ingest"));
        Path json = root.resolve("old/ingest/_stage.json");
        edit(json, "\"schema_version\" : 1", "\"schema_version\" : 0");
        refused(4, List.of("schema_version 0", "reads schema_version 1", "--force"), "supernet-train", "old");
    }

    @Test
    void anIdxFileWithAWrongMagicNumberIsNamed() throws Exception {
        Path src = idxCopy("badmagic");
        byte[] raw = gunzip(src.resolve("train-images-idx3-ubyte.gz"));
        raw[3] = 0x04; // 2051 -> 2052
        gzip(raw, src.resolve("train-images-idx3-ubyte.gz"));
        refused(4, List.of("train-images-idx3-ubyte.gz", "magic number 2052, expected 2051"), "ingest", "badmagic",
                "-Dnas.ingest.source=" + src);
    }

    @Test
    void aTruncatedIdxFileIsNamedAndNothingIsCommitted() throws Exception {
        Path src = idxCopy("truncated");
        Path f = src.resolve("t10k-images-idx3-ubyte.gz");
        byte[] gz = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(gz, gz.length / 2));
        refused(4, List.of("t10k-images-idx3-ubyte.gz", "is truncated", "download it again"), "ingest", "truncated", "-Dnas.ingest.source=" + src);
    }

    /** Edits a file as a person would (Hadoop's local checksum file beside it goes, or the edit reads as corruption). */
    private static void edit(Path file, String from, String to) throws IOException {
        String text = Files.readString(file);
        assertTrue(text.contains(from), file + " holds " + from);
        Files.writeString(file, text.replace(from, to));
        Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
    }

    /** A copy of the real Fashion-MNIST IDX files outside the run root, to spoil one of. */
    private static Path idxCopy(String name) throws IOException {
        Path dir = Files.createTempDirectory("idx-" + name);
        try (Stream<Path> files = Files.list(Path.of(FMNIST))) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith("-ubyte.gz")).toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        return dir;
    }

    private static byte[] gunzip(Path f) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(f))) {
            return in.readAllBytes();
        }
    }

    private static void gzip(byte[] data, Path f) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(b)) {
            out.write(data);
        }
        Files.write(f, b.toByteArray());
    }
}
