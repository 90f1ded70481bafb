package io.sparknas.supernet.config;

/** A configuration or command-line problem; the message names the key or option, the value and what is allowed. */
public class InvalidSettingsException extends RuntimeException {
    public InvalidSettingsException(String message) {
        super(message);
    }

    public InvalidSettingsException(String message, Throwable cause) {
        super(message, cause);
    }
}
