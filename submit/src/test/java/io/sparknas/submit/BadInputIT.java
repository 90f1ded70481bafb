package io.sparknas.submit;

import java.util.Map;
import java.util.Arrays;
import java.util.ArrayList;
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
 * Bad input through the real entry points (docs/faults.md, "Bad input"): each case ends with its exit status and a
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
        List<String> args = new ArrayList<>(List.of("--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
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
        // DSO-NAS's pre-training of another run is named by its run id, never a path
        refused(2, List.of("nas.dsonas.pretrained-run", "../../base", "a run id"), "supernet-train", "base", "-Dnas.run.method=dsonas",
                "-Dnas.dsonas.pretrained-run=../../base");
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
    void aReadOnlyRunRootOrOneWithUnder256MbFreeIsRefusedBeforeAnyWork(@TempDir Path dir) throws Exception {
        // file systems of their own (tmpfs; the test runs as root, as CI does, and root may write anywhere else)
        Path small = Files.createDirectories(dir.resolve("small"));
        Path readOnly = Files.createDirectories(dir.resolve("read-only"));
        Scripts.Run mount = Scripts.runCommand(Map.of(), "mount -t tmpfs -o size=100m nas-test-small '" + small
                + "' && mount -t tmpfs -o ro,size=1m nas-test-ro '" + readOnly + "'");
        assertEquals(0, mount.status(), "this test mounts two tmpfs and needs root for it:\n" + mount);
        try {
            for (Path runRoot : List.of(small.resolve("runs"), readOnly.resolve("runs"))) {
                List<String> args = List.of("--config", "conf/fashion-mnist-tiny.conf", "--run-root", runRoot.toString(), "--run-id", "w",
                        "--master", "local[2]");
                Scripts.Run r = Scripts.run("submit/ingest.sh", args.toArray(String[]::new));
                assertEquals(4, r.status(), r.toString());
                String problem = runRoot.startsWith(small) ? small + " has only 100 MB free" : readOnly + " is not writable";
                assertTrue(r.lastErrLine().contains(problem) && r.lastErrLine().contains("writable --run-root with space"), r.lastErrLine());
                assertFalse(r.err().contains("decoding"), "refused before decoding any image: " + r);
                try (Stream<Path> left = Files.list(runRoot.getParent())) {
                    assertEquals(List.of(), left.toList(), "nothing written");
                }
            }
        } finally {
            Scripts.runCommand(Map.of(), "umount '" + small + "'; umount '" + readOnly + "'");
        }
    }

    @Test
    void aNasSqlSessionWithAFailedStatementAnswersTheRestAndExitsNonZero() throws Exception {
        String before = snapshot();
        Scripts.Run r = Scripts.runCommand(Map.of(), "printf 'select count(*) as n from ingest_images;\\nselect * from no_such_view;\\n"
                + "select 7 as seven;\\n' | submit/nas-sql --run-root '" + root + "' --run-id base --file - --format tsv --master local[2]");
        assertEquals(4, r.status(), r.toString());
        List<String> out = List.of(r.out().strip().split("\n"));
        assertEquals(List.of("n", "3500", "-- end"), out.subList(0, 3), r.out());
        assertTrue(out.get(3).startsWith("-- error: ") && out.get(3).contains("no_such_view"), r.out());
        assertEquals(List.of("seven", "7", "-- end", "-- 3 statements answered, 1 failed"), out.subList(4, 8), "the statement after the failure is answered");
        assertTrue(r.lastErrLine().contains("1 of 3 statements failed") && r.lastErrLine().contains("no_such_view"), r.lastErrLine());
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
        edit(json, "\"schema_version\" : 2", "\"schema_version\" : 1");
        refused(4, List.of("schema_version 1", "reads schema_version 2", "--force"), "supernet-train", "old");
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
        Files.write(f, Arrays.copyOf(gz, gz.length / 2));
        refused(4, List.of("t10k-images-idx3-ubyte.gz", "is truncated", "download it again"), "ingest", "truncated", "-Dnas.ingest.source=" + src);
        // the same failure in a --force over a committed ingest: the committed stage stays, file for file
        String before = snapshot();
        Scripts.Run forced = stage("ingest", "base", "--force", "-Dnas.ingest.source=" + src);
        assertEquals(4, forced.status(), forced.toString());
        assertTrue(forced.lastErrLine().contains("is truncated"), forced.lastErrLine());
        assertTrue(forced.err().contains("--force: setting it aside") && forced.err().contains("put back the committed stage"),
                "the forced attempt failed mid-way, after setting the committed stage aside: " + forced);
        assertEquals(before, snapshot(), "the committed ingest's files and _stage.json unchanged after a failed --force");
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
