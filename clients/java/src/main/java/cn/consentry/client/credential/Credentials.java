package cn.consentry.client.credential;

import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import cn.consentry.client.json.JsonException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Securing and verifying Verifiable Credentials in the two envelopes of spec/grant.md §2.3:
 * Data Integrity with {@code eddsa-jcs-2022}, and VC-JWT. Verification here is the proof step
 * only (step 1 of spec/grant.md §5); grants add the data-model and rule checks
 * ({@link cn.consentry.client.grant.GrantVerifier}).
 */
public final class Credentials {
    /** Clock skew allowed for {@code created}, {@code iat}, {@code nbf}, {@code exp}. */
    public static final Duration SKEW = Duration.ofMinutes(5);
    private static final List<String> JWT_CLAIMS = List.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti");

    private Credentials() {}

    /** @return the issuer's id: {@code issuer} as a string or {@code issuer.id}; null if neither */
    static String issuerId(Map<String, Object> doc) {
        Object i = doc.get("issuer");
        if (i instanceof String) {
            return (String) i;
        }
        if (i instanceof Map && ((Map<?, ?>) i).get("id") instanceof String) {
            return (String) ((Map<?, ?>) i).get("id");
        }
        return null;
    }

    private static void checkIssuerForSigning(Map<String, Object> doc, KeyFile key) {
        String issuer = issuerId(doc);
        if (issuer != null && issuer.startsWith("did:key:") && !issuer.equals(key.did().did())) {
            throw new IllegalArgumentException("the issuer " + issuer + " is not the signing key " + key.did());
        }
        if (doc.containsKey("proof")) {
            throw new IllegalArgumentException("the document already has a proof");
        }
    }

    static byte[] hashData(Map<String, Object> proofOptions, Map<String, Object> document) {
        byte[] out = new byte[64];
        System.arraycopy(Jcs.sha256(proofOptions), 0, out, 0, 32);
        System.arraycopy(Jcs.sha256(document), 0, out, 32, 32);
        return out;
    }

    /**
     * Adds an eddsa-jcs-2022 proof (vc-di-eddsa §3.3.1, with the document's {@code @context}
     * copied into the proof options). Deterministic for a given key, document and time.
     *
     * @param unsecured the credential (not modified)
     * @param key the issuer's key
     * @param created the proof's {@code created} (whole seconds are written)
     * @return the secured document
     * @throws IllegalArgumentException if the document has a proof or a did:key issuer other than the key
     */
    public static Map<String, Object> signDataIntegrity(Map<String, Object> unsecured, KeyFile key, Instant created) {
        checkIssuerForSigning(unsecured, key);
        Map<String, Object> proof = new LinkedHashMap<>();
        proof.put("type", "DataIntegrityProof");
        proof.put("cryptosuite", "eddsa-jcs-2022");
        proof.put("created", Dates.formatSeconds(created));
        proof.put("verificationMethod", key.did().verificationMethod());
        proof.put("proofPurpose", "assertionMethod");
        if (unsecured.containsKey("@context")) {
            proof.put("@context", unsecured.get("@context"));
        }
        byte[] sig = key.sign(hashData(proof, unsecured));
        proof.put("proofValue", "z" + Encoding.base58(sig));
        Map<String, Object> secured = new LinkedHashMap<>(unsecured);
        secured.put("proof", proof);
        return secured;
    }

    /**
     * Signs a credential as a VC-JWT: header {@code {"typ":"vc+jwt","kid":…,"alg":"EdDSA"}},
     * payload the credential plus {@code iss} and {@code iat}, compact JSON in the credential's
     * member order (byte for byte what the reference signer writes for the same input).
     *
     * @param unsecured the credential
     * @param key the issuer's key
     * @param issuedAt {@code iat}
     * @return the compact JWS
     */
    public static String signVcJwt(Map<String, Object> unsecured, KeyFile key, Instant issuedAt) {
        checkIssuerForSigning(unsecured, key);
        Map<String, Object> claims = new LinkedHashMap<>(unsecured);
        String issuer = issuerId(unsecured);
        if (issuer != null) {
            claims.put("iss", issuer);
        }
        claims.put("iat", issuedAt.getEpochSecond());
        return Jws.sign(Json.write(claims).getBytes(StandardCharsets.UTF_8), "vc+jwt", key);
    }

    /**
     * Detects the envelope (spec/grant.md §2.3) and verifies the proof.
     *
     * @param text the secured credential
     * @param now the verifier's time
     * @return the verified credential
     * @throws ProofException with the violation code
     */
    public static VerifiedCredential verify(String text, Instant now) throws ProofException {
        String t = stripAsciiWhitespace(text);
        if (t.startsWith("{")) {
            Object doc;
            try {
                doc = Json.parse(t);
            } catch (JsonException e) {
                throw new ProofException("malformed-json", e.getMessage());
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) doc;
            return verifyDataIntegrity(m, now);
        }
        if (!t.isEmpty()) {
            char c = t.charAt(0);
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
                return verifyVcJwt(t, now);
            }
        }
        throw new ProofException("unknown-envelope", "neither a JSON document nor a compact JWS");
    }

    /**
     * The text a credential is verified (and a grant digested) as: surrounding ASCII whitespace
     * (space, tab, LF, CR, FF) removed.
     *
     * @param s the credential as received
     * @return it trimmed
     */
    public static String trim(String s) {
        return stripAsciiWhitespace(s);
    }

    static String stripAsciiWhitespace(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isAsciiWs(s.charAt(a))) {
            a++;
        }
        while (b > a && isAsciiWs(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    private static boolean isAsciiWs(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    }

    private static String requiredStr(Map<?, ?> proof, String name) throws ProofException {
        Object v = proof.get(name);
        if (!(v instanceof String)) {
            throw new ProofException("proof-option", "the proof has no string " + name);
        }
        return (String) v;
    }

    private static List<?> contextList(Object v) {
        return v instanceof List ? (List<?>) v : List.of(v);
    }

    /**
     * Verifies an eddsa-jcs-2022 Data Integrity proof (vc-di-eddsa §3.3.2 and spec/grant.md
     * §2.3.1), including that a did:key issuer is the signer.
     *
     * @param secured the parsed document
     * @param now the verifier's time
     * @return the verified credential
     * @throws ProofException with the violation code
     */
    @SuppressWarnings("unchecked")
    public static VerifiedCredential verifyDataIntegrity(Map<String, Object> secured, Instant now) throws ProofException {
        Object p = secured.get("proof");
        if (p instanceof List) {
            throw new ProofException("proof-set", "proof sets and chains are refused");
        }
        if (p == null && !secured.containsKey("proof")) {
            throw new ProofException("missing-proof", "the document has no proof");
        }
        if (!(p instanceof Map)) {
            throw new ProofException("proof-option", "proof is not an object");
        }
        Map<String, Object> proof = (Map<String, Object>) p;
        String proofValue = requiredStr(proof, "proofValue");
        String type = requiredStr(proof, "type");
        if (!type.equals("DataIntegrityProof")) {
            throw new ProofException("proof-type", "proof type " + type + " is not DataIntegrityProof");
        }
        String suite = requiredStr(proof, "cryptosuite");
        if (!suite.equals("eddsa-jcs-2022")) {
            throw new ProofException("wrong-cryptosuite", "cryptosuite " + suite + " is not eddsa-jcs-2022");
        }
        byte[] sig;
        try {
            if (!proofValue.startsWith("z")) {
                throw new IllegalArgumentException("multibase value must be base58-btc with the 'z' prefix");
            }
            sig = Encoding.base58Decode(proofValue.substring(1));
        } catch (IllegalArgumentException e) {
            throw new ProofException("proof-value", e.getMessage());
        }
        if (sig.length != 64) {
            throw new ProofException("proof-value", "proofValue decodes to " + sig.length + " bytes, not 64");
        }
        Object proofCtx = proof.get("@context");
        boolean hasProofCtx = proof.containsKey("@context");
        if (hasProofCtx) {
            if (!secured.containsKey("@context")) {
                throw new ProofException("context-mismatch", "the document has no @context");
            }
            List<?> pc = contextList(proofCtx);
            List<?> dc = contextList(secured.get("@context"));
            if (pc.size() > dc.size() || !dc.subList(0, pc.size()).equals(pc)) {
                throw new ProofException("context-mismatch", "the document's @context does not begin with the proof's");
            }
        }
        String createdText = requiredStr(proof, "created");
        Instant created;
        try {
            created = Dates.parseStamp(createdText);
        } catch (IllegalArgumentException e) {
            throw new ProofException("proof-created", e.getMessage());
        }
        if (created.isAfter(now.plus(SKEW))) {
            throw new ProofException("proof-created-in-future", "created " + createdText + " is in the future");
        }
        Instant until = Instant.MAX;
        if (proof.containsKey("expires")) {
            Object e = proof.get("expires");
            if (!(e instanceof String)) {
                throw new ProofException("proof-option", "expires is not a string");
            }
            Instant at;
            try {
                at = Dates.parseStamp((String) e);
            } catch (IllegalArgumentException ex) {
                throw new ProofException("proof-expires", ex.getMessage());
            }
            if (!at.isAfter(now)) {
                throw new ProofException("proof-expired", "the proof expired at " + e);
            }
            until = at.minusNanos(1);
        }
        String purpose = requiredStr(proof, "proofPurpose");
        if (!purpose.equals("assertionMethod")) {
            throw new ProofException("proof-purpose", "proofPurpose " + purpose + " is not assertionMethod");
        }
        String vm = requiredStr(proof, "verificationMethod");
        DidKey signer;
        try {
            signer = DidKey.parseVerificationMethod(vm);
        } catch (IllegalArgumentException e) {
            throw new ProofException("verification-method", e.getMessage());
        }
        Map<String, Object> options = new LinkedHashMap<>(proof);
        options.remove("proofValue");
        Map<String, Object> doc = new LinkedHashMap<>(secured);
        doc.remove("proof");
        if (hasProofCtx) {
            doc.put("@context", proofCtx);
        }
        byte[] hash;
        try {
            hash = hashData(options, doc);
        } catch (IllegalArgumentException e) {
            throw new ProofException("canonicalization", e.getMessage());
        }
        if (!signer.verify(hash, sig)) {
            throw new ProofException("bad-signature", "the proof's signature does not verify");
        }
        checkIssuerIsSigner(doc, signer);
        return new VerifiedCredential(doc, signer, created, VerifiedCredential.Envelope.DATA_INTEGRITY, created.minus(SKEW), until);
    }

    private static void checkIssuerIsSigner(Map<String, Object> doc, DidKey signer) throws ProofException {
        String issuer = issuerId(doc);
        if (issuer != null && issuer.startsWith("did:key:") && !issuer.equals(signer.did())) {
            throw new ProofException("issuer-mismatch", "the issuer " + issuer + " did not sign; " + signer + " did");
        }
    }

    /**
     * Verifies a VC-JWT (spec/grant.md §2.3.2), including that a did:key issuer is the signer.
     *
     * @param token the compact JWS
     * @param now the verifier's time
     * @return the verified credential (payload without registered claims)
     * @throws ProofException with the violation code
     */
    @SuppressWarnings("unchecked")
    public static VerifiedCredential verifyVcJwt(String token, Instant now) throws ProofException {
        Jws.Verified v = Jws.verify(token, List.of("vc+jwt", "application/vc+jwt"), true, List.of("vc", "application/vc"));
        Object payload;
        try {
            payload = Json.parse(v.payloadUnsafe());
        } catch (JsonException e) {
            throw new ProofException("malformed-json", e.getMessage());
        }
        if (!(payload instanceof Map)) {
            throw new ProofException("jwt-claim", "the payload is not a JSON object");
        }
        Map<String, Object> doc = new LinkedHashMap<>((Map<String, Object>) payload);
        for (String f : List.of("vc", "vp")) {
            if (doc.containsKey(f)) {
                throw new ProofException("jwt-forbidden-claim", "claim " + f + " is not allowed");
            }
        }
        String issuer = issuerId(doc);
        if (issuer == null) {
            throw new ProofException("missing-issuer", "the payload has no issuer");
        }
        if (doc.containsKey("iss")) {
            if (!(doc.get("iss") instanceof String)) {
                throw new ProofException("jwt-claim", "iss is not a string");
            }
            if (!doc.get("iss").equals(issuer)) {
                throw new ProofException("jwt-iss-mismatch", "iss " + doc.get("iss") + " is not the issuer " + issuer);
            }
        }
        long skew = SKEW.getSeconds();
        long nowS = now.getEpochSecond();
        Long exp = numericDate(doc, "exp");
        if (exp != null && nowS >= exp + skew) {
            throw new ProofException("jwt-expired", "the token expired at " + exp);
        }
        Long nbf = numericDate(doc, "nbf");
        if (nbf != null && nowS + skew < nbf) {
            throw new ProofException("jwt-not-before", "the token is not valid before " + nbf);
        }
        Long iat = numericDate(doc, "iat");
        if (iat != null && nowS + skew < iat) {
            throw new ProofException("jwt-issued-in-future", "the token was issued in the future (" + iat + ")");
        }
        for (String c : JWT_CLAIMS) {
            doc.remove(c);
        }
        checkIssuerIsSigner(doc, v.signer());
        // The checks above pass exactly while nowS is within [max(nbf, iat) − skew, exp + skew − 1].
        long low = Math.max(nbf == null ? Long.MIN_VALUE : nbf, iat == null ? Long.MIN_VALUE : iat);
        Instant from = low == Long.MIN_VALUE ? Instant.MIN : epochSecondClamped(low, -skew);
        Instant until = exp == null ? Instant.MAX : epochSecondClamped(exp, skew).minusNanos(1);
        return new VerifiedCredential(doc, v.signer(), iat == null ? null : Instant.ofEpochSecond(iat), VerifiedCredential.Envelope.VC_JWT, from, until);
    }

    /** {@code s + d} seconds since the epoch, clamped to {@link Instant#MIN} … {@link Instant#MAX}. */
    private static Instant epochSecondClamped(long s, long d) {
        long t;
        try {
            t = Math.addExact(s, d);
        } catch (ArithmeticException e) {
            return d < 0 ? Instant.MIN : Instant.MAX;
        }
        if (t < Instant.MIN.getEpochSecond()) {
            return Instant.MIN;
        }
        return t > Instant.MAX.getEpochSecond() ? Instant.MAX : Instant.ofEpochSecond(t);
    }

    private static Long numericDate(Map<String, Object> claims, String name) throws ProofException {
        if (!claims.containsKey(name)) {
            return null;
        }
        Object v = claims.get(name);
        if (v instanceof Long) {
            return (Long) v;
        }
        if (v instanceof Double && Math.abs((Double) v) < 1e15) {
            return (long) Math.floor((Double) v);
        }
        throw new ProofException("jwt-claim", name + " is not a NumericDate");
    }

    /** Exposed for tests and the conformance runner: the 64-byte hashData of creation step 3. */
    static List<byte[]> hashParts(Map<String, Object> options, Map<String, Object> doc) {
        List<byte[]> l = new ArrayList<>();
        l.add(Jcs.sha256(options));
        l.add(Jcs.sha256(doc));
        return l;
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
