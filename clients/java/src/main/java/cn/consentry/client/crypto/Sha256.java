package cn.consentry.client.crypto;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 with one {@link MessageDigest} per thread, reused: no provider lookup and no new digest
 * object per call (a tenth of the cost of hashing a grant-sized input).
 */
public final class Sha256 {
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    });

    private Sha256() {}

    /**
     * @param bytes the input
     * @return its 32-byte SHA-256
     */
    public static byte[] of(byte[] bytes) {
        return of(bytes, 0, bytes.length);
    }

    /**
     * @param bytes an array
     * @param offset where the input starts in it
     * @param length the input's length
     * @return the 32-byte SHA-256 of {@code bytes[offset .. offset + length)}
     * @throws IllegalArgumentException if the range is not within the array
     */
    public static byte[] of(byte[] bytes, int offset, int length) {
        MessageDigest md = DIGEST.get();
        md.reset();
        md.update(bytes, offset, length);
        return md.digest();
    }
}
