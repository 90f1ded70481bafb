package io.sparknas.jobs.supernet;

import io.sparknas.supernet.config.InvalidSettingsException;
import io.sparknas.jobs.config.NasConfig;
import io.sparknas.jobs.config.StageArgs;
import io.sparknas.jobs.testing.TestConfigs;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** supernet-train's settings: what is part of a stage's result (its config hash) and PAD-NAS's per-stage fine-tuning lists. */
class SupernetSettingsTest {

    static SupernetSettings settings(int stageIndex, String... overrides) {
        List<String> a = new ArrayList<>(List.of("--config", TestConfigs.preset("fashion-mnist.conf").getPath(), "--run-id", "x"));
        if (stageIndex > 1) {
            a.addAll(List.of("--stage-index", String.valueOf(stageIndex)));
        }
        for (String o : overrides) {
            a.add("-D" + o);
        }
        StageArgs args = StageArgs.parse(a.toArray(String[]::new), Set.of("stage-index"), false);
        return SupernetSettings.from(args.loadConfig(), args);
    }

    static String hash(SupernetSettings s) {
        return NasConfig.hash(s.run().config(), s.sections());
    }

    @Test
    void fineTuningSettingsDoNotChangeTheFirstStage() {
        assertEquals(hash(settings(1)), hash(settings(1, "nas.padnas.finetune-epochs=[9, 9]")), "stage 1 shared with SPOS keeps its hash");
        assertNotEquals(hash(settings(2)), hash(settings(2, "nas.padnas.finetune-epochs=[9, 9]")));
        assertNotEquals(hash(settings(1)), hash(settings(1, "nas.supernet.workers=4")), "workers are part of the result");
    }

    @Test
    void theAutoScheduleIsTheMethodsAndDsoNasKeepsItsRateConstant() {
        assertEquals("cosine", settings(1).schedule());
        assertEquals("cosine", settings(1, "nas.run.method=ddpnas").schedule());
        assertEquals("constant", settings(1, "nas.run.method=dsonas").schedule(), "DSO-NAS sections 4.2-4.3: constant rate");
        assertEquals("linear", settings(1, "nas.run.method=dsonas", "nas.supernet.optimizer.schedule=linear").schedule());
        assertEquals("constant", settings(1, "nas.supernet.optimizer.schedule=constant").schedule());
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> settings(1, "nas.supernet.optimizer.schedule=step"));
        assertTrue(e.getMessage().contains("nas.supernet.optimizer.schedule") && e.getMessage().contains("constant"), e.getMessage());
    }

    @Test
    void eachFineTuningStageHasItsOwnEpochsAndLearningRate() {
        SupernetSettings first = settings(1);
        assertEquals(5, first.stageEpochs());
        assertEquals(first.learningRate(), first.stageLearningRate());
        SupernetSettings s2 = settings(2, "nas.padnas.finetune-epochs=[4, 2]", "nas.padnas.finetune-learning-rates=[0.02, 0.01]");
        SupernetSettings s3 = settings(3, "nas.padnas.finetune-epochs=[4, 2]", "nas.padnas.finetune-learning-rates=[0.02, 0.01]");
        assertEquals(4, s2.stageEpochs());
        assertEquals(2, s3.stageEpochs());
        assertEquals(0.02, s2.stageLearningRate());
        assertEquals(0.01, s3.stageLearningRate());
        assertEquals(0, s3.stageWarmupEpochs());
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> settings(4));
        assertTrue(e.getMessage().contains("nas.padnas.finetune-epochs has 2 entries") && e.getMessage().contains("--stage-index 4"), e.getMessage());
    }

    @Test
    void whereRoundsAreSummedIsReadAndABadValueNamesItsKey() {
        SupernetSettings s = settings(1, "nas.supernet.combine=executors", "nas.supernet.combine-limit=64 MiB");
        assertEquals("executors", s.combine());
        assertEquals(64L << 20, s.combineLimitBytes());
        assertEquals(256L << 20, settings(1).combineLimitBytes(), "the default");
        InvalidSettingsException e = assertThrows(InvalidSettingsException.class, () -> settings(1, "nas.supernet.combine=gpu"));
        assertTrue(e.getMessage().contains("nas.supernet.combine") && e.getMessage().contains("executors"), e.getMessage());
        e = assertThrows(InvalidSettingsException.class, () -> settings(1, "nas.supernet.combine-limit=lots"));
        assertTrue(e.getMessage().contains("nas.supernet.combine-limit") && e.getMessage().contains("256 MiB"), e.getMessage());
        e = assertThrows(InvalidSettingsException.class, () -> settings(1, "nas.supernet.combine-limit=0"));
        assertTrue(e.getMessage().contains("nas.supernet.combine-limit"), e.getMessage());
    }
}
