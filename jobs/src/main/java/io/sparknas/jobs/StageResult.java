package io.sparknas.jobs;

/** What a stage's {@code run} returns; {@link #summary()} is printed to standard output when the stage ends. */
public interface StageResult {

    /** A few lines for a person: where the outputs are and the headline figures. */
    String summary();
}
