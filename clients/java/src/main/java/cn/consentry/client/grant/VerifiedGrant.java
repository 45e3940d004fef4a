package cn.consentry.client.grant;

import cn.consentry.client.credential.VerifiedCredential;
import cn.consentry.client.crypto.DidKey;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A grant whose proof, data model and rules verified (spec/grant.md §8). It says nothing about
 * status: check {@link #revocationEntry()} and {@link #suspensionEntry()} on every request
 * ({@link StatusLists}), and {@link #checkTime} when it is used later.
 *
 * @param id the grant id
 * @param digestHex SHA-256 of the exact bytes verified (surrounding ASCII whitespace removed)
 * @param signer the signing did:key
 * @param signedAt {@code created} or {@code iat}
 * @param envelope the envelope
 * @param enterprise the enterprise's USCC
 * @param terms {@code credentialSubject}
 * @param validFrom the window's start
 * @param validUntil its end
 * @param revocationEntry the revocation status entry
 * @param suspensionEntry the suspension status entry
 */
public record VerifiedGrant(String id, String digestHex, DidKey signer, Optional<Instant> signedAt, VerifiedCredential.Envelope envelope,
                            String enterprise, Map<String, Object> terms, Instant validFrom, Instant validUntil,
                            Map<String, Object> revocationEntry, Map<String, Object> suspensionEntry) {
    /**
     * @param now the time of use
     * @throws GrantException {@code not-yet-valid} or {@code expired}
     */
    public void checkTime(Instant now) throws GrantException {
        GrantException.Violation v = GrantVerifier.window(validFrom, validUntil, now);
        if (v != null) {
            throw new GrantException(java.util.List.of(v));
        }
    }
}
