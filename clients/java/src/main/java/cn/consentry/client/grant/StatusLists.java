package cn.consentry.client.grant;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.credential.ProofException;
import cn.consentry.client.credential.VerifiedCredential;
import cn.consentry.client.crypto.Encoding;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.zip.GZIPInputStream;

/**
 * W3C Bitstring Status List v1.0: decoding lists, and the per-request status check of a grant
 * (spec/grant.md §2.4, §5.2): fetch both lists, verify each list credential's proof and issuer,
 * read the grant's bit in each. Decoded lists are cached for a TTL.
 */
public final class StatusLists {
    /** Fewest entries a list may have. */
    public static final int MIN_ENTRIES = 131_072;
    private static final int MAX_BYTES = 16 * 1024 * 1024;

    private final Function<String, String> fetch;
    private final String trustedIssuer;
    private final Duration ttl;
    private final Clock clock;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    private record Cached(Instant until, String purpose, byte[] bits, int statusSize) {}

    /**
     * @param fetch GETs a status list credential by URL (e.g. {@code client::fetchText})
     * @param trustedIssuer the DID that must have issued the lists (the node's)
     * @param ttl how long a verified list is reused
     * @param clock the clock
     */
    public StatusLists(Function<String, String> fetch, String trustedIssuer, Duration ttl, Clock clock) {
        this.fetch = fetch;
        this.trustedIssuer = trustedIssuer;
        this.ttl = ttl;
        this.clock = clock;
    }

    /** A grant's status. */
    public enum Status {
        /** Neither bit set. */
        ACTIVE,
        /** The suspension bit is set (and not the revocation bit). */
        SUSPENDED,
        /** The revocation bit is set: final. */
        REVOKED
    }

    /**
     * Both bits of a verified grant.
     *
     * @param grant the grant
     * @return its status now
     * @throws StatusException when a list cannot be fetched or does not verify
     */
    public Status status(VerifiedGrant grant) throws StatusException {
        if (bit(grant.revocationEntry()) != 0) {
            return Status.REVOKED;
        }
        return bit(grant.suspensionEntry()) != 0 ? Status.SUSPENDED : Status.ACTIVE;
    }

    /** Drops every cached list (e.g. after learning of a status change). */
    public void clear() {
        cache.clear();
    }

    private int bit(Map<String, Object> entry) throws StatusException {
        String url = (String) entry.get("statusListCredential");
        Instant now = clock.instant();
        Cached c = cache.get(url);
        if (c == null || now.isAfter(c.until())) {
            String text;
            try {
                text = fetch.apply(url);
            } catch (RuntimeException e) {
                throw new StatusException("STATUS_RETRIEVAL_ERROR", url + ": " + e.getMessage());
            }
            VerifiedCredential vc = verifyList(text, now);
            if (!trustedIssuer.equals(vc.signer().did())) {
                throw new StatusException("STATUS_VERIFICATION_ERROR", url + " is signed by " + vc.signer() + ", not " + trustedIssuer);
            }
            if (!url.equals(vc.document().get("id"))) {
                throw new StatusException("STATUS_VERIFICATION_ERROR", "the list at " + url + " names itself " + vc.document().get("id"));
            }
            Map<?, ?> subject = (Map<?, ?>) vc.document().get("credentialSubject");
            int size = statusSize(subject);
            c = new Cached(now.plus(ttl), String.valueOf(subject.get("statusPurpose")), decode((String) subject.get("encodedList"), size), size);
            cache.put(url, c);
        }
        if (!c.purpose().equals(entry.get("statusPurpose"))) {
            throw new StatusException("STATUS_VERIFICATION_ERROR", "entry purpose " + entry.get("statusPurpose") + " is not the list's " + c.purpose());
        }
        return read(c.bits(), c.statusSize(), Long.parseLong((String) entry.get("statusListIndex")));
    }

    private static int statusSize(Map<?, ?> subject) throws StatusException {
        Object s = subject.get("statusSize");
        if (s == null) {
            return 1;
        }
        if (!(s instanceof Long) || (Long) s < 1 || (Long) s > 8) {
            throw new StatusException("MALFORMED_VALUE_ERROR", "statusSize must be an integer from 1 to 8");
        }
        return (int) (long) (Long) s;
    }

    private static VerifiedCredential verifyList(String text, Instant now) throws StatusException {
        VerifiedCredential vc;
        try {
            vc = Credentials.verify(text, now);
        } catch (ProofException e) {
            throw new StatusException(e.code(), "status list: " + e.getMessage());
        }
        Map<String, Object> d = vc.document();
        if (!GrantRules.stringList(d.get("type")).contains("BitstringStatusListCredential") || !(d.get("credentialSubject") instanceof Map)) {
            throw new StatusException("STATUS_VERIFICATION_ERROR", "not a BitstringStatusListCredential");
        }
        Map<?, ?> s = (Map<?, ?>) d.get("credentialSubject");
        if (!"BitstringStatusList".equals(s.get("type")) || !(s.get("encodedList") instanceof String) || !(s.get("statusPurpose") instanceof String)) {
            throw new StatusException("STATUS_VERIFICATION_ERROR", "the list's credentialSubject is not a BitstringStatusList");
        }
        if (d.get("validUntil") instanceof String) {
            try {
                if (now.isAfter(cn.consentry.client.credential.Dates.parseStamp((String) d.get("validUntil")))) {
                    throw new StatusException("STATUS_VERIFICATION_ERROR", "the status list expired");
                }
            } catch (IllegalArgumentException e) {
                throw new StatusException("STATUS_VERIFICATION_ERROR", e.getMessage());
            }
        }
        return vc;
    }

    /**
     * Decodes an {@code encodedList}: multibase {@code u} + canonical unpadded base64url of GZIP,
     * holding at least 131,072 entries of {@code statusSize} bits.
     *
     * @param encodedList the value
     * @param statusSize bits per entry
     * @return the bit string
     * @throws StatusException {@code MALFORMED_VALUE_ERROR} or {@code STATUS_LIST_LENGTH_ERROR}
     */
    public static byte[] decode(String encodedList, int statusSize) throws StatusException {
        if (!encodedList.startsWith("u")) {
            throw new StatusException("MALFORMED_VALUE_ERROR", "encodedList must be multibase base64url ('u')");
        }
        byte[] gz;
        try {
            gz = Encoding.base64UrlDecode(encodedList.substring(1));
        } catch (IllegalArgumentException e) {
            throw new StatusException("MALFORMED_VALUE_ERROR", "encodedList is not canonical unpadded base64url");
        }
        byte[] bits;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            bits = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new StatusException("MALFORMED_VALUE_ERROR", "encodedList is not GZIP: " + e.getMessage());
        }
        if (bits.length > MAX_BYTES) {
            throw new StatusException("MALFORMED_VALUE_ERROR", "encodedList is too large");
        }
        if ((long) bits.length * 8 / statusSize < MIN_ENTRIES) {
            throw new StatusException("STATUS_LIST_LENGTH_ERROR", "the list holds " + ((long) bits.length * 8 / statusSize) + " entries, fewer than " + MIN_ENTRIES);
        }
        return bits;
    }

    /**
     * Reads entry {@code index} (most significant bit first).
     *
     * @param bits the decoded list
     * @param statusSize bits per entry
     * @param index the entry
     * @return its value
     * @throws StatusException {@code RANGE_ERROR}
     */
    public static int read(byte[] bits, int statusSize, long index) throws StatusException {
        long entries = (long) bits.length * 8 / statusSize;
        if (index < 0 || index >= entries) {
            throw new StatusException("RANGE_ERROR", "index " + index + " is beyond the list's " + entries + " entries");
        }
        int v = 0;
        long start = index * statusSize;
        for (int i = 0; i < statusSize; i++) {
            long b = start + i;
            int bit = (bits[(int) (b / 8)] >> (7 - (int) (b % 8))) & 1;
            v = (v << 1) | bit;
        }
        return v;
    }

    /**
     * An offline status check of a credential's entry against one status list credential (both
     * eddsa-jcs-2022), as the conformance kind {@code status-check}.
     *
     * @param credential the credential text
     * @param statusListCredential the list credential text
     * @param at the time
     * @return the entry's value
     * @throws StatusException with the error name or proof code
     */
    public static int check(String credential, String statusListCredential, Instant at) throws StatusException {
        VerifiedCredential cred;
        try {
            cred = Credentials.verify(credential, at);
        } catch (ProofException e) {
            throw new StatusException(e.code(), "credential: " + e.getMessage());
        }
        VerifiedCredential list = verifyList(statusListCredential, at);
        Object cs = cred.document().get("credentialStatus");
        Map<?, ?> entry = cs instanceof List ? (Map<?, ?>) ((List<?>) cs).get(0) : (Map<?, ?>) cs;
        Map<?, ?> subject = (Map<?, ?>) list.document().get("credentialSubject");
        if (!String.valueOf(entry.get("statusListCredential")).equals(list.document().get("id"))) {
            throw new StatusException("STATUS_VERIFICATION_ERROR", "the entry names another list");
        }
        if (!subject.get("statusPurpose").equals(entry.get("statusPurpose"))) {
            throw new StatusException("STATUS_VERIFICATION_ERROR", "entry purpose " + entry.get("statusPurpose") + " is not the list's " + subject.get("statusPurpose"));
        }
        int size = statusSize(subject);
        long index;
        try {
            index = Long.parseLong(String.valueOf(entry.get("statusListIndex")));
        } catch (NumberFormatException e) {
            throw new StatusException("RANGE_ERROR", "statusListIndex is not a number");
        }
        return read(decode((String) subject.get("encodedList"), size), size, index);
    }
}
