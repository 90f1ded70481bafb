package io.sparknas.jobs.latency;

import io.sparknas.jobs.artifact.LatencyProfileOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.ingest.IngestStage;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageConflictException;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import io.sparknas.supernet.cost.LatencyCostModel;
import io.sparknas.supernet.cost.LatencyProbe;
import io.sparknas.supernet.cost.LatencyTable;
import io.sparknas.supernet.space.Arch;
import io.sparknas.supernet.space.SearchSpace;
import io.sparknas.supernet.space.SearchSpaces;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** latency-profile on a small real ingest run, in the shared local[2] session. */
class LatencyProfileStageTest {

    @TempDir
    static Path root;
    static SparkSession spark;
    static LatencyProfileResult result;

    static final Map<String, String> SMALL = Map.of("nas.ingest.train-per-class", "10", "nas.ingest.val-per-class", "5",
            "nas.ingest.test-per-class", "5", "nas.latency.warmup", "1", "nas.latency.repeats", "3", "nas.latency.parallelism", "2");

    static LatencyProfileSettings settings(String runId, boolean force, Map<String, String> extra) {
        Map<String, String> o = new HashMap<>(SMALL);
        o.putAll(extra);
        StageArgs args = Stages.args("fashion-mnist-tiny.conf", root, runId, force, o);
        return LatencyProfileSettings.from(args.loadConfig(), args);
    }

    @BeforeAll
    static void profile() {
        spark = SharedSpark.session();
        IngestStage.run(Stages.ingest("fashion-mnist-tiny.conf", root, "l", false, SMALL), spark);
        result = LatencyProfileStage.run(settings("l", false, Map.of()), spark);
    }

    @Test
    void measuresEveryProbeOfTheSpaceOnce() {
        assertFalse(result.skipped());
        SearchSpace space = SearchSpaces.build(new SearchSpaces.Options("mobilenetv2", 0.25, 28, 1, 1, 10));
        List<LatencyProbe> probes = LatencyProbe.of(space);
        List<Row> rows = spark.read().parquet(result.stageUri() + "/latency").collectAsList();
        assertEquals(probes.size(), rows.size());
        for (Row r : rows) {
            double median = r.getAs("median_ms");
            double p90 = r.getAs("p90_ms");
            assertTrue(median > 0 && median <= p90, r.toString());
            assertEquals(1, (int) r.getAs("batch_size"));
            assertEquals(3, (int) r.getAs("repeats"));
        }
        RunStore store = new RunStore(root.toUri(), "l", spark.sparkContext().hadoopConfiguration());
        LatencyTable table = LatencyProfileOutputs.read(spark, store);
        assertTrue(table.missing(probes).isEmpty());
        assertEquals(space.hash(), store.committed(LatencyProfileOutputs.STAGE).orElseThrow().properties().get("space_hash"));
        // the cost model sums the table: the all-first-candidate architecture costs stem + head + classifier + its ops
        LatencyCostModel cost = new LatencyCostModel(table);
        double sum = table.ms(LatencyProbe.stem(space)) + table.ms(LatencyProbe.head(space)) + table.ms(LatencyProbe.classifier(space));
        for (int i = 0; i < space.size(); i++) {
            sum += table.ms(LatencyProbe.of(space.layer(i), space.layer(i).candidates().get(0)));
        }
        assertEquals(sum, cost.cost(space, Arch.ofIndices(space, new int[space.size()])), 1e-9);
        assertTrue(result.summary().contains(probes.size() + " probes at batch 1"), result.summary());
    }

    @Test
    void reRunIsSkippedAndAChangedSettingNeedsForce() {
        assertTrue(LatencyProfileStage.run(settings("l", false, Map.of()), spark).skipped());
        assertThrows(StageConflictException.class, () -> LatencyProfileStage.run(settings("l", false, Map.of("nas.latency.repeats", "4")), spark));
    }

    @Test
    void aRunWithoutTheStageGetsAnErrorNamingTheFix() {
        RunStore store = new RunStore(root.toUri(), "nothing", spark.sparkContext().hadoopConfiguration());
        InputDataException e = assertThrows(InputDataException.class, () -> LatencyProfileOutputs.read(spark, store));
        assertTrue(e.getMessage().contains("submit/latency-profile.sh"), e.getMessage());
        InputDataException noIngest = assertThrows(InputDataException.class, () -> LatencyProfileStage.run(settings("no-ingest", false, Map.of()), spark));
        assertTrue(noIngest.getMessage().contains("submit/ingest.sh"), noIngest.getMessage());
    }
}
