package io.sparknas.jobs.store;

/** A committed stage exists and the new run would differ from it; the message says how to proceed. */
public class StageConflictException extends RuntimeException {
    public StageConflictException(String message) {
        super(message);
    }
}
