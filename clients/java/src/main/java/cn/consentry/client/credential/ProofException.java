package cn.consentry.client.credential;

/**
 * A proof, JWS or credential that does not verify. {@link #code()} is the stable violation code of
 * spec/grant.md (for example {@code bad-signature}, {@code jws-algorithm}, {@code malformed-json}).
 */
public final class ProofException extends Exception {
    private static final long serialVersionUID = 1L;
    private final String code;

    /**
     * @param code the violation code
     * @param message what went wrong
     */
    public ProofException(String code, String message) {
        super(code + ": " + message);
        this.code = code;
    }

    /** @return the violation code */
    public String code() {
        return code;
    }
}
