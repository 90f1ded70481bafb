package io.sparknas.submit;

import java.util.Set;
import java.util.Map;
import java.io.IOException;
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
 * The DA-NAS, DDPNAS and DSO-NAS pipelines on the tiny preset through submit/pipeline.sh and spark-submit, each checked
 * through submit/nas-sql and its report; then the notebooks' queries on their runs from the catalog, and the Spark jobs'
 * stage descriptions. A class of its own beside {@link PipelineIT} (SPOS and PAD-NAS), so the two run in parallel forks.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MethodPipelinesIT {

    @TempDir
    static Path root;

    @Test
    @Order(1)
    void daNasRunsOnTheShuffleMobileSpaceThroughSparkSubmit() throws Exception {
        // DA-NAS on its paper's Shuffle+Mobile space (ShuffleNetV2 and Xception units with IBConv ops, 12 candidates per
        // layer): easiness, then the class schedule 2 / 4 / 7 / 10 classes with pruning, the argmax read-off, retrain, report;
        // shuffle op ids parse back in path evaluation, the read-off and retrain; one layer per stage (what is checked is
        // per layer); at most 4 weight steps per worker an epoch (what is checked - classes, pruning, architecture rounds
        // per epoch - depends on epochs, not steps: 3 / 4 / 4 / 4 where the whole class subsets take 3 / 6 / 11 / 16)
        Scripts.Run r = pipeline("--method", "danas", "--config", "conf/fashion-mnist-tiny.conf", "--run-root",
                root.toString(), "--run-id", "danas", "--master", "local[2]", "-Dnas.space.family=shuffle-mobile", "-Dnas.retrain.epochs=1",
                "-Dnas.space.max-layers-per-stage=1", "-Dnas.supernet.max-steps-per-epoch=4");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().contains("stages: ingest easiness supernet-train search retrain report"), r.toString());
        assertTrue(r.out().contains("easiness committed") && r.out().contains("classes, easiest first:"), r.toString());
        try (SqlSession q = new SqlSession(root, "danas")) {
            Scripts.Run agree = q.query("select count(*), min(spearman) from easiness_network_agreement");
            String[] g = agree.out().strip().split("\n")[1].split("\t");
            assertEquals("3", g[0], agree.out());
            // measured 0.82-0.89 on the tiny preset: the three networks agree on which classes are easy (Observation 3)
            assertTrue(Double.parseDouble(g[1]) > 0.3, "reference networks' agreement: " + agree.out());
            Scripts.Run live = q.query("select epoch, max(live), min(live) from (select epoch, layer, sum(cast(value > 0 as int)) as live from "
                    + "supernet_train_arch_params where kind = 'probability' group by epoch, layer) group by epoch order by epoch");
            assertEquals("1\t12\t12\n2\t7\t7\n3\t4\t4\n4\t2\t2", body(live), "12 candidates pruned to 7, 4, 2 in the three steps: " + live.out());
            Scripts.Run classes = q.query("select epoch, max(classes), sum(if(phase = 'architecture', 1, 0)) > 0 from supernet_train_train_metrics "
                    + "group by epoch order by epoch");
            assertEquals("1\t2\tfalse\n2\t4\ttrue\n3\t7\ttrue\n4\t10\ttrue", body(classes), classes.out());
            Scripts.Run fin = q.query("select g.arch = f.arch, f.test_accuracy from search_generated_archs g "
                    + "cross join retrain_final_models f");
            String[] f = body(fin).split("\t");
            assertEquals("true", f[0], "retrain trains the read-off architecture: " + fin.out());
            assertTrue(Double.parseDouble(f[1]) > 0.1, "the retrained DA-NAS architecture above chance: " + fin.out());
        }
        String html = Files.readString(root.resolve("danas/report/index.html"));
        assertTrue(html.contains("src=\"easiness.png\"") && html.contains("src=\"supernet-train_arch_params.png\""), html);
        // one architecture read off: the page states it with its cost and accuracy instead of a one-point chart
        assertTrue(html.contains("<h2>Architecture read off</h2>") && !html.contains("pareto_front.png") && html.contains(" MFLOPs, "), html);
    }

    @Test
    @Order(2)
    void ddpnasPrunesItsDistributionAndGeneratesOneArchitecturePerConstraintThroughSparkSubmit() throws Exception {
        // DDPNAS on the tiny preset: 5 epochs of K disjoint paths (a pass each, K passes per epoch), theta updated and one
        // op per layer pruned each epoch, then ENG for the preset's three FLOPs bounds from the one supernet, all three
        // retrained; on 600 train images, trained and retrained in batches of 16, each pass capped at 3 steps per worker
        // (what is checked - the pruning per epoch, ENG's bounds and optimality, the wiring to retrain and report - depends
        // on epochs, not on images: 75 weight steps per worker where the uncapped passes would take 450)
        Scripts.Run r = pipeline("--method", "ddpnas", "--config", "conf/fashion-mnist-tiny.conf", "--run-root",
                root.toString(), "--run-id", "ddpnas", "--master", "local[2]", "-Dnas.retrain.epochs=1", "-Dnas.ingest.train-per-class=60",
                "-Dnas.ingest.val-per-class=20", "-Dnas.ingest.test-per-class=20", "-Dnas.supernet.batch-size=16", "-Dnas.retrain.batch-size=16",
                "-Dnas.supernet.max-steps-per-epoch=3");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().contains("stages: ingest supernet-train search retrain report"), r.toString());
        try (SqlSession q = new SqlSession(root, "ddpnas")) {
            Scripts.Run live = q.query("select epoch, max(live), min(live) from (select epoch, layer, sum(cast(kind = 'theta' as int)) - "
                    + "sum(cast(kind = 'pruned' as int)) as live from supernet_train_arch_params group by epoch, layer) group by epoch order by epoch");
            // 7 ops (stride-1 layers: 6 IBConv + identity) and 6 lose one per epoch down to one per section; the first layer's 3 ops to 1
            assertEquals("1\t6\t2\n2\t5\t1\n3\t4\t1\n4\t3\t1\n5\t2\t1", body(live), "pruning per epoch: " + live.out());
            Scripts.Run gen = q.query("select constraint, mflops, cast(regexp_extract(constraint, '<= (.*)', 1) as double) >= mflops, "
                    + "chosen_by like '%proven optimal%' from search_generated_archs order by mflops");
            String[] rows = body(gen).split("\n");
            assertEquals(3, rows.length, gen.out());
            for (String row : rows) {
                String[] f = row.split("\t");
                assertEquals("true", f[2], "within its bound: " + row);
                assertEquals("true", f[3], "proven optimal: " + row);
            }
            Scripts.Run fin = q.query("select count(*), min(f.test_accuracy) from search_generated_archs g join retrain_final_models f on g.arch = f.arch");
            String[] f = body(fin).split("\t");
            assertEquals("3", f[0], "every generated architecture is retrained: " + fin.out());
            assertTrue(Double.parseDouble(f[1]) > 0.1, "retrained DDPNAS architectures above chance: " + fin.out());
        }
        String html = Files.readString(root.resolve("ddpnas/report/index.html"));
        assertTrue(html.contains("src=\"supernet-train_theta.png\""), html);
        // three generated architectures (one per constraint): their chart is drawn
        assertTrue(html.contains("src=\"pareto_front.png\"") && !html.contains("Architecture read off"), html);
    }

    @Test
    @Order(3)
    void dsoNasDrivesLambdasToExactZerosAndRetrainsItsMultiOpArchitectureThroughSparkSubmit() throws Exception {
        // DSO-NAS on the tiny preset, one layer per stage (7 layers): 1 pre-training epoch on D_w, 2 search epochs of APG-NAG
        // lambda rounds on D_lambda interleaved with weight rounds, the read-off (ops with lambda != 0) retrained as searched
        shareIngest("dsonas");
        Scripts.Run r = pipeline("--method", "dsonas", "--config", "conf/fashion-mnist-tiny.conf", "--run-root",
                root.toString(), "--run-id", "dsonas", "--master", "local[2]", "-Dnas.retrain.epochs=1", "-Dnas.space.max-layers-per-stage=1");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().contains("stages: ingest supernet-train search retrain report"), r.toString());
        try (SqlSession q = new SqlSession(root, "dsonas")) {
            Scripts.Run lam = q.query("select epoch, min(value), max(value), sum(cast(value = 0 as int)) from supernet_train_arch_params "
                    + "where kind = 'lambda' group by epoch order by epoch");
            String[] epochs = body(lam).split("\n");
            assertEquals(3, epochs.length, lam.out());
            assertEquals("1\t1.0\t1.0\t0", epochs[0], "pre-training leaves every lambda at 1: " + lam.out());
            assertTrue(Integer.parseInt(epochs[2].split("\t")[3]) > 0, "lambdas reach exact zeros: " + lam.out());
            Scripts.Run phases = q.query("select epoch, sum(if(phase = 'architecture', 1, 0)) from supernet_train_train_metrics group by epoch order by epoch");
            assertTrue(body(phases).startsWith("1\t0\n2\t"), "no lambda rounds while pre-training: " + phases.out());
            Scripts.Run fin = q.query("select g.arch, g.arch = f.arch, f.test_accuracy, g.mflops from search_generated_archs g cross join retrain_final_models f");
            String[] f = body(fin).split("\t");
            assertEquals("true", f[1], "retrain trains the read-off architecture: " + fin.out());
            assertTrue(f[0].contains("+"), "the read-off keeps several ops in some layer (measured: 3 of the 7 layers keep 3 to 6 ops): " + fin.out());
            assertTrue(Double.parseDouble(f[2]) > 0.1, "the retrained DSO-NAS architecture above chance: " + fin.out());
        }
        String html = Files.readString(root.resolve("dsonas/report/index.html"));
        assertTrue(html.contains("src=\"supernet-train_lambda.png\""), html);
        assertTrue(html.contains("<h2>Architecture read off</h2>") && !html.contains("pareto_front.png"), html);
    }

    /**
     * Gives run {@code runId} the DA-NAS run's committed ingest (the same images; the pipeline then skips its ingest),
     * saving a stage per pipeline; when a test runs alone there is none, and the pipeline ingests.
     */
    private static void shareIngest(String runId) throws IOException {
        if (Files.isRegularFile(root.resolve("danas/ingest/_stage.json"))) {
            Scripts.copyTree(root.resolve("danas/ingest"), root.resolve(runId).resolve("ingest"));
        }
    }

    private static Scripts.Run pipeline(String... args) throws Exception {
        return PipelineRuns.pipeline(root, args);
    }

    private static String body(Scripts.Run r) {
        return PipelineRuns.body(r);
    }

    @Test
    @Order(4)
    void everyNotebookQueryAnswersByNameFromTheCatalogInALaterSession() throws Exception {
        int answered = PipelineRuns.assertEveryNotebookQueryAnswers(root, Map.of("danas", "danas", "ddpnas", "ddpnas", "dsonas", "dsonas"));
        // the query files naming danas (8), ddpnas (6) and dsonas (6): each answered on its run
        assertEquals(20, answered, "queries answered");
    }

    @Test
    @Order(5)
    void everySparkJobSaysWhichStageAndStepItBelongsTo() throws Exception {
        int[] seen = PipelineRuns.assertEverySparkJobNamesItsStage(root, Set.of("ingest", "easiness", "supernet-train", "search",
                "retrain", "report"));
        assertTrue(seen[0] > 50, "jobs in the event logs: " + seen[0]);
        // DA-NAS: 6 stages; DDPNAS 5; DSO-NAS 4 (its ingest is DA-NAS's); the tables' registration after each
        assertTrue(seen[1] >= 15, seen[1] + " stage launches' Spark properties checked");
    }
}
