package io.sparknas.jobs.testing;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.function.Executable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;

/** Kills a stage mid-run the way a lost driver does: every Spark job is cancelled once a given checkpoint is written. */
public final class CancelAt {

    private CancelAt() {
    }

    /**
     * Runs {@code stage} and cancels all of the session's jobs from the moment a checkpoint under {@code checkpoints} has
     * the {@code position} text (e.g. {@code "2 1"}: epoch index 2, one round done) until the stage gives up; asserts it failed.
     */
    public static void checkpoint(SparkSession spark, Path checkpoints, String position, Executable stage) throws InterruptedException {
        AtomicBoolean stopped = new AtomicBoolean();
        Thread watcher = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                // checkpoints appear and go while this looks: a file that vanished under the walk is simply looked for again
                try (Stream<Path> files = Files.exists(checkpoints) ? Files.walk(checkpoints) : Stream.empty()) {
                    if (files.filter(f -> f.getFileName().toString().equals("position")).anyMatch(f -> {
                        try {
                            return Files.readString(f).trim().equals(position);
                        } catch (java.io.IOException x) {
                            return false;
                        }
                    })) {
                        // until the stage gives up: a cancel between two rounds' jobs would find nothing to cancel
                        while (!stopped.get()) {
                            spark.sparkContext().cancelAllJobs();
                            Thread.sleep(5);
                        }
                        return;
                    }
                } catch (RuntimeException | java.io.IOException x) {
                    // looked for again
                } catch (InterruptedException x) {
                    return;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException x) {
                    return;
                }
            }
        });
        watcher.start();
        try {
            assertThrows(Exception.class, stage, "cancelled mid-run");
        } finally {
            stopped.set(true);
            watcher.interrupt();
            watcher.join();
        }
    }
}
