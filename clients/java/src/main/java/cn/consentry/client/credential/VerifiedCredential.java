package cn.consentry.client.credential;

import cn.consentry.client.crypto.DidKey;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A credential whose proof or JWS verified: the unsecured document (Data Integrity: without
 * {@code proof} and with the proof's {@code @context}; VC-JWT: the payload without registered
 * claims), the signer, and the signing time ({@code created} or {@code iat}).
 */
public final class VerifiedCredential {
    /** The two envelopes of spec/grant.md §2.3. */
    public enum Envelope {
        /** Data Integrity with eddsa-jcs-2022. */
        DATA_INTEGRITY,
        /** VC-JWT ({@code application/vc+jwt}). */
        VC_JWT
    }

    private final Map<String, Object> document;
    private final DidKey signer;
    private final Instant signedAt;
    private final Envelope envelope;

    VerifiedCredential(Map<String, Object> document, DidKey signer, Instant signedAt, Envelope envelope) {
        this.document = document;
        this.signer = signer;
        this.signedAt = signedAt;
        this.envelope = envelope;
    }

    /** @return the unsecured document */
    public Map<String, Object> document() {
        return document;
    }

    /** @return the key that signed */
    public DidKey signer() {
        return signer;
    }

    /** @return {@code created}, or {@code iat} when the JWT has one */
    public Optional<Instant> signedAt() {
        return Optional.ofNullable(signedAt);
    }

    /** @return the envelope */
    public Envelope envelope() {
        return envelope;
    }
}
