package cn.consentry.client;

import static org.junit.jupiter.api.Assertions.*;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.grant.Catalog;
import cn.consentry.client.grant.GrantException;
import cn.consentry.client.grant.GrantVerifier;
import cn.consentry.client.grant.VerifiedGrant;
import cn.consentry.client.grant.VerifiedGrantCache;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * {@link VerifiedGrantCache}: a hit is what {@link GrantVerifier#verify} returns; time is checked
 * on every call; failures are not cached; the capacity holds; whitespace variants share an entry
 * exactly when the verifier treats them alike.
 */
class VerifiedGrantCacheTest {
    static final Instant AT = Instant.parse("2027-01-01T00:00:00Z");
    static final String DI = Vectors.text("spec/examples/grant.signed.di.json");
    static final String JWT = Vectors.text("spec/examples/grant.signed.jwt");
    static final GrantVerifier VERIFIER = GrantVerifier.withBuiltinCatalog();

    /** Both throw a GrantException with the same violations; returns the cached call's. */
    static GrantException sameError(Executable cached, Executable uncached) {
        GrantException want = assertThrows(GrantException.class, uncached);
        GrantException got = assertThrows(GrantException.class, cached);
        assertEquals(want.violations(), got.violations());
        assertEquals(want.getMessage(), got.getMessage());
        return got;
    }

    static KeyFile exampleKey() throws Exception {
        return KeyFile.read(Vectors.repo().resolve("spec/examples/enterprise.key.json"));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> unsigned() {
        return (Map<String, Object>) Json.parse(Vectors.text("spec/examples/grant.unsigned.json"));
    }

    @Test
    void aHitIsTheUncachedGrant() throws Exception {
        for (String text : List.of(DI, JWT)) {
            VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
            VerifiedGrant first = cache.verify(text, AT);
            assertEquals(List.of(1L, 0L, 1), List.of(cache.misses(), cache.hits(), cache.size()));
            VerifiedGrant again = cache.verify(text.getBytes(StandardCharsets.UTF_8), AT.plus(Duration.ofDays(30)));
            assertSame(first, again);
            assertEquals(List.of(1L, 1L), List.of(cache.misses(), cache.hits()));
            assertEquals(VERIFIER.verify(text, AT), again);
            assertEquals(VERIFIER.verify(text.getBytes(StandardCharsets.UTF_8), AT), again);
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(text.strip().getBytes(StandardCharsets.UTF_8));
            assertEquals(Encoding.hex(sha), again.digestHex());
        }
    }

    @Test
    void theWindowAndTheProofsTimesAreCheckedOnEveryHit() throws Exception {
        for (String text : List.of(DI, JWT)) {
            VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
            VerifiedGrant g = cache.verify(text, AT);
            boolean di = text.startsWith("{");
            Map<Instant, String> cases = new LinkedHashMap<>();
            cases.put(g.validUntil().plusSeconds(1), "expired");
            cases.put(Instant.parse("2030-01-01T00:00:00Z"), "expired");
            cases.put(g.validFrom().minusNanos(1), "not-yet-valid");
            // Before the proof's created (2026-11-30T08:00Z) less the skew: the proof's own error.
            cases.put(Instant.parse("2026-11-30T07:54:59Z"), di ? "proof-created-in-future" : "jwt-issued-in-future");
            for (Map.Entry<Instant, String> c : cases.entrySet()) {
                GrantException e = sameError(() -> cache.verify(text, c.getKey()), () -> VERIFIER.verify(text, c.getKey()));
                assertEquals(c.getValue(), e.code(), c.getKey().toString());
                GrantException b = sameError(() -> cache.verify(text.getBytes(StandardCharsets.UTF_8), c.getKey()), () -> VERIFIER.verify(text, c.getKey()));
                assertEquals(c.getValue(), b.code());
            }
            assertSame(g, cache.verify(text, g.validUntil()));
            assertSame(g, cache.verify(text, g.validFrom()));
            assertEquals(1, cache.size());
        }
    }

    @Test
    void aProofThatEndsBeforeValidUntilIsRefusedOnAHit() throws Exception {
        KeyFile key = exampleKey();
        Map<String, Object> claims = unsigned();
        claims.put("exp", Instant.parse("2027-02-01T00:00:00Z").getEpochSecond());
        String jwt = Credentials.signVcJwt(claims, key, Instant.parse("2026-11-30T08:00:00Z"));
        // A Data Integrity proof with expires, signed by hand (signDataIntegrity writes none).
        Map<String, Object> doc = unsigned();
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("type", "DataIntegrityProof");
        options.put("cryptosuite", "eddsa-jcs-2022");
        options.put("created", "2026-11-30T08:00:00Z");
        options.put("expires", "2027-03-01T00:00:00Z");
        options.put("verificationMethod", key.did().verificationMethod());
        options.put("proofPurpose", "assertionMethod");
        options.put("@context", doc.get("@context"));
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        byte[] hashData = new byte[64];
        System.arraycopy(sha.digest(Jcs.canonicalBytes(options)), 0, hashData, 0, 32);
        System.arraycopy(sha.digest(Jcs.canonicalBytes(doc)), 0, hashData, 32, 32);
        Map<String, Object> proof = new LinkedHashMap<>(options);
        proof.put("proofValue", "z" + Encoding.base58(key.sign(hashData)));
        Map<String, Object> secured = new LinkedHashMap<>(doc);
        secured.put("proof", proof);
        String di = Jcs.canonicalize(secured);
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
        for (Object[] c : List.of(
                new Object[] {jwt, Instant.parse("2027-02-01T00:05:00Z"), "jwt-expired"},
                new Object[] {di, Instant.parse("2027-03-01T00:00:00Z"), "proof-expired"})) {
            String text = (String) c[0];
            Instant late = (Instant) c[1];
            VerifiedGrant g = cache.verify(text, AT);
            assertTrue(late.isBefore(g.validUntil()));
            assertEquals(c[2], sameError(() -> cache.verify(text, late), () -> VERIFIER.verify(text, late)).code());
            assertSame(g, cache.verify(text, late.minusNanos(1)));
        }
        assertEquals(4, cache.misses());
    }

    @Test
    void oneByteChangedIsVerifiedAfreshAndFails() throws Exception {
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
        cache.verify(DI, AT);
        int i = DI.indexOf("credit-approval");
        String changed = DI.substring(0, i) + "C" + DI.substring(i + 1);
        assertEquals("bad-signature", sameError(() -> cache.verify(changed, AT), () -> VERIFIER.verify(changed, AT)).code());
        assertEquals(List.of(2L, 1), List.of(cache.misses(), cache.size()));
        byte[] flipped = JWT.strip().getBytes(StandardCharsets.UTF_8);
        flipped[flipped.length - 20] = (byte) (flipped[flipped.length - 20] == 'A' ? 'B' : 'A');
        sameError(() -> cache.verify(flipped, AT), () -> VERIFIER.verify(flipped, AT));
        assertEquals(List.of(3L, 1), List.of(cache.misses(), cache.size()));
    }

    @Test
    void failuresAreNotCached() throws Exception {
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
        String bad = Vectors.text("spec/examples/grant.invalid.bank-raw.di.json");
        for (int i = 0; i < 3; i++) {
            assertEquals("bank-raw-non-public", sameError(() -> cache.verify(bad, AT), () -> VERIFIER.verify(bad, AT)).code());
        }
        assertEquals(List.of(3L, 0L, 0), List.of(cache.misses(), cache.hits(), cache.size()));
        Instant late = Instant.parse("2028-01-01T00:00:00Z");
        sameError(() -> cache.verify(DI, late), () -> VERIFIER.verify(DI, late));
        assertEquals(0, cache.size());
        // Not UTF-8: refused as the Rust core refuses it, by the uncached path too.
        byte[] notUtf8 = DI.replace("杭州", "\u0000\u0000").getBytes(StandardCharsets.UTF_8);
        for (int k = 0; k < notUtf8.length; k++) {
            if (notUtf8[k] == 0) {
                notUtf8[k] = (byte) 0xff;
            }
        }
        assertEquals("malformed-json", sameError(() -> cache.verify(notUtf8, AT), () -> VERIFIER.verify(notUtf8, AT)).code());
        assertEquals(0, cache.size());
    }

    @Test
    void atCapacityItStartsAfresh() throws Exception {
        assertThrows(IllegalArgumentException.class, () -> new VerifiedGrantCache(VERIFIER, 0));
        String third = Credentials.signVcJwt(unsigned(), exampleKey(), Instant.parse("2026-11-30T09:00:00Z"));
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER, 2);
        cache.verify(DI, AT);
        cache.verify(JWT, AT);
        cache.verify(DI, AT);
        assertEquals(List.of(2, 2L), List.of(cache.size(), cache.misses()));
        cache.verify(third, AT);
        assertEquals(1, cache.size());
        cache.verify(third, AT);
        assertEquals(3L, cache.misses());
        cache.verify(DI, AT);
        assertEquals(List.of(2, 4L), List.of(cache.size(), cache.misses()));
    }

    @Test
    void theCapacityHoldsUnderConcurrentInserts() throws Exception {
        KeyFile key = exampleKey();
        List<String> grants = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            grants.add(Credentials.signVcJwt(unsigned(), key, Instant.parse("2026-11-30T08:00:00Z").plusSeconds(i)));
        }
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER, 5);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<VerifiedGrant>> out = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (String g : grants) {
                    out.add(pool.submit(() -> cache.verify(g, AT)));
                }
            }
            for (Future<VerifiedGrant> f : out) {
                assertNotNull(f.get());
                assertTrue(cache.size() <= 5, "size " + cache.size());
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(72L, cache.hits() + cache.misses());
        assertTrue(cache.size() >= 1 && cache.size() <= 5);
    }

    @Test
    void whitespaceVariantsShareAnEntryIffTheVerifierTreatsThemAlike() throws Exception {
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
        for (String text : List.of(DI, JWT)) {
            VerifiedGrant base = VERIFIER.verify(text, AT);
            for (String v : List.of(text.strip(), " \t\r\n" + text + "\n\n", "\f" + text + "\f")) {
                assertEquals(base, VERIFIER.verify(v, AT));
                assertEquals(base, cache.verify(v, AT));
                assertEquals(base, cache.verify(v.getBytes(StandardCharsets.UTF_8), AT));
            }
        }
        assertEquals(List.of(2, 2L), List.of(cache.size(), cache.misses()));
        for (String text : List.of(DI, JWT)) {
            // Whitespace beyond ASCII is not trimmed (String.strip would): refused, and not cached.
            for (String v : List.of("\u00a0" + text, "\u2003" + text, text.strip() + "\u000b", text.strip() + "\u2028")) {
                sameError(() -> cache.verify(v, AT), () -> VERIFIER.verify(v, AT));
                sameError(() -> cache.verify(v.getBytes(StandardCharsets.UTF_8), AT), () -> VERIFIER.verify(v.getBytes(StandardCharsets.UTF_8), AT));
            }
        }
        assertEquals(List.of(2, 18L), List.of(cache.size(), cache.misses()));
    }

    @Test
    void textWithALoneSurrogateIsVerifiedUncached() throws Exception {
        // A grant whose name holds '?', signed; the same text with a lone surrogate in its place
        // encodes to the same bytes under String.getBytes (which writes '?'), so to the same key.
        Map<String, Object> doc = unsigned();
        @SuppressWarnings("unchecked")
        Map<String, Object> ent = (Map<String, Object>) ((Map<String, Object>) doc.get("credentialSubject")).get("enterprise");
        ent.put("name", "杭州示例?科技有限公司");
        String signed = Jcs.canonicalize(Credentials.signDataIntegrity(doc, exampleKey(), Instant.parse("2026-11-30T08:00:00Z")));
        String lone = signed.replace("?", "\ud800");
        assertArrayEquals(signed.getBytes(StandardCharsets.UTF_8), lone.getBytes(StandardCharsets.UTF_8));
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
        VerifiedGrant g = cache.verify(signed, AT);
        // The JSON parser refuses a lone surrogate: uncached this is malformed-json, and so from the cache.
        assertEquals("malformed-json", sameError(() -> cache.verify(lone, AT), () -> VERIFIER.verify(lone, AT)).code());
        assertEquals(0L, cache.hits());
        assertSame(g, cache.verify(signed, AT));
    }

    @Test
    void aJwtWithALoneSurrogateOrAQuestionMarkIsRefusedAsUncachedAndNotCached() throws Exception {
        // A VC-JWT's bytes come from String.getBytes, which writes '?' for a lone surrogate.
        VerifiedGrantCache cache = new VerifiedGrantCache(VERIFIER);
        VerifiedGrant g = cache.verify(JWT, AT);
        int dot = JWT.indexOf('.') + 10;
        for (String bad : List.of(JWT.substring(0, dot) + "\ud800" + JWT.substring(dot + 1), JWT.substring(0, dot) + "?" + JWT.substring(dot + 1),
                "\udc00" + JWT, JWT.strip() + "\ud800")) {
            sameError(() -> cache.verify(bad, AT), () -> VERIFIER.verify(bad, AT));
        }
        assertEquals(List.of(1, 0L, 5L), List.of(cache.size(), cache.hits(), cache.misses()));
        assertSame(g, cache.verify(JWT, AT));
    }

    @Test
    void theCatalogIsBoundAtConstruction() throws Exception {
        Map<String, Object> cat = Json.parseObject(Vectors.text("spec/catalog.json"));
        List<Object> purposes = new ArrayList<>((List<?>) cat.get("purposes"));
        purposes.removeIf(p -> "credit-approval".equals(((Map<?, ?>) p).get("code")));
        cat.put("purposes", purposes);
        GrantVerifier narrow = new GrantVerifier(Catalog.parse(Json.write(cat), Vectors.text("spec/letters.json")));
        VerifiedGrantCache wide = new VerifiedGrantCache(VERIFIER);
        VerifiedGrantCache strict = new VerifiedGrantCache(narrow);
        assertSame(narrow, strict.verifier());
        wide.verify(DI, AT);
        assertEquals("unknown-purpose", sameError(() -> strict.verify(DI, AT), () -> narrow.verify(DI, AT)).code());
        assertEquals(List.of(1, 0), List.of(wide.size(), strict.size()));
    }
}
