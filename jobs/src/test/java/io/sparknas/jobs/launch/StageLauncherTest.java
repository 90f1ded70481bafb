package io.sparknas.jobs.launch;

import io.sparknas.jobs.InputDataException;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a failure's cause chain maps to the exit status and the one-line message (README, "Running stages": exit status). */
class StageLauncherTest {

    @Test
    void aFullDiskIsRecognisedHoweverWrapped() {
        IOException enospc = new IOException("No space left on device");
        assertTrue(StageLauncher.outOfSpace(new RuntimeException("Job aborted.", new IllegalStateException("Task failed while writing rows", enospc))));
        RuntimeException suppressed = new RuntimeException("close failed");
        suppressed.addSuppressed(enospc);
        assertTrue(StageLauncher.outOfSpace(new RuntimeException("write", suppressed)));
        assertFalse(StageLauncher.outOfSpace(new RuntimeException("Job aborted.", new IOException("Connection reset"))));
    }

    @Test
    void inputProblemsAreFoundInsideSparksWrapping() {
        InputDataException bad = new InputDataException("IDX file x has magic 1, expected 2051");
        RuntimeException wrapped = new RuntimeException("Job aborted due to stage failure", new RuntimeException("task", bad));
        assertTrue(StageLauncher.causedByInput(wrapped));
        assertEquals(bad.getMessage(), StageLauncher.rootMessage(wrapped));
        assertFalse(StageLauncher.causedByInput(new RuntimeException("x", new IOException("y"))));
        assertEquals("IOException: y", StageLauncher.rootMessage(new RuntimeException("x", new IOException("y"))));
    }
}
