package io.sparknas.jobs.retrain;

import io.sparknas.jobs.testing.SmallRun;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.artifact.RankingOutputs;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.search.SearchSettings;
import io.sparknas.jobs.search.SearchStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.supernet.SupernetSettings;
import io.sparknas.jobs.supernet.SupernetTrainStage;
import io.sparknas.jobs.testing.CancelAt;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ranking killed after its first model and resumed: only the rest is trained, and it equals an uninterrupted ranking. */
class RankingStageTest {

    @TempDir
    static Path root;

    static final Map<String, String> SMALL = SmallRun.SETTINGS;

    static RankingSettings ranking(boolean force, boolean resume) {
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, "r", false, SMALL);
        StageArgs b = new StageArgs(a.configFile(), a.overrides(), force, resume, a.options(), a.positional());
        return RankingSettings.from(b.loadConfig(), b);
    }

    @Test
    void aKilledRankingResumesAfterItsLastFinishedModelAndEqualsAnUninterruptedOne() throws Exception {
        SparkSession spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "r", false, SMALL), spark);
        StageArgs args = Stages.args("fashion-mnist-tiny.conf", root, "r", false, SMALL);
        SupernetTrainStage.run(SupernetSettings.from(args.loadConfig(), args), spark);
        SearchStage.run(SearchSettings.from(args.loadConfig(), args), spark);

        Path checkpoints = root.resolve("r/ranking/_checkpoint");
        CancelAt.checkpoint(spark, checkpoints, "1", () -> RankingStage.run(ranking(false, false), spark));
        assertFalse(Files.exists(root.resolve("r/ranking/_stage.json")), "a killed ranking is not committed");
        // the kept checkpoint's first model, its accuracy replaced by a value no training gives: the resumed stage must take it
        // from there instead of training that model again
        Path models;
        try (Stream<Path> files = Files.walk(checkpoints)) {
            models = files.filter(f -> f.getFileName().toString().equals("models")).findFirst().orElseThrow();
        }
        String[] first = Files.readString(models).strip().split(" ");
        assertEquals(2, first.length, "one finished model in the checkpoint: " + Files.readString(models));
        Files.writeString(models, first[0] + " 0.123456\n");
        Files.deleteIfExists(models.resolveSibling(".models.crc"));
        RankingStage.run(ranking(false, true), spark);
        assertFalse(Files.exists(checkpoints), "checkpoints removed at the commit");
        List<Row> resumed = rows(spark);

        RankingStage.run(ranking(true, false), spark);
        List<Row> uninterrupted = rows(spark);
        assertEquals(2, resumed.size());
        assertEquals(first[0], resumed.get(0).getString(0));
        assertEquals(0.123456, resumed.get(0).getDouble(3), 0, "model 1 read from the checkpoint, not trained again");
        assertTrue(uninterrupted.get(0).getDouble(3) != 0.123456);
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(uninterrupted.get(i).get(c), resumed.get(i).get(c), "model " + (i + 1) + " column " + c);
            }
        }
        assertEquals(uninterrupted.get(1).getDouble(3), resumed.get(1).getDouble(3), 0, "model 2, trained after the resume, as in the uninterrupted ranking");

        // both models at the same stand-alone accuracy (as when every short training ends at chance): tau is undefined, and
        // the table and the record say why instead of committing a NaN
        RunStore store = new RunStore(RunSettings.toUri(root.toString()), "r", spark.sparkContext().hadoopConfiguration());
        String fingerprint = store.committed(RankingOutputs.STAGE).orElseThrow().fingerprint();
        store.delete(RankingOutputs.STAGE);
        RankingCheckpoint.write(store, RankingOutputs.STAGE, 1, new RankingCheckpoint(List.of(first[0], uninterrupted.get(1).getString(0)),
                List.of(0.1, 0.1)));
        store.writeText(RankingOutputs.STAGE, StageCommit.CHECKPOINT_FINGERPRINT, fingerprint);
        RankingResult undefined = RankingStage.run(ranking(false, true), spark);
        assertEquals(null, undefined.tau().value());
        assertTrue(undefined.tau().undefined().contains("same score") && undefined.tau().undefined().contains("nas.ranking.epochs"),
                undefined.tau().undefined());
        assertTrue(undefined.summary().contains("undefined ("), undefined.summary());
        for (Row r : spark.read().parquet(root.resolve("r/ranking/ranking").toString()).select("kendall_tau", "kendall_tau_undefined").collectAsList()) {
            assertTrue(r.isNullAt(0), "kendall_tau is null, not NaN: " + r);
            assertEquals(undefined.tau().undefined(), r.getString(1));
        }
        String json = Files.readString(root.resolve("r/ranking/_stage.json"));
        assertFalse(json.contains("NaN") || json.contains("\"kendall_tau\""), json);
        assertTrue(json.contains("kendall_tau_undefined"), json);
    }

    private static List<Row> rows(SparkSession spark) {
        return spark.read().parquet(root.resolve("r/ranking/ranking").toString()).select("arch", "cost", "supernet_accuracy", "standalone_accuracy",
                "on_front", "kendall_tau").collectAsList();
    }
}
