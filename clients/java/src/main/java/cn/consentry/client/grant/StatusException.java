package cn.consentry.client.grant;

/**
 * A status list or status check that failed. {@link #code()} is a W3C Bitstring Status List error
 * name ({@code STATUS_LIST_LENGTH_ERROR}, {@code RANGE_ERROR}, {@code MALFORMED_VALUE_ERROR},
 * {@code STATUS_VERIFICATION_ERROR}, {@code STATUS_RETRIEVAL_ERROR}) or a proof code such as
 * {@code bad-signature}.
 */
public final class StatusException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String code;

    /** @param code the error name @param message why */
    public StatusException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    /** @return the error name */
    public String code() {
        return code;
    }
}
