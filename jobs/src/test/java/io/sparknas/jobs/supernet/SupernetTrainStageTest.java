package io.sparknas.jobs.supernet;

import org.nd4j.linalg.api.ndarray.INDArray;
import java.util.HashMap;
import java.util.Arrays;
import io.sparknas.supernet.space.SearchSpaces;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.net.SupernetState;
import io.sparknas.supernet.net.Supernet;
import io.sparknas.supernet.net.OptimizerSettings;
import io.sparknas.jobs.data.ImageSplits;
import io.sparknas.jobs.artifact.StateTable;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** supernet-train on a small real ingest run, in the shared local[2] session. */
class SupernetTrainStageTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static SupernetTrainResult result;

    static final Map<String, String> SMALL = Map.of("nas.ingest.train-per-class", "40", "nas.ingest.val-per-class", "10",
            "nas.supernet.epochs", "2", "nas.supernet.batch-size", "32", "nas.supernet.steps-per-round", "3",
            "nas.supernet.eval.paths", "2", "nas.supernet.eval.recalibration-batches", "1", "nas.supernet.eval.batch-size", "50",
            "nas.supernet.workers", "2",
            // 64 buckets of about 6 train images (the tiny preset has 8): a round's reads are then fine-grained enough to
            // show that it reads the blocks its steps use, not its whole shard
            "nas.ingest.buckets", "64");

    static SupernetSettings settings(String runId, Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(SMALL);
        o.putAll(extra);
        StageArgs args = Stages.args("fashion-mnist-tiny.conf", root, runId, false, o);
        return SupernetSettings.from(args.loadConfig(), args);
    }

    @BeforeAll
    static void trainSmall() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "s", false, SMALL), spark);
        result = SupernetTrainStage.run(settings("s", Map.of()), spark);
    }

    @Test
    void writesItsTablesAndRecordsTheSpace() {
        assertFalse(result.skipped());
        assertEquals(2, result.epochs());
        // 400 train images over 2 worker shards by id hash (sizes fixed by the ids), steps of 32, rounds of 3 steps
        RunStore store = new RunStore(root.toUri(), "s", spark.sparkContext().hadoopConfiguration());
        StageRecord rec = store.committed("supernet-train").orElseThrow();
        int stepsPerEpoch = Integer.parseInt(rec.properties().get("steps_per_epoch"));
        assertTrue(stepsPerEpoch >= 5 && stepsPerEpoch <= 6, "smallest shard of about 200 images / 32: " + stepsPerEpoch);
        int rounds = (stepsPerEpoch + 2) / 3;
        List<Row> metrics = spark.read().parquet(result.stageUri() + "/train_metrics").orderBy("epoch", "round").collectAsList();
        assertEquals(2 * rounds, metrics.size());
        for (Row m : metrics) {
            long steps = m.getAs("steps");
            assertEquals(steps * 32, (long) m.getAs("images"), "batch 32 per worker step");
            assertTrue(steps == 6 || steps == 2 * (stepsPerEpoch - 3), "3 steps (or the epoch's rest) x 2 workers: " + steps);
            double share = m.getAs("overhead_share");
            assertTrue(share >= 0 && share < 1);
        }
        // a round's tasks read the blocks their steps use, not their shards: over an epoch, the images it trained on (each
        // block once; the block a round ends in is kept for the next), give or take one block per worker
        long largestBucket = ImageSplits.rows(spark, store, "train").groupBy("bucket").count().collectAsList().stream()
                .mapToLong(r -> r.getLong(1)).max().orElseThrow();
        for (int e = 1; e <= 2; e++) {
            int ee = e;
            long read = metrics.stream().filter(m -> (int) m.getAs("epoch") == ee).mapToLong(m -> m.getAs("rows_read")).sum();
            long used = metrics.stream().filter(m -> (int) m.getAs("epoch") == ee).mapToLong(m -> m.getAs("images")).sum();
            assertTrue(Math.abs(read - used) <= 2 * largestBucket, "epoch " + e + ": " + read + " rows read for " + used + " images");
            assertTrue(read < 400, "less than the 400 images of the shards: " + read);
        }
        // a fresh 10-class network starts near ln(10) = 2.30
        double firstLoss = metrics.get(0).getAs("loss");
        assertTrue(Math.abs(firstLoss - Math.log(10)) < 0.35, "first round's loss " + firstLoss);
        assertEquals("2", rec.properties().get("workers"));
        assertEquals("64", rec.properties().get("effective_batch"));
        assertEquals(32, rec.properties().get("space_hash").length());
        assertEquals("uniform", rec.properties().get("sampler"));
        assertEquals(22L, rec.tables().get("space").rows());
        long parts = spark.read().parquet(result.stageUri() + "/supernet").count();
        assertEquals(rec.tables().get("supernet").rows(), parts);
        assertTrue(parts > 100, "stem, head, classifier and every IBConv candidate: " + parts);
        List<Row> eval = spark.read().parquet(result.stageUri() + "/path_eval").collectAsList();
        assertEquals(2, eval.size());
        for (Row e : eval) {
            assertEquals(100L, (long) e.getAs("val_images"));
            assertTrue((double) e.getAs("mflops") > 0);
        }
        assertFalse(root.resolve("s/supernet-train/_checkpoint").toFile().exists(), "checkpoints removed after commit");
    }

    @Test
    void savedStateIsTheTrainedOneAndRoundTripsIntoASupernet() {
        SupernetState state = StateTable.read(spark, result.stageUri() + "/supernet");
        RunStore store = new RunStore(root.toUri(), "s", spark.sparkContext().hadoopConfiguration());
        StageRecord rec = store.committed("supernet-train").orElseThrow();
        assertEquals(rec.properties().get("state_sha256"), state.sha256(), "the table holds the state the stage trained");
        SearchSpace space = SearchSpaces.build(
                new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10));
        OptimizerSettings opt = new OptimizerSettings(0.05, 0.9, 4e-5, "cosine", 10, 0, 0);
        Supernet initial = new Supernet(space, opt, 1,
                Supernet.Init.ALIGNED);
        SupernetState before = SupernetState.capture(initial);
        assertFalse(Arrays.equals(before.params().get("head"), state.params().get("head")), "training moved the head");
        // into another supernet and back: the same bits
        Supernet net = new Supernet(space, opt, 3);
        state.applyTo(net);
        assertEquals(state.sha256(), SupernetState.capture(net).sha256());
    }

    @Test
    void pathAccuracyIsTheSameOnAnyNumberOfTasksAndEqualsOneProcessRecalibrating() {
        RunStore store = new RunStore(root.toUri(), "s", spark.sparkContext().hadoopConfiguration());
        SupernetState state = StateTable.read(spark, result.stageUri() + "/supernet");
        SearchSpace space = SearchSpaces.build(
                new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10));
        OptimizerSettings opt = new OptimizerSettings(0.05, 0.9, 4e-5, "cosine", 10, 0, 0);
        List<Row> table = spark.read().parquet(result.stageUri() + "/path_eval").orderBy("arch").collectAsList();
        List<Arch> archs = table.stream().map(r -> Arch.parse(r.getString(0))).toList();
        // the stage evaluated with 2 tasks (its workers); 1 and 3 tasks give the same accuracies to the last bit
        for (int tasks : new int[]{1, 3}) {
            try (PathEvaluator ev = new PathEvaluator(spark, store, state, space, opt, 1, 1, 50, 0, tasks)) {
                double[] acc = ev.accuracy(archs);
                for (int a = 0; a < archs.size(); a++) {
                    assertEquals(table.get(a).getDouble(1), acc[a], 0.0, tasks + " tasks, " + archs.get(a));
                }
            }
        }
        // the recalibration images are chosen from the bucket and position columns: the query reads no pixel
        String plan = PathEvaluator.recalibrationChoice(spark, store, 50).queryExecution().executedPlan().toString();
        assertTrue(plan.contains("ReadSchema: struct<pos:int>") && !plan.contains("pixels"), plan);
        // one process: recalibrate on the same 50 train images (the first in bucket and position order), then score all 100 val images
        List<Row> recal = ImageSplits.rows(spark, store, "train").orderBy("bucket", "pos").limit(50).select("pixels").collectAsList();
        List<Row> val = ImageSplits.rows(spark, store, "val").select("pixels", "class_index").collectAsList();
        INDArray rx = Supernet.toBatch(recal.stream().map(r -> (byte[]) r.get(0)).toList(), 28, 28, 1);
        INDArray vx = Supernet.toBatch(val.stream().map(r -> (byte[]) r.get(0)).toList(), 28, 28, 1);
        int[] vy = val.stream().mapToInt(r -> r.getInt(1)).toArray();
        boolean anyAboveChance = false;
        for (int a = 0; a < archs.size(); a++) {
            Supernet net = new Supernet(space, opt, 9);
            state.applyTo(net);
            net.recalibrate(archs.get(a), List.of(rx));
            double acc = net.countCorrect(archs.get(a), vx, vy) / 100.0;
            assertEquals(acc, table.get(a).getDouble(1), 0.0, "one-process recalibration and scoring of " + archs.get(a));
            anyAboveChance |= acc > 0.1;
        }
        assertTrue(anyAboveChance, "a trained path above chance");
    }

    @Test
    void rerunIsSkippedAndMissingIngestIsAClearError() {
        assertTrue(SupernetTrainStage.run(settings("s", Map.of()), spark).skipped());
        InputDataException e = assertThrows(InputDataException.class, () -> SupernetTrainStage.run(settings("no-ingest", Map.of()), spark));
        assertTrue(e.getMessage().contains("no committed ingest stage") && e.getMessage().contains("submit/ingest.sh"), e.getMessage());
        Stages.copyCommitted(root, "s", "big", "ingest");
        InputDataException big = assertThrows(InputDataException.class,
                () -> SupernetTrainStage.run(settings("big", Map.of("nas.supernet.batch-size", "4096")), spark));
        assertTrue(big.getMessage().contains("nas.supernet.batch-size"), big.getMessage());
    }

    @Test
    void fourWorkersTrainTheSameSupernetWhetherTheirRoundsAreSummedOnTheDriverOrOnTheExecutors() {
        RunStore store = new RunStore(root.toUri(), "s", spark.sparkContext().hadoopConfiguration());
        Map<String, String> four = Map.of("nas.supernet.workers", "4", "nas.supernet.epochs", "1", "nas.supernet.eval.paths", "0");
        String[] sha = new String[2];
        String[] runs = {"sum-driver", "sum-executors"};
        for (int i = 0; i < 2; i++) {
            Stages.copyCommitted(root, "s", runs[i], "ingest");
            Map<String, String> o = new HashMap<>(four);
            o.put("nas.supernet.combine", i == 0 ? "driver" : "executors");
            SupernetTrainStage.run(settings(runs[i], o), spark);
            sha[i] = new RunStore(root.toUri(), runs[i], spark.sparkContext().hadoopConfiguration()).committed("supernet-train").orElseThrow()
                    .properties().get("state_sha256");
        }
        assertEquals(sha[0], sha[1], "the same tree of additions over 4 workers (3 merges in 2 levels) on the driver and on the executors");
        assertFalse(sha[0].equals(store.committed("supernet-train").orElseThrow().properties().get("state_sha256")), "4 workers are not 2");
    }
}
