package cn.consentry.client.crypto;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.EdECPoint;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.EdECPublicKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Ed25519 (RFC 8032) on Bouncy Castle's low-level implementation
 * ({@code org.bouncycastle.math.ec.rfc8032.Ed25519}) when it is on the class path, else on the
 * JDK's own ({@code Signature.getInstance("Ed25519")}), with the strict checks of RFC 8032
 * §5.1.7 that neither applies fully added here. Both give the same answers (the conformance
 * vectors run against each); Bouncy Castle verifies about 10× faster than the JDK 17's SunEC.
 * The system property {@code consentry.ed25519=jdk} forces the JDK.
 *
 * <p>The JDK's verifier accepts a signature whose {@code S} is not reduced (S ≥ L) in some
 * versions, and it accepts small-order public keys, for which the identity "signature" (R = the
 * identity point, S = 0) verifies for every message. {@link #verify} refuses non-canonical and
 * small-order keys, small-order {@code R}, and {@code S ≥ L} before either implementation is asked, matching
 * ed25519-dalek's {@code verify_strict} (Bouncy Castle 1.72, too, accepts small-order keys).
 */
public final class Ed25519 {
    /** Length of a public key, a seed and half a signature. */
    public static final int KEY_LEN = 32;
    /** Length of a signature. */
    public static final int SIGNATURE_LEN = 64;

    private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
    private static final BigInteger L = BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));
    private static final BigInteger D = BigInteger.valueOf(-121665)
            .multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);

    /** Encodings of the small-order points, ignoring the sign bit (libsodium's block list). */
    private static final byte[][] SMALL_ORDER = {
        Encoding.hexDecode("0000000000000000000000000000000000000000000000000000000000000000"),
        Encoding.hexDecode("0100000000000000000000000000000000000000000000000000000000000000"),
        Encoding.hexDecode("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        Encoding.hexDecode("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
        Encoding.hexDecode("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Encoding.hexDecode("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        Encoding.hexDecode("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    };

    /** The two implementations: Bouncy Castle's (when present) and the JDK's. */
    enum Backend {
        BOUNCY_CASTLE,
        JDK
    }

    /** The implementation in use, chosen once: Bouncy Castle unless absent or refused. */
    static final Backend BACKEND = chooseBackend();

    /** The little-endian bytes of L, the group order, for the {@code S < L} check. */
    private static final byte[] L_LE = littleEndian(L);

    private Ed25519() {}

    private static Backend chooseBackend() {
        if ("jdk".equalsIgnoreCase(System.getProperty("consentry.ed25519", ""))) {
            return Backend.JDK;
        }
        try {
            Class.forName("org.bouncycastle.math.ec.rfc8032.Ed25519", false, Ed25519.class.getClassLoader());
            return Backend.BOUNCY_CASTLE;
        } catch (ClassNotFoundException | LinkageError e) {
            return Backend.JDK;
        }
    }

    /**
     * Which implementation signs and verifies in this process.
     *
     * @return {@code "bouncycastle"} or {@code "jdk"}
     */
    public static String implementation() {
        return BACKEND == Backend.BOUNCY_CASTLE ? "bouncycastle" : "jdk";
    }

    private static byte[] littleEndian(BigInteger v) {
        byte[] be = v.toByteArray();
        byte[] le = new byte[KEY_LEN];
        for (int i = 0; i < be.length && i < KEY_LEN; i++) {
            le[i] = be[be.length - 1 - i];
        }
        return le;
    }

    /** Whether a little-endian 32-byte scalar is below L (canonical S). */
    private static boolean belowL(byte[] sig, int off) {
        for (int i = KEY_LEN - 1; i >= 0; i--) {
            int a = sig[off + i] & 0xff;
            int b = L_LE[i] & 0xff;
            if (a != b) {
                return a < b;
            }
        }
        return false; // equal to L
    }

    /** Why a public key was refused. */
    public static final class KeyException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        KeyException(String message) {
            super(message);
        }
    }

    /**
     * Checks that 32 bytes are an acceptable Ed25519 public key: canonical, a point of the curve,
     * and not of small order.
     *
     * @param key the encoded key
     * @throws KeyException naming the reason
     */
    public static void checkPublicKey(byte[] key) {
        if (key.length != KEY_LEN) {
            throw new KeyException("an Ed25519 public key has 32 bytes, not " + key.length);
        }
        if (CHECKED.containsKey(ByteBuffer.wrap(key))) {
            return;
        }
        if (isSmallOrder(key)) {
            throw new KeyException("weak Ed25519 public key (a point of small order)");
        }
        BigInteger y = yOf(key);
        if (y.compareTo(P) >= 0) {
            throw new KeyException("non-canonical Ed25519 public key encoding");
        }
        if (!isOnCurve(y, (key[31] & 0x80) != 0)) {
            throw new KeyException("the bytes are not an Ed25519 point");
        }
        if (BACKEND == Backend.JDK) {
            try {
                jdkPublic(key); // remembered: the next check of this key is a lookup
            } catch (GeneralSecurityException e) {
                throw new KeyException("the JDK refuses the key: " + e.getMessage());
            }
        } else {
            remember(ByteBuffer.wrap(key.clone()), Boolean.TRUE);
        }
    }

    /**
     * Whether an encoded point is of small order (any of the eight torsion points, in any
     * encoding).
     *
     * @param point 32 bytes
     * @return true for a small-order encoding
     */
    public static boolean isSmallOrder(byte[] point) {
        byte[] c = point.clone();
        c[31] &= 0x7f;
        for (byte[] bad : SMALL_ORDER) {
            if (Arrays.equals(c, bad)) {
                return true;
            }
        }
        return false;
    }

    private static BigInteger yOf(byte[] enc) {
        byte[] be = new byte[KEY_LEN];
        for (int i = 0; i < KEY_LEN; i++) {
            be[i] = enc[KEY_LEN - 1 - i];
        }
        be[0] &= 0x7f;
        return new BigInteger(1, be);
    }

    private static boolean isOnCurve(BigInteger y, boolean xOdd) {
        BigInteger y2 = y.multiply(y).mod(P);
        BigInteger u = y2.subtract(BigInteger.ONE).mod(P);
        BigInteger v = D.multiply(y2).add(BigInteger.ONE).mod(P);
        BigInteger x2 = u.multiply(v.modPow(P.subtract(BigInteger.TWO), P)).mod(P);
        if (x2.signum() == 0) {
            return !xOdd; // x = 0 has no negative form
        }
        return x2.modPow(P.subtract(BigInteger.ONE).shiftRight(1), P).equals(BigInteger.ONE);
    }

    /**
     * Verifies strictly (RFC 8032 §5.1.7 with the checks above).
     *
     * @param publicKey 32 bytes
     * @param message the signed bytes
     * @param signature 64 bytes
     * @return true only when the signature is valid and canonical under an acceptable key
     */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        return verify(BACKEND, publicKey, message, signature);
    }

    /** {@link #verify(byte[], byte[], byte[])} on the given implementation. */
    static boolean verify(Backend backend, byte[] publicKey, byte[] message, byte[] signature) {
        if (publicKey.length != KEY_LEN || signature.length != SIGNATURE_LEN) {
            return false;
        }
        try {
            checkPublicKey(publicKey);
        } catch (KeyException e) {
            return false;
        }
        byte[] r = Arrays.copyOfRange(signature, 0, 32);
        if (isSmallOrder(r) || !belowL(signature, 32)) {
            return false;
        }
        try {
            if (backend == Backend.BOUNCY_CASTLE) {
                return BcEd25519.verify(publicKey, message, signature);
            }
            Signature v = VERIFIER.get();
            v.initVerify(jdkPublic(publicKey));
            v.update(message);
            return v.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Signs with a 32-byte seed (RFC 8032 §5.1.6; deterministic).
     *
     * @param seed the secret seed
     * @param message the bytes to sign
     * @return the 64-byte signature
     */
    public static byte[] sign(byte[] seed, byte[] message) {
        return sign(BACKEND, seed, message);
    }

    /** {@link #sign(byte[], byte[])} on the given implementation. */
    static byte[] sign(Backend backend, byte[] seed, byte[] message) {
        if (seed.length != KEY_LEN) {
            throw new IllegalArgumentException("an Ed25519 seed has 32 bytes");
        }
        if (backend == Backend.BOUNCY_CASTLE) {
            return BcEd25519.sign(seed, message);
        }
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(toJdkPrivate(seed));
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed: " + e.getMessage(), e);
        }
    }

    /**
     * The public key of a seed.
     *
     * @param seed 32 secret bytes
     * @return the 32-byte public key
     */
    public static byte[] publicKeyOf(byte[] seed) {
        return publicKeyOf(BACKEND, seed);
    }

    /** {@link #publicKeyOf(byte[])} on the given implementation. */
    static byte[] publicKeyOf(Backend backend, byte[] seed) {
        if (seed.length != KEY_LEN) {
            throw new IllegalArgumentException("an Ed25519 seed has 32 bytes");
        }
        if (backend == Backend.BOUNCY_CASTLE) {
            return BcEd25519.publicKeyOf(seed);
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
            g.initialize(NamedParameterSpec.ED25519, new FixedRandom(seed));
            KeyPair kp = g.generateKeyPair();
            return encode((EdECPublicKey) kp.getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 unavailable: " + e.getMessage(), e);
        }
    }

    /** @return 32 fresh bytes from the operating system's CSPRNG */
    public static byte[] newSeed() {
        byte[] seed = new byte[KEY_LEN];
        new SecureRandom().nextBytes(seed);
        return seed;
    }

    /**
     * Public keys already checked by {@link #checkPublicKey} (two modular exponentiations with
     * BigInteger), with their JDK form once the JDK has needed it ({@code Boolean.TRUE} until
     * then): a verifier sees the same few keys again and again (an enterprise's, the node's).
     * Bounded: cleared when it grows past {@code MAX_CACHED}.
     */
    private static final int MAX_CACHED = 1024;
    private static final ConcurrentHashMap<ByteBuffer, Object> CHECKED = new ConcurrentHashMap<>();
    private static final ThreadLocal<Signature> VERIFIER = ThreadLocal.withInitial(() -> {
        try {
            return Signature.getInstance("Ed25519");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 unavailable: " + e.getMessage(), e);
        }
    });

    /** The JDK key of a public key that passed {@link #checkPublicKey} (cached). */
    private static PublicKey jdkPublic(byte[] key) throws GeneralSecurityException {
        ByteBuffer k = ByteBuffer.wrap(key.clone());
        Object known = CHECKED.get(k);
        if (known instanceof PublicKey) {
            return (PublicKey) known;
        }
        PublicKey pk = toJdkPublic(key);
        remember(k, pk);
        return pk;
    }

    private static void remember(ByteBuffer key, Object value) {
        if (CHECKED.size() >= MAX_CACHED) {
            CHECKED.clear();
        }
        CHECKED.put(key, value);
    }

    static PublicKey toJdkPublic(byte[] key) throws GeneralSecurityException {
        boolean xOdd = (key[31] & 0x80) != 0;
        EdECPoint point = new EdECPoint(xOdd, yOf(key));
        return KeyFactory.getInstance("Ed25519").generatePublic(new EdECPublicKeySpec(NamedParameterSpec.ED25519, point));
    }

    static PrivateKey toJdkPrivate(byte[] seed) throws GeneralSecurityException {
        return KeyFactory.getInstance("Ed25519").generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
    }

    private static byte[] encode(EdECPublicKey k) {
        byte[] be = k.getPoint().getY().toByteArray();
        byte[] out = new byte[KEY_LEN];
        for (int i = 0; i < be.length && i < KEY_LEN; i++) {
            out[i] = be[be.length - 1 - i];
        }
        if (k.getPoint().isXOdd()) {
            out[31] |= (byte) 0x80;
        }
        return out;
    }

    /** Hands the key pair generator the given seed as its "random" bytes. */
    private static final class FixedRandom extends SecureRandom {
        private static final long serialVersionUID = 1L;
        private final byte[] seed;

        FixedRandom(byte[] seed) {
            this.seed = seed.clone();
        }

        @Override
        public void nextBytes(byte[] bytes) {
            if (bytes.length != seed.length) {
                throw new IllegalStateException("unexpected request for " + bytes.length + " bytes");
            }
            System.arraycopy(seed, 0, bytes, 0, bytes.length);
        }
    }
}
