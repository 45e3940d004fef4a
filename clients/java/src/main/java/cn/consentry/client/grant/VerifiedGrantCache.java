package cn.consentry.client.grant;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.crypto.Encoding;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verified grants by the SHA-256 of their trimmed bytes, for a platform that verifies the same
 * grant on every request (as the Rust node's {@code GrantCache}).
 *
 * <p>{@link #verify(String, Instant)} returns what {@link GrantVerifier#verify(String, Instant)}
 * returns with the verifier (and so the catalog) given at construction. A hit skips the proof and
 * the rules, never the time: the validity window and the proof's own times ({@code created} /
 * {@code expires}, or {@code nbf} / {@code iat} / {@code exp}, with the skew) are checked again at
 * every call's {@code now}, and outside them the grant is verified afresh, so the caller gets the
 * very {@link GrantException} the uncached call throws ({@code expired}, {@code not-yet-valid}, …).
 * Status is never cached here: check it on every request ({@link StatusLists}). Failures are never
 * cached.
 *
 * <p>At most {@code capacity} grants are kept; when it is reached the cache starts afresh (empties
 * itself, like the Rust node's). Thread-safe: lookups are lock-free ({@link ConcurrentHashMap}),
 * inserts take a lock so the capacity holds; two threads may both verify the same new grant (either
 * result is kept). The grant returned on a hit is the same object every time: treat its maps as
 * read-only.
 */
public final class VerifiedGrantCache {
    /** The default capacity, the Rust node's. */
    public static final int DEFAULT_CAPACITY = 200_000;

    private final GrantVerifier verifier;
    private final int capacity;
    private final ConcurrentHashMap<String, GrantVerifier.Bounded> map = new ConcurrentHashMap<>();
    private final Object insert = new Object();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();

    /**
     * @param verifier what every grant here is verified with (its catalog), for the cache's life
     * @param capacity the most grants kept (at least 1)
     * @throws IllegalArgumentException if {@code capacity} is below 1
     */
    public VerifiedGrantCache(GrantVerifier verifier, int capacity) {
        if (verifier == null) {
            throw new IllegalArgumentException("verifier is null");
        }
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, not " + capacity);
        }
        this.verifier = verifier;
        this.capacity = capacity;
    }

    /** @param verifier what every grant here is verified with; capacity {@link #DEFAULT_CAPACITY} */
    public VerifiedGrantCache(GrantVerifier verifier) {
        this(verifier, DEFAULT_CAPACITY);
    }

    /**
     * {@link GrantVerifier#verify(String, Instant)}, from the cache when these bytes verified before.
     *
     * @param text the Data Integrity JSON or the VC-JWT, as received
     * @param now the verifier's time
     * @return the verified grant
     * @throws GrantException as the uncached verification
     */
    public VerifiedGrant verify(String text, Instant now) throws GrantException {
        String trimmed = Credentials.trim(text);
        if (hasLoneSurrogate(trimmed)) {
            // No UTF-8 form: String.getBytes would make it '?', the digest of other text. Uncached.
            misses.increment();
            return verifier.verify(text, now);
        }
        return lookup(trimmed.getBytes(StandardCharsets.UTF_8), trimmed, now);
    }

    /**
     * {@link GrantVerifier#verify(byte[], Instant)}, from the cache when these bytes verified before.
     *
     * @param bytes the Data Integrity JSON or the VC-JWT, as received
     * @param now the verifier's time
     * @return the verified grant
     * @throws GrantException as the uncached verification
     */
    public VerifiedGrant verify(byte[] bytes, Instant now) throws GrantException {
        int a = 0;
        int b = bytes.length;
        while (a < b && GrantVerifier.isAsciiWs(bytes[a])) {
            a++;
        }
        while (b > a && GrantVerifier.isAsciiWs(bytes[b - 1])) {
            b--;
        }
        return lookup(a == 0 && b == bytes.length ? bytes : Arrays.copyOfRange(bytes, a, b), null, now);
    }

    /** @param trimmed the trimmed bytes @param text their text if already decoded, else null */
    private VerifiedGrant lookup(byte[] trimmed, String text, Instant now) throws GrantException {
        String key = Encoding.hex(Catalog.sha256(trimmed));
        GrantVerifier.Bounded hit = map.get(key);
        if (hit != null && !now.isBefore(hit.from()) && !now.isAfter(hit.until())) {
            hits.increment();
            return hit.grant();
        }
        misses.increment();
        GrantVerifier.Bounded entry = verifier.verifyBounded(text != null ? text : GrantVerifier.decode(trimmed), now);
        synchronized (insert) {
            if (map.size() >= capacity && !map.containsKey(key)) {
                map.clear();
            }
            map.put(key, entry);
        }
        return entry.grant();
    }

    private static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    /** @return the number of grants held */
    public int size() {
        return map.size();
    }

    /** @return calls answered from the cache */
    public long hits() {
        return hits.sum();
    }

    /** @return calls that ran the full verification */
    public long misses() {
        return misses.sum();
    }

    /** Forgets every grant. */
    public void clear() {
        synchronized (insert) {
            map.clear();
        }
    }

    /** @return the verifier (and catalog) every grant here is verified with */
    public GrantVerifier verifier() {
        return verifier;
    }
}
