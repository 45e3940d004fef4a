package cn.consentry.client.crypto;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An Ed25519 {@code did:key} (W3C did:key, Multikey): {@code did:key:z} + base58-btc of
 * {@code ed 01} ‖ the 32-byte public key. Parsing refuses versioned forms, other multicodecs,
 * wrong lengths, and weak (small-order) or non-canonical keys.
 */
public final class DidKey {
    private static final String PREFIX = "did:key:";
    private static final Map<String, DidKey> CACHE = new ConcurrentHashMap<>();

    private final String did;
    private final byte[] publicKey;

    private DidKey(String did, byte[] publicKey) {
        this.did = did;
        this.publicKey = publicKey;
    }

    /**
     * The did:key of a public key.
     *
     * @param publicKey 32 bytes
     * @return its DID
     * @throws Ed25519.KeyException if the key is weak or not a point
     */
    public static DidKey fromPublicKey(byte[] publicKey) {
        Ed25519.checkPublicKey(publicKey);
        return new DidKey(PREFIX + multibase(publicKey), publicKey.clone());
    }

    /** @param publicKey 32 bytes @return the Multikey {@code z6Mk…} of the key */
    public static String multibase(byte[] publicKey) {
        byte[] b = new byte[34];
        b[0] = (byte) 0xed;
        b[1] = 0x01;
        System.arraycopy(publicKey, 0, b, 2, 32);
        return "z" + Encoding.base58(b);
    }

    /**
     * Decodes a Multikey {@code publicKeyMultibase} value to the key bytes.
     *
     * @param multibase {@code z6Mk…}
     * @return the 32-byte public key (checked)
     * @throws IllegalArgumentException with the reason
     */
    public static byte[] decodeMultibase(String multibase) {
        if (!multibase.startsWith("z")) {
            throw new IllegalArgumentException("multibase value must be base58-btc with the 'z' prefix");
        }
        byte[] raw = Encoding.base58Decode(multibase.substring(1));
        if (raw.length < 2 || (raw[0] & 0xff) != 0xed || raw[1] != 0x01) {
            throw new IllegalArgumentException("multicodec header is not ed25519-pub (ed01)");
        }
        if (raw.length != 34) {
            throw new IllegalArgumentException("key material after the multicodec header is " + (raw.length - 2) + " bytes, expected 32");
        }
        byte[] key = Arrays.copyOfRange(raw, 2, 34);
        Ed25519.checkPublicKey(key);
        return key;
    }

    /**
     * Parses a did:key DID (not a DID URL).
     *
     * @param did {@code did:key:z6Mk…}
     * @return the DID
     * @throws IllegalArgumentException with the reason (weak keys are an {@link Ed25519.KeyException})
     */
    public static DidKey parse(String did) {
        DidKey cached = CACHE.get(did);
        if (cached != null) {
            return cached;
        }
        if (!did.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a did:key: " + did);
        }
        String mb = did.substring(PREFIX.length());
        if (mb.isEmpty() || mb.indexOf(':') >= 0 || mb.indexOf('#') >= 0 || mb.indexOf('/') >= 0 || mb.indexOf('?') >= 0) {
            throw new IllegalArgumentException("not a plain did:key (versioned forms and DID URLs are refused): " + did);
        }
        DidKey k = new DidKey(did, decodeMultibase(mb));
        if (CACHE.size() > 10_000) {
            CACHE.clear();
        }
        CACHE.put(did, k);
        return k;
    }

    /**
     * Parses a verification method (DID URL) {@code did:key:z…#z…} whose fragment is the key's own
     * multibase value.
     *
     * @param url the DID URL
     * @return the DID it names
     * @throws IllegalArgumentException if the URL names no key of a did:key
     */
    public static DidKey parseVerificationMethod(String url) {
        int hash = url.indexOf('#');
        if (hash < 0) {
            throw new IllegalArgumentException("verification method has no fragment: " + url);
        }
        DidKey k = parse(url.substring(0, hash));
        if (!url.substring(hash + 1).equals(k.multibase())) {
            throw new IllegalArgumentException("fragment of " + url + " names no key of that DID");
        }
        return k;
    }

    /** @return the DID, {@code did:key:z6Mk…} */
    public String did() {
        return did;
    }

    /** @return the Multikey value, {@code z6Mk…} */
    public String multibase() {
        return did.substring(PREFIX.length());
    }

    /** @return the verification method {@code <did>#<multibase>} */
    public String verificationMethod() {
        return did + "#" + multibase();
    }

    /** @return a copy of the 32-byte public key */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /**
     * Verifies an Ed25519 signature by this key, strictly.
     *
     * @param message signed bytes
     * @param signature 64 bytes
     * @return whether it verifies
     */
    public boolean verify(byte[] message, byte[] signature) {
        return Ed25519.verify(publicKey, message, signature);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DidKey && ((DidKey) o).did.equals(did);
    }

    @Override
    public int hashCode() {
        return did.hashCode();
    }

    @Override
    public String toString() {
        return did;
    }
}
