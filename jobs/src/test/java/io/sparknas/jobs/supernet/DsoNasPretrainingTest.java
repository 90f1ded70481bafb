package io.sparknas.jobs.supernet;

import io.sparknas.jobs.artifact.SupernetTrainOutputs;
import io.sparknas.jobs.InputDataException;
import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.RunSettings;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.store.RunStore;
import io.sparknas.jobs.store.StageCommit;
import io.sparknas.jobs.store.StageRecord;
import io.sparknas.jobs.testing.SharedSpark;
import io.sparknas.jobs.testing.Stages;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code nas.dsonas.pretrained-run} and the {@code pretrained_from} it follows are run ids, never paths out of the run root. */
class DsoNasPretrainingTest {

    @TempDir
    Path root;

    private SupernetSettings settings(String runId, String pretrainedRun) {
        Map<String, String> o = new HashMap<>(Map.of("nas.run.method", "dsonas", "nas.dsonas.pretrain-epochs", "1",
                "nas.dsonas.pretrained-run", pretrainedRun));
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, runId, false, o);
        return SupernetSettings.from(a.loadConfig(), a);
    }

    @Test
    void aPretrainedRunThatIsAPathIsRefusedByTheSettings() {
        for (String bad : new String[]{"../../x", "a/b", ".hidden", "-rf"}) {
            InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> settings("r", bad));
            assertTrue(e.getMessage().contains("nas.dsonas.pretrained-run") && e.getMessage().contains("a run id"), e.getMessage());
        }
    }

    @Test
    void aPretrainedFromThatIsAPathInAnotherRunsRecordIsRefused() {
        SparkSession spark = SharedSpark.session();
        // run "other" searched from a "pre-training" its _stage.json says is at ../../outside (an edited or foreign file)
        RunStore other = new RunStore(RunSettings.toUri(root.toString()), "other", spark.sparkContext().hadoopConfiguration());
        StageArgs a = Stages.args("fashion-mnist-tiny.conf", root, "other", false, Map.of("nas.run.method", "dsonas"));
        StageCommit c = StageCommit.begin(other, RunSettings.from(a.loadConfig(), a), SupernetTrainOutputs.STAGE, 0, "h", 1L,
                List.of(new StageRecord.Input("source:x", "file:/x", "h")));
        c.putProperty(DsoNasPretraining.FROM, "../../outside");
        c.commit(Map.of(), "CPU");
        InputDataException e = assertThrows(InputDataException.class, () -> DsoNasPretraining.source(settings("r", "other"), spark, "fp"));
        assertTrue(e.getMessage().contains("pretrained_from = \"../../outside\"") && e.getMessage().contains("not a run id"), e.getMessage());
    }
}
