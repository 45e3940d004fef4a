package cn.consentry.client.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cn.consentry.client.json.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Bouncy Castle's and the JDK's Ed25519 give the same answers: every ed25519 case of
 * spec/vectors/conformance.json and the RFC 8032 vectors run against each, and the build uses
 * Bouncy Castle (so the fast path is the one the other tests exercise).
 */
class Ed25519BackendsTest {
    private static String text(String rel) throws Exception {
        Path root = Path.of(System.getProperty("consentry.repo", "../.."));
        return Files.readString(root.resolve(rel), StandardCharsets.UTF_8);
    }

    @Test
    void bouncyCastleIsTheImplementationInTests() {
        assertEquals(Ed25519.Backend.BOUNCY_CASTLE, Ed25519.BACKEND);
        assertEquals("bouncycastle", Ed25519.implementation());
    }

    @Test
    void bothImplementationsPassTheEd25519ConformanceCases() throws Exception {
        Map<?, ?> suite = (Map<?, ?>) Json.parse(text("spec/vectors/conformance.json"), true);
        int ran = 0;
        for (Object o : (List<?>) suite.get("cases")) {
            Map<?, ?> c = (Map<?, ?>) o;
            String kind = (String) c.get("kind");
            if (!kind.startsWith("ed25519")) {
                continue;
            }
            for (Ed25519.Backend b : Ed25519.Backend.values()) {
                String id = c.get("id") + " on " + b;
                if (kind.equals("ed25519-sign")) {
                    byte[] seed = Encoding.hexDecode((String) c.get("secretKeyHex"));
                    byte[] sig = Ed25519.sign(b, seed, Encoding.hexDecode((String) c.get("messageHex")));
                    assertEquals(c.get("signatureHex"), Encoding.hex(sig), id);
                } else {
                    boolean ok = Ed25519.verify(b, Encoding.hexDecode((String) c.get("publicKeyHex")),
                            Encoding.hexDecode((String) c.get("messageHex")), Encoding.hexDecode((String) c.get("signatureHex")));
                    assertEquals("accept".equals(c.get("expect")), ok, id);
                }
            }
            ran++;
        }
        assertEquals(13, ran, "the ed25519 cases of the manifest");
    }

    @Test
    void bothImplementationsMatchRfc8032AndRefuseForgeries() throws Exception {
        Map<?, ?> v = (Map<?, ?>) Json.parse(text("spec/vectors/rfc8032/section-7.1-tests-1-3.json"));
        byte[] l = Encoding.hexDecode("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
        for (Ed25519.Backend b : Ed25519.Backend.values()) {
            for (Object o : (List<?>) v.get("tests")) {
                Map<?, ?> t = (Map<?, ?>) o;
                byte[] seed = Encoding.hexDecode((String) t.get("secretKeyHex"));
                byte[] pub = Encoding.hexDecode((String) t.get("publicKeyHex"));
                byte[] msg = Encoding.hexDecode((String) t.get("messageHex"));
                byte[] sig = Encoding.hexDecode((String) t.get("signatureHex"));
                assertArrayEquals(pub, Ed25519.publicKeyOf(b, seed));
                assertArrayEquals(sig, Ed25519.sign(b, seed, msg));
                assertTrue(Ed25519.verify(b, pub, msg, sig));
                byte[] other = msg.length == 0 ? new byte[] {1} : msg.clone();
                other[0] ^= 1;
                assertFalse(Ed25519.verify(b, pub, other, sig), b + ": changed message");
                // S + L: the same signature with a non-canonical S.
                byte[] sPlusL = sig.clone();
                int carry = 0;
                for (int i = 0; i < 32; i++) {
                    int s = (sig[32 + i] & 0xff) + (l[i] & 0xff) + carry;
                    sPlusL[32 + i] = (byte) s;
                    carry = s >> 8;
                }
                assertFalse(Ed25519.verify(b, pub, msg, sPlusL), b + ": S + L");
            }
            byte[] identity = new byte[32];
            identity[0] = 1;
            byte[] forged = new byte[64];
            forged[0] = 1;
            assertFalse(Ed25519.verify(b, identity, "anything".getBytes(StandardCharsets.UTF_8), forged), b + ": identity key");
        }
    }
}
