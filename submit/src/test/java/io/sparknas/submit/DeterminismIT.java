package io.sparknas.submit;

import java.util.Map;
import java.io.OutputStream;
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
 * Same configuration and seed, same result (docs/architecture.md, the rules the training loop keeps for workers, shards and seeds), through the real entry points:
 * supernet-train and search of the tiny preset give bitwise the same supernet ({@code state_sha256} in {@code _stage.json})
 * and the same Pareto front ({@code pareto_front_sha256}: architectures, accuracies and costs) on {@code local[2]} and on
 * {@code local[1]}, on a Spark standalone master + worker (two executor JVMs), and when the driver is SIGKILLed mid-run and
 * the stage is resumed with {@code --resume}. The faults of README's table: an executor JVM killed mid-round on the cluster,
 * the driver killed mid supernet-train, mid search and mid retrain (retrain resumed by re-running its Airflow task's
 * command), and the run root's disk filling up mid supernet-train; each ends with the undisturbed run's result.
 */
class DeterminismIT {

    @TempDir
    static Path root;

    /**
     * A short budget on few images (equality needs no learning): 800 train, 200 val and 200 test images; 2 epochs of 3
     * rounds (2 workers x 12 steps of 32, 4 steps a round), a search of 8 x 2.
     */
    static final List<String> SETTINGS = List.of("--config", "conf/fashion-mnist-tiny.conf", "-Dnas.ingest.train-per-class=80",
            "-Dnas.ingest.val-per-class=20", "-Dnas.ingest.test-per-class=20", "-Dnas.supernet.epochs=2", "-Dnas.supernet.batch-size=32",
            "-Dnas.supernet.steps-per-round=4", "-Dnas.supernet.eval.paths=2", "-Dnas.search.population=8", "-Dnas.search.generations=2");

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Retrain of the front's 2 most accurate architectures (1 epoch of 4 rounds each: 2 workers x 13 steps of 32, 4 steps a
     * round), a checkpoint at every round.
     */
    static final String RETRAIN = "-Dnas.retrain.top-k=2 -Dnas.retrain.epochs=1 -Dnas.retrain.batch-size=32 -Dnas.retrain.averaging-frequency=4 "
            + "-Dnas.run.checkpoint-interval=0";

    static String reference;
    static String referenceFront;
    static String referenceModels;
    static String referenceFinals;

    @BeforeAll
    static void uninterruptedOnTwoCores() throws Exception {
        assertOk(stage("ingest", "two", "local[2]"));
        // the other runs read the same ingest: a copy of its committed directory (ingest's own determinism per seed is IdxIngestTest's)
        for (String id : List.of("killed", "cluster")) {
            Scripts.copyTree(root.resolve("two/ingest"), root.resolve(id).resolve("ingest"));
        }
        assertOk(stage("supernet-train", "two", "local[2]"));
        assertOk(stage("search", "two", "local[2]"));
        assertOk(stage("retrain", "two", "local[2]", RETRAIN.split(" ")));
        reference = property("two", "supernet-train", "state_sha256");
        referenceFront = property("two", "search", "pareto_front_sha256");
        referenceModels = property("two", "retrain", "models_sha256");
        referenceFinals = finals("two");
        assertEquals(64, reference.length());
        assertEquals(3, referenceFinals.strip().split("\n").length, "two retrained models:\n" + referenceFinals);
    }

    @Test
    void standaloneClusterGivesTheSameSupernetAndFrontWithAnExecutorKilledMidRound(@TempDir Path dir) throws Exception {
        // a master and a worker of 2 cores on 127.0.0.1; two executor JVMs of one core each run the 2 workers' tasks
        try (StandaloneCluster cluster = StandaloneCluster.start(dir, 2, "6g")) {
            Map<String, String> env = Map.of("NAS_SUBMIT_ARGS", "--conf spark.executor.cores=1 --conf spark.executor.memory=2g");
            List<String> args = new ArrayList<>(SETTINGS);
            args.addAll(List.of("--run-root", root.toString(), "--run-id", "cluster", "--master", cluster.url()));
            // supernet-train: after the first checkpoint, an executor JVM SIGKILLed while its log shows a task running (rounds take
            // 3-7 s; a fixed delay could land between two rounds on a busy machine)
            File out = Files.createTempFile("nas-out", ".txt").toFile();
            File err = Files.createTempFile("nas-err", ".txt").toFile();
            // the executors sum the workers' results here (the tree walked in shuffles across the executor JVMs); local[2]
            // sums them on the driver: the same float additions, so the same supernet
            List<String> trainArgs = new ArrayList<>(args);
            trainArgs.add("-Dnas.supernet.combine=executors");
            Process p = Scripts.start(env, "submit/supernet-train.sh", out, err, trainArgs.toArray(String[]::new));
            Path checkpoints = root.resolve("cluster/supernet-train/_checkpoint");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
            while (System.nanoTime() < deadline && p.isAlive() && completeCheckpoints(checkpoints).findAny().isEmpty()) {
                Thread.sleep(50);
            }
            List<ProcessHandle> executors = cluster.executors();
            assertEquals(2, executors.size(), "two executor JVMs while supernet-train runs:\n" + cluster.workerLog());
            ProcessHandle busy = null;
            while (busy == null && System.nanoTime() < deadline && p.isAlive()) {
                for (ProcessHandle h : executors) {
                    if (busy == null && cluster.runsATask(h)) {
                        busy = h;
                    }
                }
                Thread.sleep(50);
            }
            assertTrue(busy != null, "an executor running a task after the first checkpoint:\n" + cluster.workerLog());
            Thread.sleep(100); // into the task's compute (a round's task takes about a second)
            assertTrue(busy.destroyForcibly(), "executor killed");
            Scripts.awaitOrKill(p, 10, "supernet-train");
            String driver = Files.readString(err.toPath());
            assertEquals(0, p.exitValue(), Scripts.tail(driver, 60));
            assertTrue(driver.contains("Lost task") || driver.contains("ExecutorLostFailure"),
                    "a running task was lost with the executor and run again:\n" + Scripts.tail(driver, 60));
            assertOk(Scripts.run(env, "submit/search.sh", args.toArray(String[]::new)));
            String log = cluster.workerLog();
            assertTrue(log.split("Asked to launch executor app-", -1).length - 1 >= 5, "a replacement executor, two per application:\n" + log);
        }
        assertEquals(reference, property("cluster", "supernet-train", "state_sha256"), "supernet trained on a standalone cluster vs local[2]");
        assertEquals(referenceFront, property("cluster", "search", "pareto_front_sha256"), "Pareto front on the cluster vs local[2]");
    }

    @Test
    void killedAndResumedOnOneCoreEqualsUninterruptedOnTwo() throws Exception {
        // on local[1] throughout (the one-core equality too: the same 2 workers run one after the other); a checkpoint after
        // every round; the driver is killed once epoch 1 and one round of epoch 2 are done
        killWhen("supernet-train", "killed", "local[1]", "position", text -> text.trim().equals("1 1"), "-Dnas.run.checkpoint-interval=0");
        Scripts.Run resumed = stage("supernet-train", "killed", "local[1]", "--resume", "-Dnas.run.checkpoint-interval=0");
        assertOk(resumed);
        assertTrue(resumed.err().contains("resuming at epoch 2 round 2 (1 of 2 epochs done)"), resumed.toString());
        assertEquals(reference, property("killed", "supernet-train", "state_sha256"), "supernet killed and resumed on local[1] vs uninterrupted on local[2]");
        assertEquals("2", property("killed", "supernet-train", "workers"), "two workers on one core");
        String metrics = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "killed", "--format", "tsv",
                "select count(*), count(distinct epoch, round) from supernet_train_train_metrics").out();
        assertEquals("6\t6", metrics.strip().split("\n")[1], "every round's metrics once: " + metrics);

        // search: killed once generation 1 is checkpointed (checkpoint 2: generations 0 and 1 done), then resumed
        killWhen("search", "killed", "local[1]", "_COMPLETE", text -> text.trim().equals("generation 1"));
        Scripts.Run search = stage("search", "killed", "local[1]", "--resume");
        assertOk(search);
        assertTrue(search.err().contains("resuming after generation 1 of 2"), search.toString());
        assertEquals(referenceFront, property("killed", "search", "pareto_front_sha256"), "search killed and resumed on local[1]: its front vs uninterrupted on local[2]");

        // retrain through the Airflow DAG's task (its bash command, params filled in): killed in model 2's first epoch after
        // 2 rounds, model 1 finished; then the same command again, as Airflow retries a failed task on the half-written stage
        String task = Scripts.runCommand(Map.of(), "python3 submit/airflow/spark_nas_plan.py spos retrain --run-id killed --run-root "
                + root + " --overrides '" + RETRAIN + "'").out().strip();
        assertTrue(task.startsWith("NAS_RUN_ID=killed NAS_RUN_ROOT=" + root + " NAS_OVERRIDES='" + RETRAIN + "' python3 ")
                && task.endsWith(" retrain.sh"), task);
        Map<String, String> airflow = Map.of("SPARK_MASTER", "local[2]");
        killWhen("retrain", "killed", "position", text -> text.startsWith("1 0 2 "), (out, err) -> Scripts.startCommand(airflow, task, out, err));
        assertTrue(Files.isRegularFile(root.resolve("killed/retrain/_checkpoint/models/model-0.zip")), "model 1's zip kept in the checkpoint");
        Scripts.Run retried = Scripts.runCommand(airflow, task);
        assertOk(retried);
        assertTrue(retried.err().contains("resuming from checkpoint") && retried.err().contains("1 of 2 models done, model 2 after 0 epochs and 2 rounds"),
                retried.toString());
        assertEquals(referenceModels, property("killed", "retrain", "models_sha256"), "resumed retrain's models vs uninterrupted");
        assertEquals(referenceFinals, finals("killed"), "final_models of the resumed retrain vs uninterrupted");
        assertTrue(!Files.exists(root.resolve("killed/retrain/_checkpoint")), "checkpoints removed at the commit");
        for (int m = 0; m < 2; m++) {
            assertTrue(Files.size(root.resolve("killed/retrain/models/model-" + m + ".zip")) > 100_000, "model " + m + "'s zip");
        }
    }

    @Test
    void aDiskFillingUpMidStageCommitsNothingAndTheStageResumesOnceThereIsSpace(@TempDir Path dir) throws Exception {
        // a 320 MB file system of its own (tmpfs; the test runs as root, as CI does): more free than the 256 MB a stage asks
        // for before it starts, then filled up by this test once supernet-train has made its first checkpoint
        Path disk = Files.createDirectories(dir.resolve("small-disk"));
        Scripts.Run mount = Scripts.runCommand(Map.of(), "mount -t tmpfs -o size=320m nas-test-disk '" + disk + "'");
        assertEquals(0, mount.status(), "the full-disk test mounts a 320 MB tmpfs and needs root for it:\n" + mount);
        try {
            Scripts.copyTree(root.resolve("two/ingest"), disk.resolve("disk/ingest"));
            String ingest = S3IT.checksums(disk.resolve("disk/ingest"));
            List<String> args = new ArrayList<>(SETTINGS);
            args.addAll(List.of("--run-root", disk.toString(), "--run-id", "disk", "--master", "local[2]", "-Dnas.run.checkpoint-interval=0"));
            File out = Files.createTempFile("nas-out", ".txt").toFile();
            File err = Files.createTempFile("nas-err", ".txt").toFile();
            Process p = Scripts.start("submit/supernet-train.sh", out, err, args.toArray(String[]::new));
            Path checkpoints = disk.resolve("disk/supernet-train/_checkpoint");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
            while (System.nanoTime() < deadline && p.isAlive() && completeCheckpoints(checkpoints).findAny().isEmpty()) {
                Thread.sleep(50);
            }
            Path filler = disk.resolve("filler");
            long filled = 0;
            try (OutputStream o = Files.newOutputStream(filler)) {
                byte[] mb = new byte[1 << 20];
                while (true) {
                    o.write(mb);
                    filled += mb.length;
                }
            } catch (IOException full) {
                assertTrue(String.valueOf(full.getMessage()).contains("No space left on device"), full.toString());
            }
            Scripts.awaitOrKill(p, 10, "supernet-train");
            String log = Files.readString(err.toPath());
            assertEquals(4, p.exitValue(), Scripts.tail(log, 60));
            String last = log.strip().substring(log.strip().lastIndexOf('\n') + 1);
            assertTrue(last.contains("No space left on device") && last.contains("--resume"), "one line naming the problem and the fix: " + last);
            assertTrue(!Files.exists(disk.resolve("disk/supernet-train/_stage.json")), "nothing committed");
            assertEquals(ingest, S3IT.checksums(disk.resolve("disk/ingest")), "the committed ingest is unchanged");
            assertTrue(completeCheckpoints(checkpoints).findAny().isPresent(), "the last complete checkpoint is kept (" + (filled >> 20) + " MB filled)");

            Files.delete(filler);
            Scripts.Run resumed = Scripts.run("submit/supernet-train.sh", Stream.concat(args.stream(), Stream.of("--resume")).toArray(String[]::new));
            assertOk(resumed);
            assertTrue(resumed.err().contains("resuming at epoch"), resumed.toString());
            assertEquals(reference, property(disk, "disk", "supernet-train", "state_sha256"), "supernet resumed after the full disk vs uninterrupted");
        } finally {
            Scripts.runCommand(Map.of(), "umount -l '" + disk + "'");
        }
    }

    /** final_models without its wall-time column: model, arch, test accuracy, per-class accuracy, images, size. */
    private static String finals(String runId) throws Exception {
        Scripts.Run r = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", runId, "--format", "tsv",
                "select model, arch, test_accuracy, per_class_accuracy, test_images, mparams, mflops from retrain_final_models order by model");
        assertOk(r);
        return r.out();
    }

    /** Starts a stage and SIGKILLs its driver JVM once a complete checkpoint's file satisfies {@code when}. */
    private static void killWhen(String stage, String runId, String master, String file, Predicate<String> when, String... extra) throws Exception {
        List<String> args = new ArrayList<>(SETTINGS);
        args.addAll(List.of("--run-root", root.toString(), "--run-id", runId, "--master", master));
        args.addAll(List.of(extra));
        killWhen(stage, runId, file, when, (out, err) -> Scripts.start("submit/" + stage + ".sh", out, err, args.toArray(String[]::new)));
    }

    /** A way to start a stage's process with its output going to two files. */
    interface Starter {
        Process start(File out, File err) throws IOException;
    }

    /** {@link #killWhen} for a process started by {@code starter} (its descendants, the driver JVM among them, killed too). */
    private static void killWhen(String stage, String runId, String file, Predicate<String> when, Starter starter) throws Exception {
        File out = Files.createTempFile("nas-out", ".txt").toFile();
        File err = Files.createTempFile("nas-err", ".txt").toFile();
        Process p = starter.start(out, err);
        Path checkpoints = root.resolve(runId).resolve(stage).resolve("_checkpoint");
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
        boolean killed = false;
        while (System.nanoTime() < deadline && p.isAlive()) {
            Optional<String> hit = completeCheckpoints(checkpoints).map(d -> d.resolve(file)).filter(Files::isRegularFile)
                    .map(DeterminismIT::read).filter(when).findFirst();
            if (hit.isPresent()) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                killed = true;
                break;
            }
            Thread.sleep(50);
        }
        Scripts.awaitOrKill(p, 1, stage + " after its kill");
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
        return property(root, runId, stage, key);
    }

    private static String property(Path root, String runId, String stage, String key) throws IOException {
        JsonNode n = JSON.readTree(root.resolve(runId).resolve(stage).resolve("_stage.json").toFile());
        JsonNode v = n.path("properties").path(key);
        assertTrue(v.isTextual(), key + " in " + runId + "/" + stage + "/_stage.json");
        return v.asText();
    }
}
