package cn.consentry.client;

/** The server could not be reached, or answered something that is not what the API says. */
public final class ConsentryIOException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what happened @param cause the cause, or null */
    public ConsentryIOException(String message, Throwable cause) {
        super(message, cause);
    }
}
