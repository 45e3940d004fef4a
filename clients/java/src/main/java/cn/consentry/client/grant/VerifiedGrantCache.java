package cn.consentry.client.grant;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.Sha256;
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
    private final ConcurrentHashMap<Key, Entry> map = new ConcurrentHashMap<>();
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
        // The UTF-8 bytes, by the faster of two ways for the envelope the text looks like:
        // String.getBytes for a VC-JWT (ASCII when well formed: the JDK's bulk copy), which writes
        // '?' for a lone surrogate; Encoding.utf8 for a JSON document (mostly ASCII with other
        // characters in places), which reports one. A lone surrogate has no UTF-8 form, and
        // neither envelope admits one (the text never verifies): it is verified uncached, and a
        // hit on bytes that hold a '?' counts only when the text has none.
        boolean questionMarksMayLie = looksLikeJws(text);
        byte[] bytes = questionMarksMayLie ? text.getBytes(StandardCharsets.UTF_8) : Encoding.utf8(text);
        if (bytes == null) {
            misses.increment();
            return verifier.verify(text, now);
        }
        // Trimmed as bytes: the same bytes as UTF-8 of the trimmed text (the whitespace trimmed is
        // ASCII, and no other character's UTF-8 holds an ASCII byte).
        int a = start(bytes);
        int b = end(bytes, a);
        byte[] digest = sha256(bytes, a, b);
        Entry hit = map.get(new Key(digest));
        if (hit != null && hit.covers(now) && !(questionMarksMayLie && hit.holdsQuestionMark && Encoding.hasLoneSurrogate(text))) {
            hits.increment();
            return hit.grant;
        }
        misses.increment();
        if (questionMarksMayLie && Encoding.hasLoneSurrogate(text)) {
            return verifier.verify(text, now);
        }
        return insert(digest, verifier.verifyBounded(text, digest, now), bytes, a, b);
    }

    /** Whether the first character that is not ASCII whitespace is not '{' (then the text is a compact JWS or nothing). */
    private static boolean looksLikeJws(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')) {
                return c != '{';
            }
        }
        return true;
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
        int a = start(bytes);
        int b = end(bytes, a);
        byte[] digest = sha256(bytes, a, b);
        Entry hit = map.get(new Key(digest));
        if (hit != null && hit.covers(now)) {
            hits.increment();
            return hit.grant;
        }
        misses.increment();
        String text = GrantVerifier.decode(a == 0 && b == bytes.length ? bytes : Arrays.copyOfRange(bytes, a, b));
        return insert(digest, verifier.verifyBounded(text, digest, now), bytes, a, b);
    }

    private VerifiedGrant insert(byte[] digest, GrantVerifier.Bounded verified, byte[] bytes, int a, int b) {
        boolean question = false;
        for (int i = a; i < b && !question; i++) {
            question = bytes[i] == '?';
        }
        Key key = new Key(digest);
        Entry entry = new Entry(verified.grant(), verified.from(), verified.until(), question);
        synchronized (insert) {
            if (map.size() >= capacity && !map.containsKey(key)) {
                map.clear();
            }
            map.put(key, entry);
        }
        return entry.grant;
    }

    /** Index of the first byte that is not ASCII whitespace (as {@link Credentials#trim}). */
    private static int start(byte[] bytes) {
        int a = 0;
        while (a < bytes.length && GrantVerifier.isAsciiWs(bytes[a])) {
            a++;
        }
        return a;
    }

    /** One past the last byte from {@code a} on that is not ASCII whitespace. */
    private static int end(byte[] bytes, int a) {
        int b = bytes.length;
        while (b > a && GrantVerifier.isAsciiWs(bytes[b - 1])) {
            b--;
        }
        return b;
    }

    private static byte[] sha256(byte[] bytes, int from, int to) {
        return Sha256.of(bytes, from, to - from);
    }

    /** A SHA-256 digest as a map key: its 32 bytes as four longs; the first 32 bits are the hash. */
    private static final class Key {
        private final long w0;
        private final long w1;
        private final long w2;
        private final long w3;

        Key(byte[] digest) {
            w0 = word(digest, 0);
            w1 = word(digest, 8);
            w2 = word(digest, 16);
            w3 = word(digest, 24);
        }

        private static long word(byte[] d, int off) {
            long w = 0;
            for (int i = off; i < off + 8; i++) {
                w = (w << 8) | (d[i] & 0xff);
            }
            return w;
        }

        @Override
        public int hashCode() {
            return (int) (w0 >>> 32);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key && ((Key) o).w0 == w0 && ((Key) o).w1 == w1 && ((Key) o).w2 == w2 && ((Key) o).w3 == w3;
        }
    }

    /**
     * A verified grant, the instants (inclusive) within which every time check of its verification
     * passes again (the validity window and the proof's times, computed once at verification, so
     * that a hit compares instants and parses nothing), and whether its bytes hold a '?'.
     */
    private static final class Entry {
        final VerifiedGrant grant;
        final Instant from;
        final Instant until;
        final boolean holdsQuestionMark;

        Entry(VerifiedGrant grant, Instant from, Instant until, boolean holdsQuestionMark) {
            this.grant = grant;
            this.from = from;
            this.until = until;
            this.holdsQuestionMark = holdsQuestionMark;
        }

        boolean covers(Instant now) {
            return now.compareTo(from) >= 0 && now.compareTo(until) <= 0;
        }
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
