package io.sparknas.jobs.easiness;

import io.sparknas.jobs.InputDataException;
import io.sparknas.supernet.reference.ReferenceNetworks;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A user's easiness model zip must classify over the run's classes (DA-NAS section 4.1: entropy of its softmax). */
class EasinessModelZipTest {

    @Test
    void aModelWhoseOutputWidthIsNotTheRunsClassCountIsRefusedNamingBoth(@TempDir Path dir) throws Exception {
        // a real zip, written and read back as the stage reads it: a reference network trained for 5 classes
        File zip = dir.resolve("resnet-5.zip").toFile();
        ModelSerializer.writeModel(ReferenceNetworks.build("resnet", 28, 1, 5, 0.25, 0.1, 0.9, 0, 1), zip, false);
        ComputationGraph g = ModelSerializer.restoreComputationGraph(zip, false);
        assertDoesNotThrow(() -> EasinessStage.checkOutputWidth(zip.getPath(), g, 5));
        InputDataException e = assertThrows(InputDataException.class, () -> EasinessStage.checkOutputWidth(zip.getPath(), g, 10));
        assertTrue(e.getMessage().contains("nas.easiness.model-zips") && e.getMessage().contains("resnet-5.zip")
                && e.getMessage().contains("is 5 wide") && e.getMessage().contains("the run has 10 classes"), e.getMessage());
    }
}
