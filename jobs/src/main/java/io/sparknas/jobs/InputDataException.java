package io.sparknas.jobs;

/** Input data a stage cannot use (missing folder, empty input, a class without usable images, a malformed file); the message names the path. */
public class InputDataException extends RuntimeException {
    public InputDataException(String message) {
        super(message);
    }

    public InputDataException(String message, Throwable cause) {
        super(message, cause);
    }
}
