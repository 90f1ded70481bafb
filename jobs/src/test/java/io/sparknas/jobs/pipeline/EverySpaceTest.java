package io.sparknas.jobs.pipeline;

import io.sparknas.jobs.testing.SmallRun;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.retrain.RankingSettings;
import io.sparknas.jobs.retrain.RankingStage;
import io.sparknas.jobs.retrain.RetrainSettings;
import io.sparknas.jobs.retrain.RetrainStage;
import io.sparknas.jobs.search.SearchSettings;
import io.sparknas.jobs.search.SearchStage;
import io.sparknas.jobs.supernet.SupernetSettings;
import io.sparknas.jobs.supernet.SupernetTrainStage;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every search space through supernet-train, search, retrain and ranking on a very small real run (the tiny preset's
 * mobilenetv2 and shuffle-mobile spaces run the whole pipeline in PipelineIT): an architecture id of any op must survive
 * path evaluation, the search's checkpoint and tables, retraining and ranking.
 */
class EverySpaceTest {

    @TempDir
    static Path root;

    static final Map<String, String> SMALL = SmallRun.SETTINGS;

    @ParameterizedTest
    @ValueSource(strings = {"mobilenetv2-large", "shufflenetv2"})
    void runsEveryStageOnTheSpace(String family) throws Exception {
        SparkSession spark = SharedSpark.session();
        Map<String, String> o = new HashMap<>(SMALL);
        o.put("nas.space.family", family);
        String run = family.replace('-', '_');
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, run, false, o), spark);
        StageArgs args = Stages.args("fashion-mnist-tiny.conf", root, run, false, o);
        SupernetTrainStage.run(SupernetSettings.from(args.loadConfig(), args), spark);
        SearchStage.run(SearchSettings.from(args.loadConfig(), args), spark);
        RetrainStage.run(RetrainSettings.from(args.loadConfig(), args), spark);
        RankingStage.run(RankingSettings.from(args.loadConfig(), args), spark);
        Path dir = root.resolve(run);
        List<Row> paths = spark.read().parquet(dir.resolve("supernet-train/path_eval").toString()).collectAsList();
        assertEquals(2, paths.size());
        List<Row> front = spark.read().parquet(dir.resolve("search/pareto_front").toString()).collectAsList();
        assertTrue(!front.isEmpty(), "a front");
        String prefix = family.startsWith("shuffle") ? "s" : "k";
        assertTrue(front.get(0).getString(0).contains("-" + prefix) || front.get(0).getString(0).contains("-x"), front.get(0).getString(0));
        Row model = spark.read().parquet(dir.resolve("retrain/final_models").toString()).first();
        assertEquals(100L, model.getLong(model.fieldIndex("test_images")));
        assertEquals(2L, spark.read().parquet(dir.resolve("ranking/ranking").toString()).count());
    }
}
