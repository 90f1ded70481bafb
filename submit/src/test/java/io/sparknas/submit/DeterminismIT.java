package io.sparknas.submit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Same configuration and seed, same result (DESIGN.md's rules for workers, shards and seeds), through the real entry points:
 * supernet-train and search of the tiny preset give bitwise the same supernet ({@code state_sha256} in {@code _stage.json})
 * and the same Pareto front ({@code pareto_front_sha256}: architectures, accuracies and costs) on {@code local[2]} and on
 * {@code local[1]}, on a Spark standalone master + worker (two executor JVMs), and when the driver is SIGKILLed mid-run and
 * the stage is resumed with {@code --resume}.
 */
class DeterminismIT {

    @TempDir
    static Path root;

    /** A short budget: 2 epochs of 3 rounds (2 workers x 15 steps of 64, 5 steps a round), a search of 8 x 2. */
    static final List<String> SETTINGS = List.of("--config", "conf/fashion-mnist-tiny.conf", "-Dnas.supernet.epochs=2",
            "-Dnas.supernet.eval.paths=2", "-Dnas.search.population=8", "-Dnas.search.generations=2");

    static final ObjectMapper JSON = new ObjectMapper();

    static String reference;
    static String referenceFront;

    @BeforeAll
    static void uninterruptedOnTwoCores() throws Exception {
        assertOk(stage("ingest", "two", "local[2]"));
        // the other runs read the same ingest: a copy of its committed directory (ingest's own determinism per seed is IdxIngestTest's)
        for (String id : List.of("one", "killed", "cluster")) {
            Scripts.copyTree(root.resolve("two/ingest"), root.resolve(id).resolve("ingest"));
        }
        assertOk(stage("supernet-train", "two", "local[2]"));
        assertOk(stage("search", "two", "local[2]"));
        reference = property("two", "supernet-train", "state_sha256");
        referenceFront = property("two", "search", "pareto_front_sha256");
        assertEquals(64, reference.length());
    }

    @Test
    void oneCoreGivesTheSameSupernetAndFront() throws Exception {
        assertOk(stage("supernet-train", "one", "local[1]"));
        assertEquals(reference, property("one", "supernet-train", "state_sha256"), "supernet trained on local[1] vs local[2]");
        assertOk(stage("search", "one", "local[1]"));
        assertEquals(referenceFront, property("one", "search", "pareto_front_sha256"), "Pareto front on local[1] vs local[2]");
        assertEquals("2", property("one", "supernet-train", "workers"));
    }

    @Test
    void standaloneClusterGivesTheSameSupernetAndFront(@TempDir Path dir) throws Exception {
        // a master and a worker of 2 cores on 127.0.0.1; two executor JVMs of one core each run the 2 workers' tasks
        try (StandaloneCluster cluster = StandaloneCluster.start(dir, 2, "6g")) {
            java.util.Map<String, String> env = java.util.Map.of("NAS_SUBMIT_ARGS", "--conf spark.executor.cores=1 --conf spark.executor.memory=2g");
            for (String stage : List.of("supernet-train", "search")) {
                List<String> args = new ArrayList<>(SETTINGS);
                args.addAll(List.of("--run-root", root.toString(), "--run-id", "cluster", "--master", cluster.url()));
                assertOk(Scripts.run(env, "submit/" + stage + ".sh", args.toArray(String[]::new)));
            }
            String log = cluster.workerLog();
            assertTrue(log.split("Asked to launch executor app-", -1).length - 1 >= 4, "two executor JVMs per application:\n" + log);
        }
        assertEquals(reference, property("cluster", "supernet-train", "state_sha256"), "supernet trained on a standalone cluster vs local[2]");
        assertEquals(referenceFront, property("cluster", "search", "pareto_front_sha256"), "Pareto front on the cluster vs local[2]");
    }

    @Test
    void killedAndResumedEqualsUninterrupted() throws Exception {
        // a checkpoint after every round; the driver is killed once epoch 1 and one round of epoch 2 are done
        killWhen("supernet-train", "killed", "position", text -> text.trim().equals("1 1"), "-Dnas.run.checkpoint-interval=0");
        Scripts.Run resumed = stage("supernet-train", "killed", "local[2]", "--resume", "-Dnas.run.checkpoint-interval=0");
        assertOk(resumed);
        assertTrue(resumed.err().contains("resuming at epoch 2 round 2 (1 of 2 epochs done)"), resumed.toString());
        assertEquals(reference, property("killed", "supernet-train", "state_sha256"), "resumed supernet vs uninterrupted");
        String metrics = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "killed", "--format", "tsv",
                "select count(*), count(distinct epoch, round) from supernet_train_train_metrics").out();
        assertEquals("6\t6", metrics.strip().split("\n")[1], "every round's metrics once: " + metrics);

        // search: killed once generation 1 is checkpointed (checkpoint 2: generations 0 and 1 done), then resumed
        killWhen("search", "killed", "_COMPLETE", text -> text.trim().equals("generation 1"));
        Scripts.Run search = stage("search", "killed", "local[2]", "--resume");
        assertOk(search);
        assertTrue(search.err().contains("resuming after generation 1 of 2"), search.toString());
        assertEquals(referenceFront, property("killed", "search", "pareto_front_sha256"), "resumed search's front vs uninterrupted");
    }

    /** Starts a stage and SIGKILLs its driver JVM once a complete checkpoint's file satisfies {@code when}. */
    private static void killWhen(String stage, String runId, String file, Predicate<String> when, String... extra) throws Exception {
        List<String> args = new ArrayList<>(SETTINGS);
        args.addAll(List.of("--run-root", root.toString(), "--run-id", runId, "--master", "local[2]"));
        args.addAll(List.of(extra));
        File out = Files.createTempFile("nas-out", ".txt").toFile();
        File err = Files.createTempFile("nas-err", ".txt").toFile();
        Process p = Scripts.start("submit/" + stage + ".sh", out, err, args.toArray(String[]::new));
        Path checkpoints = root.resolve(runId).resolve(stage).resolve("_checkpoint");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
        boolean killed = false;
        while (System.nanoTime() < deadline && p.isAlive()) {
            Optional<String> hit = completeCheckpoints(checkpoints).map(d -> d.resolve(file)).filter(Files::isRegularFile)
                    .map(DeterminismIT::read).filter(when).findFirst();
            if (hit.isPresent()) {
                p.destroyForcibly();
                killed = true;
                break;
            }
            Thread.sleep(50);
        }
        p.waitFor(1, TimeUnit.MINUTES);
        assertTrue(killed, stage + " ended before the kill point:\n" + Scripts.tail(Files.readString(err.toPath()), 40));
        assertNotEquals(0, p.exitValue(), "killed");
        assertTrue(!Files.exists(root.resolve(runId).resolve(stage).resolve("_stage.json")), "a killed stage is not committed");
    }

    private static Stream<Path> completeCheckpoints(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(d -> Files.isRegularFile(d.resolve("_COMPLETE"))).toList().stream();
        } catch (IOException e) {
            return Stream.empty();
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    private static Scripts.Run stage(String stage, String runId, String master, String... extra) throws Exception {
        List<String> args = new ArrayList<>(SETTINGS);
        args.addAll(List.of("--run-root", root.toString(), "--run-id", runId, "--master", master));
        args.addAll(List.of(extra));
        return Scripts.run("submit/" + stage + ".sh", args.toArray(String[]::new));
    }

    private static void assertOk(Scripts.Run r) {
        assertEquals(0, r.status(), r.toString());
    }

    private static String property(String runId, String stage, String key) throws IOException {
        JsonNode n = JSON.readTree(root.resolve(runId).resolve(stage).resolve("_stage.json").toFile());
        JsonNode v = n.path("properties").path(key);
        assertTrue(v.isTextual(), key + " in " + runId + "/" + stage + "/_stage.json");
        return v.asText();
    }
}
