package cn.consentry.client.grant;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.credential.Dates;
import cn.consentry.client.credential.ProofException;
import cn.consentry.client.credential.VerifiedCredential;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.json.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Verifies a grant in either envelope (spec/grant.md §5): the proof (one reason, stops), the VC
 * data model (one reason, stops), then every grant rule and the validity window (all reasons).
 */
public final class GrantVerifier {
    private final Catalog catalog;

    /** @param catalog the catalog to judge grants by */
    public GrantVerifier(Catalog catalog) {
        this.catalog = catalog;
    }

    /** @return a verifier with the built-in catalog */
    public static GrantVerifier withBuiltinCatalog() {
        return new GrantVerifier(Catalog.builtin());
    }

    static GrantException.Violation window(Instant from, Instant until, Instant now) {
        if (now.isBefore(from)) {
            return new GrantException.Violation("not-yet-valid", "valid from " + Dates.formatSeconds(from));
        }
        if (now.isAfter(until)) {
            return new GrantException.Violation("expired", "valid until " + Dates.formatSeconds(until));
        }
        return null;
    }

    /**
     * Verifies a secured grant.
     *
     * @param text the Data Integrity JSON or the VC-JWT, as received
     * @param now the verifier's time
     * @return the verified grant
     * @throws GrantException every reason: the proof's code (e.g. {@code bad-signature}),
     *     {@code vc-data-model}, or the rules' codes
     */
    public VerifiedGrant verify(String text, Instant now) throws GrantException {
        return verifyBounded(text, now).grant();
    }

    /**
     * Verifies a secured grant received as bytes: {@link #verify(String, Instant)} on their UTF-8
     * text. Bytes that are not UTF-8 are refused as the Rust core refuses them: {@code malformed-json}
     * for a JSON document, {@code jws-format} for a JWT, {@code unknown-envelope} otherwise.
     *
     * @param bytes the Data Integrity JSON or the VC-JWT, as received
     * @param now the verifier's time
     * @return the verified grant
     * @throws GrantException every reason, as {@link #verify(String, Instant)}
     */
    public VerifiedGrant verify(byte[] bytes, Instant now) throws GrantException {
        return verify(decode(bytes), now);
    }

    /** Strict UTF-8; not UTF-8: the code the envelope's parser gives (see {@link #verify(byte[], Instant)}). */
    static String decode(byte[] bytes) throws GrantException {
        String text = Json.utf8(bytes);
        if (text != null) {
            return text;
        }
        int i = 0;
        while (i < bytes.length && isAsciiWs(bytes[i])) {
            i++;
        }
        int c = i < bytes.length ? bytes[i] : -1;
        String code = c == '{' ? "malformed-json"
                : (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ? "jws-format"
                : "unknown-envelope";
        throw new GrantException(List.of(new GrantException.Violation(code, "the grant is not UTF-8")));
    }

    static boolean isAsciiWs(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
    }

    /** A verified grant and the instants (inclusive) at which every time check of its verification passes again. */
    record Bounded(VerifiedGrant grant, Instant from, Instant until) {}

    Bounded verifyBounded(String text, Instant now) throws GrantException {
        return verifyBounded(text, null, now);
    }

    /**
     * @param text the grant as received
     * @param digest the SHA-256 of its trimmed UTF-8 bytes when the caller has it, else null
     * @param now the verifier's time
     */
    @SuppressWarnings("unchecked")
    Bounded verifyBounded(String text, byte[] digest, Instant now) throws GrantException {
        String trimmed = Credentials.trim(text); // trimmed once: the proof is verified on it and it is digested
        VerifiedCredential vc;
        try {
            vc = Credentials.verify(trimmed, now);
        } catch (ProofException e) {
            String msg = e.getMessage().startsWith(e.code() + ": ") ? e.getMessage().substring(e.code().length() + 2) : e.getMessage();
            throw new GrantException(List.of(new GrantException.Violation(e.code(), msg)));
        }
        Map<String, Object> doc = vc.document();
        GrantRules.Info info = GrantRules.checkCredential(doc);
        List<GrantException.Violation> v = new ArrayList<>();
        if (!info.issuer().equals(vc.signer().did())) {
            v.add(new GrantException.Violation("issuer", "issuer " + info.issuer() + " did not sign; " + vc.signer() + " did"));
        }
        v.addAll(GrantRules.checkDocument(doc, info, catalog));
        if (info.validFrom() != null && info.validUntil() != null) {
            GrantException.Violation w = window(info.validFrom(), info.validUntil(), now);
            if (w != null) {
                v.add(w);
            }
        }
        if (!v.isEmpty()) {
            throw new GrantException(v);
        }
        if (digest == null) {
            byte[] utf8 = Encoding.utf8(trimmed); // never null here: a lone surrogate does not verify
            digest = Catalog.sha256(utf8 != null ? utf8 : trimmed.getBytes(StandardCharsets.UTF_8));
        }
        String digestHex = Encoding.hex(digest);
        Map<String, Object> terms = (Map<String, Object>) doc.get("credentialSubject");
        Map<String, Object> rev = null;
        Map<String, Object> sus = null;
        for (Object o : (List<?>) doc.get("credentialStatus")) {
            Map<String, Object> e = (Map<String, Object>) o;
            if ("revocation".equals(e.get("statusPurpose"))) {
                rev = e;
            } else {
                sus = e;
            }
        }
        VerifiedGrant g = new VerifiedGrant(info.id(), digestHex, vc.signer(), vc.signedAt(), vc.envelope(),
                (String) ((Map<String, Object>) terms.get("enterprise")).get("uscc"), terms, info.validFrom(), info.validUntil(), rev, sus);
        Instant from = vc.timeBoundsFrom().isAfter(info.validFrom()) ? vc.timeBoundsFrom() : info.validFrom();
        Instant until = vc.timeBoundsUntil().isBefore(info.validUntil()) ? vc.timeBoundsUntil() : info.validUntil();
        return new Bounded(g, from, until);
    }

    /** @return the catalog grants are judged by */
    public Catalog catalog() {
        return catalog;
    }
}
