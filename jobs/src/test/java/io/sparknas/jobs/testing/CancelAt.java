package io.sparknas.jobs.testing;

import java.io.UncheckedIOException;
import java.io.IOException;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.function.Executable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Kills a stage mid-run the way a lost driver does: every Spark job is cancelled once a given checkpoint is written. */
public final class CancelAt {

    private CancelAt() {
    }

    /**
     * Runs {@code stage} and cancels all of the session's jobs from the moment a checkpoint under {@code checkpoints} has
     * the {@code position} text (e.g. {@code "2 1"}: epoch index 2, one round done) until the stage gives up. Asserts that
     * the cancel really happened there and is what stopped the stage (a Spark job cancelled, not another failure); a
     * failure of the watching thread reaches the test.
     */
    public static void checkpoint(SparkSession spark, Path checkpoints, String position, Executable stage) throws InterruptedException {
        AtomicBoolean stopped = new AtomicBoolean();
        AtomicBoolean cancelling = new AtomicBoolean();
        AtomicReference<Throwable> watcherFailure = new AtomicReference<>();
        Thread watcher = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    if (reached(checkpoints, position)) {
                        cancelling.set(true);
                        // until the stage gives up: a cancel between two rounds' jobs would find nothing to cancel
                        while (!stopped.get()) {
                            spark.sparkContext().cancelAllJobs();
                            Thread.sleep(5);
                        }
                        return;
                    }
                    Thread.sleep(10);
                }
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            } catch (Throwable t) {
                watcherFailure.set(t);
            }
        });
        watcher.start();
        Throwable thrown;
        try {
            thrown = assertThrows(Throwable.class, stage, "cancelled mid-run");
        } finally {
            stopped.set(true);
            watcher.interrupt();
            watcher.join();
        }
        if (watcherFailure.get() != null) {
            throw new AssertionError("the thread watching for checkpoint '" + position + "' failed", watcherFailure.get());
        }
        assertTrue(cancelling.get(), "the stage failed before checkpoint '" + position + "' was written: " + thrown);
        boolean cancelled = false;
        for (Throwable t = thrown; t != null; t = t.getCause()) {
            cancelled |= String.valueOf(t.getMessage()).contains("cancel");
        }
        if (!cancelled) {
            throw new AssertionError("the stage failed for another reason than the cancel at checkpoint '" + position + "'", thrown);
        }
    }

    /** Whether a checkpoint under {@code checkpoints} holds {@code position} (checkpoints come and go while this looks). */
    private static boolean reached(Path checkpoints, String position) {
        try (Stream<Path> files = Files.exists(checkpoints) ? Files.walk(checkpoints) : Stream.empty()) {
            return files.filter(f -> f.getFileName().toString().equals("position")).anyMatch(f -> {
                try {
                    return Files.readString(f).trim().equals(position);
                } catch (IOException x) {
                    return false;
                }
            });
        } catch (IOException | UncheckedIOException x) {
            return false;
        }
    }
}
