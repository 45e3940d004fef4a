package cn.consentry.client.credential;

import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.json.Json;
import cn.consentry.client.json.JsonException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Compact JWS with EdDSA (RFC 7515, RFC 8037), strict, keyed by did:key DID URLs in {@code kid}:
 * only {@code alg: EdDSA}, no {@code crit}, explicit {@code typ}, canonical base64url segments,
 * I-JSON header, weak keys and non-canonical signatures refused.
 */
public final class Jws {
    private Jws() {}

    /** A JWS whose signature verified. */
    public static final class Verified {
        private final DidKey signer;
        private final byte[] payload;

        Verified(DidKey signer, byte[] payload) {
            this.signer = signer;
            this.payload = payload;
        }

        /** @return the key that signed */
        public DidKey signer() {
            return signer;
        }

        /** @return the decoded payload bytes */
        public byte[] payload() {
            return payload.clone();
        }

        /** The payload without a copy, for this package's callers that only read it. */
        byte[] payloadUnsafe() {
            return payload;
        }
    }

    /**
     * Signs a payload with header {@code {"typ":typ,"kid":<did:key URL>,"alg":"EdDSA"}} (the reference signer's order).
     *
     * @param payload the payload bytes
     * @param typ the {@code typ} header
     * @param key the signer
     * @return the compact JWS
     */
    public static String sign(byte[] payload, String typ, KeyFile key) {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("typ", typ);
        header.put("kid", key.did().verificationMethod());
        header.put("alg", "EdDSA");
        String input = Encoding.base64Url(Json.write(header).getBytes(StandardCharsets.UTF_8)) + "." + Encoding.base64Url(payload);
        return input + "." + Encoding.base64Url(key.sign(input.getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * Verifies a compact JWS.
     *
     * @param token the token (trailing CR/LF ignored)
     * @param typs accepted {@code typ} values (case-insensitive)
     * @param typOptional whether {@code typ} may be absent
     * @param ctys accepted {@code cty} values; empty means {@code cty} must be absent
     * @return the signer and payload
     * @throws ProofException with the violation code
     */
    public static Verified verify(String token, List<String> typs, boolean typOptional, List<String> ctys) throws ProofException {
        while (token.endsWith("\n") || token.endsWith("\r")) {
            token = token.substring(0, token.length() - 1);
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new ProofException("jws-format", "expected header.payload.signature");
        }
        byte[] headerBytes = segment(parts[0], "header");
        Object header;
        try {
            header = Json.parse(headerBytes);
        } catch (JsonException e) {
            throw new ProofException("malformed-json", e.getMessage());
        }
        if (!(header instanceof Map)) {
            throw new ProofException("jws-header", "not a JSON object");
        }
        Map<?, ?> h = (Map<?, ?>) header;
        Object alg = h.get("alg");
        if (!"EdDSA".equals(alg)) {
            throw new ProofException("jws-algorithm", "algorithm " + (alg instanceof String ? alg : "(missing)") + " is refused: only EdDSA");
        }
        if (h.containsKey("crit")) {
            throw new ProofException("jws-crit", "critical header parameters are refused: " + Json.write(h.get("crit")));
        }
        checkMediaType(h, "typ", typs, typOptional);
        checkMediaType(h, "cty", ctys, true);
        Object kid = h.get("kid");
        if (!(kid instanceof String)) {
            throw new ProofException("jws-missing-kid", "the header has no kid");
        }
        DidKey signer;
        try {
            signer = DidKey.parseVerificationMethod((String) kid);
        } catch (IllegalArgumentException e) {
            throw new ProofException("verification-method", e.getMessage());
        }
        byte[] sig = segment(parts[2], "signature");
        if (sig.length != 64) {
            throw new ProofException("bad-signature", "the signature is not 64 bytes");
        }
        byte[] payload = segment(parts[1], "payload");
        // The signing input, header.payload: ASCII (both segments passed the base64url check).
        byte[] input = token.substring(0, parts[0].length() + 1 + parts[1].length()).getBytes(StandardCharsets.ISO_8859_1);
        if (!signer.verify(input, sig)) {
            throw new ProofException("bad-signature", "the signature does not verify");
        }
        return new Verified(signer, payload);
    }

    /**
     * Verifies a compact JWS (any {@code typ}) under a given Ed25519 key: {@code alg} must be
     * {@code EdDSA}, segments canonical base64url, the signature strict.
     *
     * @param token the compact JWS
     * @param publicKey the 32-byte key
     * @return the payload
     * @throws ProofException {@code jws-format}, {@code jws-base64}, {@code malformed-json},
     *     {@code jws-header}, {@code jws-algorithm}, {@code jws-crit}, {@code weak-key} or {@code bad-signature}
     */
    public static byte[] verifyWithKey(String token, byte[] publicKey) throws ProofException {
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            throw new ProofException("jws-format", "expected header.payload.signature");
        }
        Object header;
        try {
            header = Json.parse(segment(parts[0], "header"));
        } catch (JsonException e) {
            throw new ProofException("malformed-json", e.getMessage());
        }
        if (!(header instanceof Map)) {
            throw new ProofException("jws-header", "not a JSON object");
        }
        if (!"EdDSA".equals(((Map<?, ?>) header).get("alg"))) {
            throw new ProofException("jws-algorithm", "only EdDSA");
        }
        if (((Map<?, ?>) header).containsKey("crit")) {
            throw new ProofException("jws-crit", "critical header parameters are refused");
        }
        byte[] payload = segment(parts[1], "payload");
        byte[] sig = segment(parts[2], "signature");
        try {
            cn.consentry.client.crypto.Ed25519.checkPublicKey(publicKey);
        } catch (IllegalArgumentException e) {
            throw new ProofException("weak-key", e.getMessage());
        }
        if (!cn.consentry.client.crypto.Ed25519.verify(publicKey, (parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII), sig)) {
            throw new ProofException("bad-signature", "the signature does not verify");
        }
        return payload;
    }

    private static void checkMediaType(Map<?, ?> h, String param, List<String> accepted, boolean optional) throws ProofException {
        Object v = h.get(param);
        if (v == null && !h.containsKey(param) && (optional || accepted.isEmpty())) {
            return;
        }
        if (v instanceof String) {
            for (String a : accepted) {
                if (a.equalsIgnoreCase((String) v)) {
                    return;
                }
            }
        }
        throw new ProofException("jws-media-type", param + " " + (v == null ? "(missing)" : Json.write(v))
                + " is not " + (accepted.isEmpty() ? "absent" : String.join(" or ", accepted)));
    }

    private static byte[] segment(String s, String name) throws ProofException {
        try {
            return Encoding.base64UrlDecode(s);
        } catch (IllegalArgumentException e) {
            throw new ProofException("jws-base64", "the " + name + " is not canonical unpadded base64url");
        }
    }
}
