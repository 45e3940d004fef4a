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
    private final Instant timeFrom;
    private final Instant timeUntil;

    VerifiedCredential(Map<String, Object> document, DidKey signer, Instant signedAt, Envelope envelope, Instant timeFrom, Instant timeUntil) {
        this.document = document;
        this.signer = signer;
        this.signedAt = signedAt;
        this.envelope = envelope;
        this.timeFrom = timeFrom;
        this.timeUntil = timeUntil;
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

    /**
     * The start of the instants (inclusive) at which this proof's own time checks pass again as they
     * did: {@code created} − skew (Data Integrity), the later of {@code nbf} and {@code iat} − skew
     * (VC-JWT, whole seconds). What a verified-grant cache re-checks on a hit.
     *
     * @return that instant; {@link Instant#MIN} when unbounded
     */
    public Instant timeBoundsFrom() {
        return timeFrom;
    }

    /**
     * The end of the instants (inclusive) at which this proof's own time checks pass again as they
     * did: {@code expires} − 1 ns (Data Integrity), {@code exp} + skew − 1 ns (VC-JWT).
     *
     * @return that instant; {@link Instant#MAX} when unbounded
     */
    public Instant timeBoundsUntil() {
        return timeUntil;
    }
}
