package io.sparknas.submit;

import java.util.regex.Pattern;
import java.util.regex.Matcher;
import java.util.Set;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
        // a cheaper ranking than the preset's (3 models, 1 epoch on 300 images: a third of the pipeline's time otherwise)
        Scripts.Run r = pipeline("--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "it", "--master", "local[2]", "-Dnas.retrain.epochs=2", "-Dnas.ranking.models=3", "-Dnas.ranking.epochs=1",
                "-Dnas.ranking.train-images=300");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("images: train 2000, val 500, test 1000 (10 classes)"), r.toString());
        assertTrue(r.out().contains("Results: " + root + "/it"), r.toString());
        // the headline figures at the end: the model chosen by val, its test accuracy, cost and size, the search time, tau
        Matcher headline = Pattern.compile("(?m)^Result: spos: best architecture \\(by val\\) (\\S+): test accuracy "
                + "(0\\.\\d{4}), (\\d+\\.\\d{3}) MFLOPs, (\\d+\\.\\d{3}) M params, latency (\\d+\\.\\d\\d) ms; search \\d+ s .*; Kendall tau").matcher(r.out());
        assertTrue(headline.find(), "headline figures printed at the end: " + r.out());
        assertTrue(r.out().indexOf("Run it finished") >= 0 && r.out().lastIndexOf("Result: spos") > r.out().indexOf("Run it finished"),
                "at the end, after the run's summary: " + r.out());
        assertTrue(r.out().contains("supernet-train committed") && r.out().contains("4 epochs: training loss"), r.toString());
        assertTrue(Files.isRegularFile(root.resolve("it/supernet-train/_stage.json")));
        assertTrue(Files.isRegularFile(root.resolve("it/ingest/_stage.json")));
        assertTrue(r.out().contains("latency-profile committed") && Files.isRegularFile(root.resolve("it/latency-profile/_stage.json")), r.toString());
        // SPOS on the tiny preset: the loss falls and uniformly sampled paths, BN recalibrated, are far above chance (0.1) on val
        Scripts.Run q = sql("select round(avg(val_accuracy), 3) as mean_acc, count(*) as paths from supernet_train_path_eval");
        String[] row = q.out().strip().split("\n")[1].split("\t");
        assertEquals("5", row[1], q.out());
        // measured 0.248 (best path 0.296) after 4 epochs of 60 steps per task; chance 0.10
        assertTrue(Double.parseDouble(row[0]) > 0.18, "mean val accuracy of 5 random paths: " + row[0]);
        Matcher loss = Pattern.compile("training loss ([0-9.]+) -> ([0-9.]+)").matcher(r.out());
        assertTrue(loss.find(), r.out());
        // the bucket layout's block order (issue 36): 2.3962 -> 2.2401 (before it, more than 0.2)
        assertTrue(Double.parseDouble(loss.group(2)) < Double.parseDouble(loss.group(1)) - 0.1, loss.group());
        assertTrue(r.err().contains("ND4J backend CPU") && r.err().contains("oneDNN yes"), "backend logged at start-up:\n" + r);
        // one line of settings per stage, not the whole resolved configuration (which _stage.json holds)
        assertFalse(r.err().contains("resolved configuration"), "the configuration is not dumped on the console");
        assertTrue(r.err().contains("spark-nas search: run it under " + root + ", method spos, config conf/fashion-mnist-tiny.conf")
                && r.err().contains("-Dnas.ranking.models=3"), r.err());
        assertTrue(Files.readString(root.resolve("it/search/_stage.json")).contains("\"cost-max\""), "the whole configuration in _stage.json");
        // SPOS search (CES, population 16, 3 generations on the tiny preset) with the cost bound of the preset
        assertTrue(r.out().contains("search committed") && r.out().contains("Pareto front:"), r.toString());
        assertSearchConsistent("search", 16, 3);
        assertRetrainRankingAndReport(1, 2, 3, 0.4);
    }

    /**
     * retrain-k, ranking-k and report-k of run "it" (k = 1: retrain, ranking, report): search-k's best retrained and tested,
     * tau over the ranked models, the page.
     */
    private static void assertRetrainRankingAndReport(int index, int retrainEpochs, int rankedModels, double minTestAccuracy) throws Exception {
        String v = index == 1 ? "" : "_" + index;
        String d = index == 1 ? "" : "-" + index;
        Scripts.Run fin = sql("select f.arch = p.arch as best_of_front, f.test_accuracy, f.test_images, size(f.per_class_accuracy), f.epochs, f.source "
                + "from retrain" + v + "_final_models f cross join (select arch from search" + v + "_pareto_front order by accuracy desc, cost limit 1) p");
        String[] row = fin.out().strip().split("\n")[1].split("\t");
        assertEquals("true", row[0], "retrained the front's most accurate architecture: " + fin.out());
        // measured 0.71 after 2 epochs on 2,000 images with BatchNorm recalibrated (0.16 without; chance 0.10)
        assertTrue(Double.parseDouble(row[1]) > minTestAccuracy, "test accuracy of the retrained architecture: " + fin.out());
        assertEquals("1000", row[2]);
        assertEquals("10", row[3]);
        assertEquals(String.valueOf(retrainEpochs), row[4]);
        assertEquals("search" + d, row[5], "retrain" + d + " read its own search: " + fin.out());
        assertTrue(Files.readString(root.resolve("it/retrain" + d + "/_stage.json")).matches("(?s).*\"source\" ?: ?\"search" + d + "\".*"),
                "the source stage is recorded");
        Scripts.Run conf = sql("select sum(count) from retrain" + v + "_confusion");
        assertEquals("1000", conf.out().strip().split("\n")[1], "confusion matrix counts every test image");
        assertTrue(Files.isRegularFile(root.resolve("it/retrain" + d + "/models/model-0.zip")), "model zip written");
        // per-epoch progress: one row per epoch, each with the val accuracy after it (the tiny val split: 500 images)
        Scripts.Run ep = sql("select count(*), count(val_accuracy), min(val_accuracy), max(val_accuracy), max(epoch) from retrain" + v + "_retrain_metrics");
        String[] e = ep.out().strip().split("\n")[1].split("\t");
        assertEquals(String.valueOf(retrainEpochs), e[0], ep.out());
        assertEquals(e[0], e[1], "val accuracy after every epoch: " + ep.out());
        assertEquals(e[0], e[4], ep.out());
        assertTrue(Double.parseDouble(e[3]) > minTestAccuracy && Double.parseDouble(e[3]) <= 1, "val accuracy of the retrained model: " + ep.out());

        Scripts.Run rk = sql("select count(*), count(distinct arch), max(kendall_tau), max(kendall_tau_undefined) from ranking" + v + "_ranking");
        String[] k = rk.out().strip().split("\n")[1].split("\t");
        assertEquals(String.valueOf(rankedModels), k[0], rk.out());
        assertEquals(k[0], k[1], "distinct architectures: " + rk.out());
        // tau-b of the table's own two columns, computed here over all pairs: S / sqrt((n0 - ties_a)(n0 - ties_b))
        Scripts.Run pairs = sql("select sum(signum(a.supernet_accuracy - b.supernet_accuracy) * signum(a.standalone_accuracy - b.standalone_accuracy)), "
                + "count(*), sum(if(a.supernet_accuracy = b.supernet_accuracy, 1, 0)), sum(if(a.standalone_accuracy = b.standalone_accuracy, 1, 0)) "
                + "from ranking" + v + "_ranking a join ranking" + v + "_ranking b on a.arch < b.arch");
        String[] pr = pairs.out().strip().split("\n")[1].split("\t");
        double n0 = Double.parseDouble(pr[1]);
        double expected = Double.parseDouble(pr[0]) / Math.sqrt((n0 - Double.parseDouble(pr[2])) * (n0 - Double.parseDouble(pr[3])));
        if (Double.isNaN(expected)) {
            assertEquals("NULL", k[2], "tau undefined when one column is constant, and null: " + rk.out() + pairs.out());
            assertTrue(k[3].contains("same score"), "the reason recorded: " + rk.out());
        } else {
            assertEquals(expected, Double.parseDouble(k[2]), 1e-9, "kendall_tau is tau-b of supernet vs stand-alone accuracy: " + pairs.out());
        }

        Path page = root.resolve("it/report" + d + "/index.html");
        assertTrue(Files.isRegularFile(page), "report page");
        String html = Files.readString(page);
        for (String png : new String[]{"pareto_front.png", "ranking.png", "training.png", "accuracy.png"}) {
            assertTrue(html.contains("src=\"" + png + "\""), png + " in the page");
            byte[] b = Files.readAllBytes(root.resolve("it/report" + d).resolve(png));
            assertTrue(b.length > 10_000 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G', png + " is a PNG");
        }
        assertTrue(html.contains("Method comparison") && html.contains("<td class=\"l\">it</td>"), html);
    }

    /** Invariants of a committed search stage's tables, checked through submit/nas-sql. */
    private static void assertSearchConsistent(String stageDir, int population, int generations) throws Exception {
        String v = stageDir.replace('-', '_');
        Scripts.Run gens = sql("select generation, count(*) as n, min(rank) as best_rank, sum(cast(feasible as int)) as feasible from "
                + v + "_candidates group by generation order by generation");
        String[] lines = gens.out().strip().split("\n");
        assertEquals(generations + 2, lines.length, "header + generations 0.." + generations + ":\n" + gens.out());
        for (int g = 0; g <= generations; g++) {
            assertEquals(g + "\t" + population + "\t1\t" + population, lines[g + 1], "generation " + g + ": a full, feasible population\n" + gens.out());
        }
        // every front member is feasible (cost within nas.search.cost-max of the preset), has rank 1 in the last generation,
        // and no front member dominates another
        Scripts.Run bound = sql("select count(*) as n, max(cost) as max_cost, min(accuracy) as min_acc from " + v + "_pareto_front");
        String[] b = bound.out().strip().split("\n")[1].split("\t");
        assertTrue(Integer.parseInt(b[0]) >= 1, bound.out());
        assertTrue(Double.parseDouble(b[1]) <= TINY_COST_MAX, "front within the cost bound: " + bound.out());
        assertTrue(Double.parseDouble(b[2]) > 0.1, "front architectures above chance on val: " + bound.out());
        Scripts.Run dominated = sql("select count(*) from " + v + "_pareto_front a join " + v + "_pareto_front b on b.accuracy >= a.accuracy "
                + "and b.cost <= a.cost and (b.accuracy > a.accuracy or b.cost < a.cost)");
        assertEquals("0", dominated.out().strip().split("\n")[1], "mutually non-dominated: " + dominated.out());
        Scripts.Run last = sql("select count(*) from " + v + "_pareto_front f left join " + v + "_candidates c on c.arch = f.arch and c.generation = "
                + generations + " and c.rank = 1 where c.arch is null");
        assertEquals("0", last.out().strip().split("\n")[1], "front = rank-1 members of the last generation: " + last.out());
        // each architecture evaluated once: one accuracy per architecture across generations
        Scripts.Run once = sql("select count(*) from (select arch from " + v + "_candidates group by arch having count(distinct accuracy) > 1 "
                + "or count(distinct first_generation) > 1)");
        assertEquals("0", once.out().strip().split("\n")[1], once.out());
        // op_distribution: probabilities sum to 1 per layer
        Scripts.Run dist = sql("select count(*) from (select layer, sum(probability) as p from " + v + "_op_distribution group by layer "
                + "having abs(p - 1) > 1e-9)");
        assertEquals("0", dist.out().strip().split("\n")[1], dist.out());
    }

    /** nas.search.cost-max of conf/fashion-mnist-tiny.conf (MFLOPs). */
    static final double TINY_COST_MAX = 3.0;

    /** One nas-sql session on run "it" for all of this class's queries (it sees stages committed after it started). */
    private static SqlSession session;

    private static Scripts.Run sql(String query) throws Exception {
        if (session == null) {
            session = new SqlSession(root, "it");
        }
        Scripts.Run r = session.query(query);
        assertEquals(0, r.status(), query + "\n" + r);
        return r;
    }

    @org.junit.jupiter.api.AfterAll
    static void closeSession() throws Exception {
        if (session != null) {
            session.close();
        }
    }

    @Test
    @Order(7)
    void padNasPrunesFineTunesWithInheritedWeightsAndSearchesAgain() throws Exception {
        // the whole PAD-NAS pipeline on the same run, whose ingest, latency-profile, supernet-train and search are PAD-NAS's
        // first stages too (skipped as committed): prune, supernet-train-2 and search-2 run (M = 3 in the tiny preset), then
        // retrain-2, ranking-2 and report-2 of search-2, beside SPOS's retrain, ranking and report of search, which stay as
        // they were; a cheaper ranking here (2 models, 1 epoch on 200 images), no --force anywhere
        String sposFinals = sql("select model, arch, test_accuracy from retrain_final_models order by model").out();
        String sposRetrain = Files.readString(root.resolve("it/retrain/_stage.json"));
        Scripts.Run r = pipeline("--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "it", "--master", "local[2]", "--method", "padnas", "-Dnas.retrain.epochs=1",
                "-Dnas.ranking.models=2", "-Dnas.ranking.epochs=1", "-Dnas.ranking.train-images=200");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.err().contains("stages: ingest latency-profile supernet-train search prune supernet-train-2 search-2 retrain-2 ranking-2 report-2"),
                r.toString());
        for (String shared : new String[]{"ingest", "latency-profile", "supernet-train", "search"}) {
            assertTrue(r.out().contains(shared + " skipped"), shared + " is shared with the SPOS pipeline: " + r);
        }
        assertTrue(r.out().contains("prune committed") && r.out().contains("it/supernet-train-2\n") && r.out().contains("search-2 committed"),
                r.toString());
        assertRetrainRankingAndReport(2, 1, 2, 0.2);
        // each method's final_models holds the architectures of its own search; SPOS's results are untouched
        assertRetrainRankingAndReport(1, 2, 3, 0.4);
        assertEquals(sposFinals, sql("select model, arch, test_accuracy from retrain_final_models order by model").out());
        assertEquals(sposRetrain, Files.readString(root.resolve("it/retrain/_stage.json")));
        Scripts.Run methods = sql("select (select first(method) from report_summary), (select first(method) from report_2_summary)");
        assertEquals("spos\tpadnas", methods.out().strip().split("\n")[1], "each method's report row: " + methods.out());
        Scripts.Run sizes = sql("select count(*) as layers, sum(size(candidates)) as ops from prune_pruned_space");
        Scripts.Run before = sql("select sum(size(candidates)) from supernet_train_space");
        int opsAfter = Integer.parseInt(sizes.out().strip().split("\n")[1].split("\t")[1]);
        int opsBefore = Integer.parseInt(before.out().strip().split("\n")[1]);
        assertTrue(opsAfter < opsBefore, "pruning dropped ops: " + opsBefore + " -> " + opsAfter);
        assertEquals(opsAfter, Integer.parseInt(sql("select sum(size(candidates)) from supernet_train_2_space").out().strip().split("\n")[1]),
                "supernet-train-2 trains the pruned space");
        Scripts.Run kept = sql("select count(*) from prune_pruning p join search_op_distribution d on d.layer = p.layer and d.op = p.op "
                + "where p.kept <> (d.probability > 0.01)");
        assertEquals("0", kept.out().strip().split("\n")[1], "kept exactly the ops above P_th (with at most 7 ops a layer always has one above 1%): " + kept.out());
        String stage2 = Files.readString(root.resolve("it/supernet-train-2/_stage.json"));
        assertTrue(stage2.contains("\"inherited_from\" : \"supernet-train\"") || stage2.contains("\"inherited_from\":\"supernet-train\""), stage2);
        assertTrue(r.out().contains("2 epochs: training loss"), r.toString());
        assertSearchConsistent("search-2", 16, 3);
        Scripts.Run space2 = sql("select count(*) from search_2_candidates c join prune_pruning p on p.layer = 0 and not p.kept "
                + "and c.ops[0] = p.op");
        assertEquals("0", space2.out().strip().split("\n")[1], "search-2 draws only from the pruned space: " + space2.out());
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
        assertEquals(4, missing.status(), missing.toString());
        assertTrue(missing.lastErrLine().contains("has no committed stage"), missing.lastErrLine());
    }

    @Test
    @Order(5)
    void dryRunPrintsTheStageCommands() throws Exception {
        Scripts.Run r = Scripts.run("submit/pipeline.sh", "--dry-run", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry");
        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("submit/ingest.sh --config conf/fashion-mnist-tiny.conf --run-id dry"), r.toString());
        Scripts.Run danas = Scripts.run("submit/pipeline.sh", "--dry-run", "--method", "danas", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry");
        assertEquals(0, danas.status(), danas.toString());
        assertTrue(danas.err().contains("stages: ingest easiness supernet-train search retrain report"), danas.toString());
        assertTrue(danas.out().contains("submit/easiness.sh --config conf/fashion-mnist-tiny.conf --run-id dry -Dnas.run.method=danas"), danas.toString());
        Scripts.Run all = Scripts.run("submit/pipeline.sh", "--dry-run", "--method", "danas", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry",
                "-Dnas.danas.schedule=all");
        assertTrue(all.err().contains("stages: ingest supernet-train search retrain report"), "the 'All' ablation needs no easiness: " + all);
        Scripts.Run ddp = Scripts.run("submit/pipeline.sh", "--dry-run", "--method", "ddpnas", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry");
        assertEquals(0, ddp.status(), ddp.toString());
        assertTrue(ddp.err().contains("stages: ingest supernet-train search retrain report"), ddp.toString());
        Scripts.Run lat = Scripts.run("submit/pipeline.sh", "--dry-run", "--method", "ddpnas", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry",
                "-Dnas.ddpnas.generation.constraints=[\"flops <= 3\", \"latency <= 20\"]");
        assertTrue(lat.err().contains("stages: ingest latency-profile supernet-train search retrain report"), "a latency bound needs the table: " + lat);
        Scripts.Run dso = Scripts.run("submit/pipeline.sh", "--dry-run", "--method", "dsonas", "--config", "conf/fashion-mnist-tiny.conf", "--run-id", "dry",
                "-Dnas.dsonas.budget=latency");
        assertEquals(0, dso.status(), dso.toString());
        assertTrue(dso.err().contains("stages: ingest latency-profile supernet-train search retrain report"), "adaptive latency needs the table: " + dso);
    }

    @Test
    @Order(6)
    void aStageRefusesAnUpstreamOfAnotherSpaceOrOneMadeStaleByAReRun() throws Exception {
        // run "it"'s ingest and supernet-train copied into two runs: both committed and consistent as copied
        for (String run : new String[]{"space", "stale"}) {
            Scripts.copyTree(root.resolve("it/ingest"), root.resolve(run).resolve("ingest"));
            Scripts.copyTree(root.resolve("it/supernet-train"), root.resolve(run).resolve("supernet-train"));
        }
        // searching a supernet trained on mobilenetv2 as if it were shuffle-mobile: the space hashes differ
        Scripts.Run space = Scripts.run("submit/search.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "space", "--master", "local[2]", "-Dnas.space.family=shuffle-mobile");
        assertEquals(4, space.status(), space.toString());
        assertTrue(space.lastErrLine().contains("nas.space") && space.lastErrLine().contains("search failed"), space.lastErrLine());
        assertFalse(Files.exists(root.resolve("space/search")), "nothing written");
        // ingest re-run with another split (--force): the supernet was trained on the ingest that is gone
        Scripts.Run reIngest = Scripts.run("submit/ingest.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "stale", "--master", "local[2]", "--force", "-Dnas.ingest.val-per-class=40");
        assertEquals(0, reIngest.status(), reIngest.toString());
        String supernetBefore = Files.readString(root.resolve("stale/supernet-train/_stage.json"));
        Scripts.Run stale = Scripts.run("submit/search.sh", "--config", "conf/fashion-mnist-tiny.conf", "--run-root", root.toString(),
                "--run-id", "stale", "--master", "local[2]", "-Dnas.ingest.val-per-class=40");
        assertEquals(4, stale.status(), stale.toString());
        assertTrue(stale.lastErrLine().contains("Stage supernet-train of run stale is stale") && stale.lastErrLine().contains("--from supernet-train --force"),
                stale.lastErrLine());
        assertFalse(Files.exists(root.resolve("stale/search")), "nothing written");
        assertEquals(supernetBefore, Files.readString(root.resolve("stale/supernet-train/_stage.json")), "nothing overwritten");
    }

    /** submit/pipeline.sh with this class's catalog and event logs ({@link PipelineRuns#pipeline}). */
    private static Scripts.Run pipeline(String... args) throws Exception {
        return PipelineRuns.pipeline(root, args);
    }

    @Test
    @Order(12)
    void everyNotebookQueryAnswersByNameFromTheCatalogInALaterSession() throws Exception {
        // the pipelines registered run "it" (SPOS, then PAD-NAS from prune on); a new JVM and Spark session on the same
        // metastore reads it by name; the DA-NAS, DDPNAS and DSO-NAS queries run in MethodPipelinesIT
        int answered = PipelineRuns.assertEveryNotebookQueryAnswers(root, Map.of("spos", "it", "padnas", "it"),
                Map.of("padnas", "_2"));
        // the query files naming spos (6) and padnas (6): each answered on its run
        assertEquals(12, answered, "queries answered");
    }

    @Test
    @Order(13)
    void everySparkJobSaysWhichStageAndStepItBelongsTo() throws Exception {
        // the Spark UI's job list: every job of every stage of the SPOS and PAD-NAS pipelines names its stage
        int[] seen = PipelineRuns.assertEverySparkJobNamesItsStage(root, Set.of("ingest", "latency-profile", "supernet-train", "search",
                "prune", "retrain", "ranking", "report"));
        assertTrue(seen[0] > 50, "jobs in the event logs: " + seen[0]);
        // SPOS: 7 stages and the tables' registration; PAD-NAS from prune: 6 and the registration
        assertTrue(seen[1] >= 15, seen[1] + " stage launches' Spark properties checked");
    }
}
