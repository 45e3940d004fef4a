package cn.consentry.client.crypto;

/**
 * The calls into Bouncy Castle's RFC 8032 Ed25519, kept in their own class so that the JVM loads
 * Bouncy Castle only when {@link Ed25519} chose it: without it on the class path this class is
 * never touched and the JDK is used.
 */
final class BcEd25519 {
    private BcEd25519() {}

    /** Plain RFC 8032 verification; the caller has already made the strict checks. */
    static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        return org.bouncycastle.math.ec.rfc8032.Ed25519.verify(signature, 0, publicKey, 0, message, 0, message.length);
    }

    /** The deterministic signature of {@code message} under a 32-byte seed. */
    static byte[] sign(byte[] seed, byte[] message) {
        byte[] sig = new byte[Ed25519.SIGNATURE_LEN];
        org.bouncycastle.math.ec.rfc8032.Ed25519.sign(seed, 0, message, 0, message.length, sig, 0);
        return sig;
    }

    /** The 32-byte public key of a seed. */
    static byte[] publicKeyOf(byte[] seed) {
        byte[] pk = new byte[Ed25519.KEY_LEN];
        org.bouncycastle.math.ec.rfc8032.Ed25519.generatePublicKey(seed, 0, pk, 0);
        return pk;
    }
}
