package cn.consentry.client.json;

/**
 * A JSON text that is not strict I-JSON (RFC 7493): a syntax error, a duplicate member name, or an
 * integer literal that no IEEE double holds exactly. The message says which and where.
 */
public final class JsonException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** Not JSON at all (the message names the byte offset). */
        SYNTAX,
        /** An object names the same member twice. */
        DUPLICATE_KEY,
        /** An integer literal whose value is not exactly an IEEE double. */
        UNSAFE_INTEGER
    }

    private final Kind kind;

    /**
     * @param kind what went wrong
     * @param message a human-readable explanation
     */
    public JsonException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    /** @return what went wrong */
    public Kind kind() {
        return kind;
    }
}
