package cn.consentry.client;

import static org.junit.jupiter.api.Assertions.*;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.credential.ProofException;
import cn.consentry.client.credential.VerifiedCredential;
import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Ed25519;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import cn.consentry.client.json.JsonException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoreTest {
    static final Instant NOW = Instant.parse("2027-01-01T00:00:00Z");

    @Test
    void jcsMatchesTheRfc8785Files() {
        for (String n : List.of("arrays", "french", "structures", "unicode", "values", "weird")) {
            Object v = Json.parse(Vectors.bytes("spec/vectors/jcs-rfc8785/input/" + n + ".json"));
            String want = new String(Vectors.bytes("spec/vectors/jcs-rfc8785/output/" + n + ".json"), StandardCharsets.UTF_8);
            assertEquals(want, Jcs.canonicalize(v), n);
        }
    }

    @Test
    void numbersFormatAsEcmascript() {
        String[] lines = Vectors.text("spec/vectors/derived/jcs-numbers.es6.csv").split("\n");
        int n = 0;
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].split(",");
            double d = Double.longBitsToDouble(Long.parseUnsignedLong(f[0], 16));
            assertEquals(f[1], Jcs.formatNumber(d), "bits " + f[0]);
            double parsed = Double.parseDouble(f[2]);
            if (parsed != 0) {
                assertEquals(Long.parseUnsignedLong(f[0], 16), Double.doubleToRawLongBits(parsed), f[2]);
            }
            n++;
        }
        assertTrue(n > 7000);
        Map<?, ?> b = (Map<?, ?>) Json.parse(Vectors.text("spec/vectors/jcs-rfc8785/rfc8785-appendix-b-numbers.json"));
        for (Object o : (List<?>) b.get("samples")) {
            Map<?, ?> s = (Map<?, ?>) o;
            double d = Double.longBitsToDouble(Long.parseUnsignedLong((String) s.get("ieee754Hex"), 16));
            if (Double.isFinite(d)) {
                assertEquals(s.get("expected"), Jcs.formatNumber(d));
            }
        }
    }

    @Test
    void strictJsonRefusesDuplicatesAndUnsafeIntegers() {
        JsonException e = assertThrows(JsonException.class, () -> Json.parse("{\"a\":1,\"b\":{\"c\":1,\"c\":2}}"));
        assertEquals(JsonException.Kind.DUPLICATE_KEY, e.kind());
        e = assertThrows(JsonException.class, () -> Json.parse("9007199254740993"));
        assertEquals(JsonException.Kind.UNSAFE_INTEGER, e.kind());
        assertTrue(e.getMessage().contains("9007199254740992"), e.getMessage());
        assertEquals(1e21, Json.parse("1000000000000000000000"));
        assertEquals("1e+21", Jcs.canonicalize(Json.parse("1000000000000000000000")));
        assertEquals(-8970681694652454000.0, Json.parse("-8970681694652454000"));
        assertEquals(9007199254740991L, Json.parse("9007199254740991"));
        for (String bad : List.of("01", "1.", "[1,]", "{\"a\":1,}", "\"\\ud800\"", "nul", "\"a\u0001\"", "[1] x", "1e999")) {
            assertThrows(JsonException.class, () -> Json.parse(bad), bad);
        }
        assertThrows(JsonException.class, () -> Json.parse(new byte[] {'"', (byte) 0xff, '"'}));
    }

    @Test
    void ed25519MatchesRfc8032AndIsStrict() {
        Map<?, ?> v = (Map<?, ?>) Json.parse(Vectors.text("spec/vectors/rfc8032/section-7.1-tests-1-3.json"));
        for (Object o : (List<?>) v.get("tests")) {
            Map<?, ?> t = (Map<?, ?>) o;
            byte[] seed = Encoding.hexDecode((String) t.get("secretKeyHex"));
            byte[] pub = Encoding.hexDecode((String) t.get("publicKeyHex"));
            byte[] msg = Encoding.hexDecode((String) t.get("messageHex"));
            byte[] sig = Encoding.hexDecode((String) t.get("signatureHex"));
            assertArrayEquals(pub, Ed25519.publicKeyOf(seed));
            assertArrayEquals(sig, Ed25519.sign(seed, msg));
            assertTrue(Ed25519.verify(pub, msg, sig));
            byte[] other = msg.clone().length == 0 ? new byte[] {1} : msg.clone();
            if (msg.length > 0) {
                other[0] ^= 1;
            }
            assertFalse(Ed25519.verify(pub, other, sig));
        }
        // The identity key with R = identity, S = 0 "verifies" every message under a lax verifier.
        byte[] identity = new byte[32];
        identity[0] = 1;
        byte[] forged = new byte[64];
        forged[0] = 1;
        assertFalse(Ed25519.verify(identity, "anything".getBytes(StandardCharsets.UTF_8), forged));
        assertThrows(Ed25519.KeyException.class, () -> DidKey.fromPublicKey(identity));
    }

    @Test
    void didKeyRoundTripAndRefusals() {
        DidKey k = DidKey.parse("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
        assertEquals(k, DidKey.fromPublicKey(k.publicKey()));
        assertEquals(k, DidKey.parseVerificationMethod(k.verificationMethod()));
        assertThrows(IllegalArgumentException.class, () -> DidKey.parse("did:key:z6MkeXATEjyXENzBXBxgC5EHk2JE5aqd7qMGGtDpLUH1e2Sj"));
        assertThrows(IllegalArgumentException.class, () -> DidKey.parse("did:key:1:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"));
        assertThrows(IllegalArgumentException.class, () -> DidKey.parseVerificationMethod(k.did() + "#key-1"));
        // An X25519 did:key (multicodec ec01) is not an Ed25519 key.
        assertThrows(IllegalArgumentException.class, () -> DidKey.parse("did:key:z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"));
        Map<?, ?> ccg = (Map<?, ?>) Json.parse(Vectors.text("spec/vectors/did-key/ed25519-x25519.ccg-did-method-key.json"));
        for (Map.Entry<?, ?> e : ccg.entrySet()) {
            String seed = (String) ((Map<?, ?>) e.getValue()).get("seed");
            assertEquals(e.getKey(), KeyFile.fromSeed(Encoding.hexDecode(seed)).did().did());
        }
    }

    @Test
    void keyFileRoundTrip(@TempDir Path dir) throws Exception {
        KeyFile ex = KeyFile.read(Vectors.repo().resolve("spec/examples/enterprise.key.json"));
        assertEquals("did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu", ex.did().did());
        assertFalse(ex.toString().contains("z3u2"));
        KeyFile k = KeyFile.generate();
        Path p = dir.resolve("k.json");
        k.writeNew(p);
        assertEquals(k.did(), KeyFile.read(p).did());
        assertThrows(java.nio.file.FileAlreadyExistsException.class, () -> k.writeNew(p));
        String tampered = Files.readString(p).replace(k.did().did(), ex.did().did());
        assertThrows(IllegalArgumentException.class, () -> KeyFile.parse(tampered));
    }

    @Test
    void base64urlIsCanonical() {
        assertArrayEquals(new byte[] {(byte) 0xfb, (byte) 0xff}, Encoding.base64UrlDecode("-_8"));
        assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("-_9"));
        assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("-_8="));
        assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("+/8"));
        assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("A"));
        // Every last character after 1, 2 and 3 characters: accepted exactly when the bytes re-encode
        // to the same text (the JDK's encoder as the oracle).
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (String prefix : new String[] {"Q", "Qk", "QkN", "QkNEQ"}) {
            for (char c : alphabet.toCharArray()) {
                String text = prefix + c;
                byte[] lax = java.util.Base64.getUrlDecoder().decode(text);
                boolean canonical = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(lax).equals(text);
                if (canonical) {
                    assertArrayEquals(lax, Encoding.base64UrlDecode(text), text);
                } else {
                    assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode(text), text);
                }
            }
        }
    }

    @Test
    void dataIntegrityOfficialVector() throws Exception {
        String dir = "spec/vectors/eddsa-jcs-2022/";
        @SuppressWarnings("unchecked")
        Map<String, Object> unsigned = (Map<String, Object>) Json.parse(Vectors.text(dir + "unsigned.json"));
        assertEquals(Vectors.text(dir + "canonDocJCS.txt").strip(), Jcs.canonicalize(unsigned));
        Map<?, ?> kp = (Map<?, ?>) Json.parse(Vectors.text(dir + "keyPair.json"));
        String secret = "{\"did\":\"did:key:" + kp.get("publicKeyMultibase") + "\",\"publicKeyMultibase\":\"" + kp.get("publicKeyMultibase")
                + "\",\"secretKeyMultibase\":\"" + kp.get("privateKeyMultibase") + "\"}";
        KeyFile key = KeyFile.parse(secret);
        Map<String, Object> signed = Credentials.signDataIntegrity(unsigned, key, Instant.parse("2023-02-24T23:36:38Z"));
        assertEquals(Jcs.canonicalize(Json.parse(Vectors.text(dir + "signedJCS.json"))), Jcs.canonicalize(signed));
        VerifiedCredential v = Credentials.verify(Vectors.text(dir + "signedJCS.json"), NOW);
        assertEquals(key.did(), v.signer());
        for (String f : List.of("sig-1-leading-zero-byte", "sig-2-leading-zero-bytes", "tricky-jcs.signed")) {
            Credentials.verify(Vectors.text("spec/vectors/derived/eddsa-jcs-2022." + f + ".json"), NOW);
        }
        assertEquals(Vectors.text("spec/vectors/derived/eddsa-jcs-2022.tricky-jcs.canonical.txt"),
                Jcs.canonicalize(Json.parse(Vectors.text("spec/vectors/derived/eddsa-jcs-2022.tricky-jcs.unsigned.json"))));
        ProofException e = assertThrows(ProofException.class,
                () -> Credentials.verify(Vectors.text("spec/vectors/derived/eddsa-jcs-2022.reject.malleable-s-plus-l.json"), NOW));
        assertEquals("bad-signature", e.code());
        e = assertThrows(ProofException.class,
                () -> Credentials.verify(Vectors.text("spec/vectors/derived/eddsa-jcs-2022.reject.weak-key-identity.json"), NOW));
        assertEquals("verification-method", e.code());
        e = assertThrows(ProofException.class,
                () -> Credentials.verify(Vectors.text("spec/vectors/derived/vc-jwt.reject.weak-key-identity.jwt"), NOW));
        assertEquals("verification-method", e.code());
        String tampered = Vectors.text(dir + "signedJCS.json").replace("The School of Examples", "The School of Exemples");
        assertEquals("bad-signature", assertThrows(ProofException.class, () -> Credentials.verify(tampered, NOW)).code());
    }

    @Test
    void grantExamplesVerifyInBothEnvelopes() throws Exception {
        KeyFile key = KeyFile.read(Vectors.repo().resolve("spec/examples/enterprise.key.json"));
        String di = Vectors.text("spec/examples/grant.signed.di.json");
        String jwt = Vectors.text("spec/examples/grant.signed.jwt");
        VerifiedCredential a = Credentials.verify(di, NOW);
        VerifiedCredential b = Credentials.verify(jwt, NOW);
        assertEquals(Jcs.canonicalize(a.document()), Jcs.canonicalize(b.document()));
        @SuppressWarnings("unchecked")
        Map<String, Object> unsigned = (Map<String, Object>) Json.parse(Vectors.text("spec/examples/grant.unsigned.json"));
        assertEquals(jwt.strip(), Credentials.signVcJwt(unsigned, key, Instant.parse("2026-11-30T08:00:00Z")));
        assertEquals(Jcs.canonicalize(Json.parse(di)),
                Jcs.canonicalize(Credentials.signDataIntegrity(unsigned, key, Instant.parse("2026-11-30T08:00:00Z"))));
        assertEquals("jws-algorithm", assertThrows(ProofException.class,
                () -> Credentials.verify(Vectors.text("spec/examples/grant.invalid.alg-hs256.jwt"), NOW)).code());
        assertEquals("bad-signature", assertThrows(ProofException.class,
                () -> Credentials.verify(Vectors.text("spec/examples/grant.invalid.tampered.di.json"), NOW)).code());
    }

    @Test
    void vkeyWhoseKeyContainsPlus() {
        // Found by clients/cross.sh: standard base64 may put "+" in the key part of a vkey.
        String vkey = "127.0.0.1:37009/consentry/access-log+9e388ba8+AWVREitU/VQ6/iEeBmFPRc3nx885Onk+htS3Z3F5+vrY";
        assertEquals(vkey, cn.consentry.client.log.Checkpoint.NoteKey.parseVkey(vkey).vkey());
    }
}
