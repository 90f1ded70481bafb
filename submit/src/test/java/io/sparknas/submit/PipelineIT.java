package io.sparknas.submit;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The tiny preset end to end through the real entry points: submit/pipeline.sh, the stage scripts and submit/nas-sql,
 * each launching the shaded application jar with submit/spark-submit (no Spark installation).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineIT {

    @TempDir
    static Path root;

    @Test
    @Order(1)
    void pipelineRunsTheTinyPresetThroughSparkSubmit() throws Exception {
        Scripts.Run r = Scripts.run("submit/pipeline.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "it", "--master", "local[2]");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("images: train 2000, val 500, test 1000 (10 classes)"), r.toString());
        assertTrue(r.out().contains("Results: " + root + "/it"), r.toString());
        assertTrue(r.out().contains("supernet-train committed") && r.out().contains("4 epochs: training loss"), r.toString());
        assertTrue(Files.isRegularFile(root.resolve("it/supernet-train/_stage.json")));
        assertTrue(Files.isRegularFile(root.resolve("it/ingest/_stage.json")));
        assertTrue(r.out().contains("latency-profile committed") && Files.isRegularFile(root.resolve("it/latency-profile/_stage.json")), r.toString());
        // SPOS on the tiny preset: the loss falls and uniformly sampled paths, BN recalibrated, are far above chance (0.1) on val
        Scripts.Run q = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "it",
                "--format", "tsv", "select round(avg(val_accuracy), 3) as mean_acc, count(*) as paths from supernet_train_path_eval");
        assertEquals(0, q.status(), q.toString());
        String[] row = q.out().strip().split("\n")[1].split("\t");
        assertEquals("5", row[1], q.out());
        // measured 0.248 (best path 0.296) after 4 epochs of 60 steps per task; chance 0.10
        assertTrue(Double.parseDouble(row[0]) > 0.18, "mean val accuracy of 5 random paths: " + row[0]);
        java.util.regex.Matcher loss = java.util.regex.Pattern.compile("training loss ([0-9.]+) -> ([0-9.]+)").matcher(r.out());
        assertTrue(loss.find(), r.out());
        assertTrue(Double.parseDouble(loss.group(2)) < Double.parseDouble(loss.group(1)) - 0.2, loss.group());
        assertTrue(r.err().contains("ND4J backend CPU") && r.err().contains("oneDNN yes"), "backend logged at start-up:\n" + r);
    }

    @Test
    @Order(2)
    void nasSqlAnswersFromTheCommittedTables() throws Exception {
        Scripts.Run r = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "it", "--format", "tsv",
                "select split, count(*) as n from ingest_images group by split order by split");
        assertEquals(0, r.status(), r.toString());
        assertEquals("split\tn\ntest\t1000\ntrain\t2000\nval\t500", r.out().strip(), r.toString());

        Path q = root.resolve("classes.sql");
        Files.writeString(q, "select name, train, val, test from ingest_classes where index = 9");
        Scripts.Run f = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "it", "--file", q.toString());
        assertEquals(0, f.status(), f.toString());
        assertTrue(f.out().contains("Ankle boot | 200   | 50  | 100"), f.toString());
    }

    @Test
    @Order(3)
    void rerunIsSkippedAndAChangedConfigIsRefusedWithoutForce() throws Exception {
        Scripts.Run same = Scripts.run("submit/ingest.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "it", "--master", "local[2]");
        assertEquals(0, same.status(), same.toString());
        assertTrue(same.out().startsWith("ingest skipped"), same.toString());

        Scripts.Run changed = Scripts.run("submit/ingest.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "it", "--master", "local[2]", "-Dnas.ingest.train-per-class=100");
        assertEquals(3, changed.status(), changed.toString());
        assertTrue(changed.lastErrLine().startsWith("spark-nas ingest failed: Stage ingest of run it is already committed")
                && changed.lastErrLine().contains("--force"), changed.lastErrLine());
    }

    @Test
    @Order(4)
    void badConfigurationFailsBeforeAnyWorkWithAOneLineCause() throws Exception {
        Scripts.Run typo = Scripts.run("submit/ingest.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "typo", "-Dnas.ingest.val-per-clas=3");
        assertEquals(2, typo.status(), typo.toString());
        assertEquals("spark-nas ingest failed: Unknown configuration key 'nas.ingest.val-per-clas' (-Dnas.ingest.val-per-clas). "
                + "Did you mean 'nas.ingest.val-per-class'?", typo.lastErrLine());
        assertTrue(!Files.exists(root.resolve("typo")), "nothing written");

        Scripts.Run pipeline = Scripts.run("submit/pipeline.sh", "--config", "conf/fashion-mnist-tiny.conf", "-Dnas.ingest.channels=x");
        assertEquals(2, pipeline.status(), pipeline.toString());
        assertTrue(pipeline.err().contains("Bad value for nas.ingest.channels = \"x\""), pipeline.toString());

        Scripts.Run missing = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "nope", "select 1");
        assertEquals(1, missing.status(), missing.toString());
        assertTrue(missing.lastErrLine().contains("has no committed stage"), missing.lastErrLine());
    }

    @Test
    @Order(6)
    void killedSupernetTrainingResumesFromItsLastEpoch() throws Exception {
        String[] small = {"--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(), "--run-id", "resume", "--master", "local[2]",
                "-Dnas.ingest.train-per-class=100", "-Dnas.supernet.epochs=3", "-Dnas.supernet.eval.paths=1",
                "-Dnas.supernet.eval.recalibration-batches=1"};
        assertEquals(0, Scripts.run("submit/ingest.sh", small).status());
        java.io.File out = Files.createTempFile("train", ".out").toFile();
        java.io.File err = Files.createTempFile("train", ".err").toFile();
        Process p = Scripts.start("submit/supernet-train.sh", out, err, small);
        Path epochFile = root.resolve("resume/supernet-train/_checkpoint/epoch");
        long deadline = System.currentTimeMillis() + 8 * 60_000;
        while (!(Files.exists(epochFile) && Files.readString(epochFile).trim().equals("1")) && p.isAlive() && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        assertTrue(p.isAlive(), "still training after the first checkpoint\n" + Files.readString(err.toPath()));
        p.destroyForcibly().waitFor();
        assertTrue(!Files.exists(root.resolve("resume/supernet-train/_stage.json")), "killed run is not committed");

        Scripts.Run resumed = Scripts.run("submit/supernet-train.sh", withResume(small));
        assertEquals(0, resumed.status(), resumed.toString());
        assertTrue(resumed.err().contains("resuming after epoch 1 of 3"), resumed.toString());
        Scripts.Run epochs = Scripts.run("submit/nas-sql", "--run-root", root.toString(), "--run-id", "resume", "--format", "tsv",
                "select epoch, count(*) as rounds from supernet_train_train_metrics group by epoch order by epoch");
        assertEquals(0, epochs.status(), epochs.toString());
        String[] lines = epochs.out().strip().split("\n");
        assertEquals(4, lines.length, "header + epochs 1..3: " + epochs.out());
        assertTrue(lines[1].startsWith("1\t") && lines[2].startsWith("2\t") && lines[3].startsWith("3\t"), epochs.out());
        assertEquals(lines[1].split("\t")[1], lines[3].split("\t")[1], "same rounds in every epoch, none repeated");
    }

    private static String[] withResume(String[] args) {
        String[] a = java.util.Arrays.copyOf(args, args.length + 1);
        a[args.length] = "--resume";
        return a;
    }

    @Test
    @Order(5)
    void dryRunPrintsTheStageCommands() throws Exception {
        Scripts.Run r = Scripts.run("submit/pipeline.sh", "--dry-run", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("submit/ingest.sh --config conf/fashion-mnist-tiny.conf --run-id dry"), r.toString());
    }
}
