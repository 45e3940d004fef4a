package cn.consentry.client.log;

/** A proof, checkpoint, receipt or promise from the log that does not verify; the message says why. */
public final class LogException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message why */
    public LogException(String message) {
        super(message);
    }
}
