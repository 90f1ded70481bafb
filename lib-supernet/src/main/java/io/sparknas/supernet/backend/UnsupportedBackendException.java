package io.sparknas.supernet.backend;

/** The ND4J backend on this JVM cannot run the project's networks; the message says why and what to do. */
public class UnsupportedBackendException extends RuntimeException {
    public UnsupportedBackendException(String message) {
        super(message);
    }
}
