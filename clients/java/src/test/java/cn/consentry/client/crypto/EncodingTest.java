package cn.consentry.client.crypto;

import static org.junit.jupiter.api.Assertions.*;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The hand-written decoders and the UTF-8 encoder of {@link Encoding} against plain reference
 * implementations (BigInteger base58, the JDK's base64url and String.getBytes), on random inputs.
 */
class EncodingTest {
    private static final String B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /** The decoder this library had before: BigInteger arithmetic. */
    static byte[] base58Reference(String text) {
        int zeros = 0;
        while (zeros < text.length() && text.charAt(zeros) == '1') {
            zeros++;
        }
        BigInteger n = BigInteger.ZERO;
        for (int i = zeros; i < text.length(); i++) {
            int d = B58.indexOf(text.charAt(i));
            if (d < 0) {
                throw new IllegalArgumentException("not base58-btc: character '" + text.charAt(i) + "'");
            }
            n = n.multiply(BigInteger.valueOf(58)).add(BigInteger.valueOf(d));
        }
        byte[] mag = n.signum() == 0 ? new byte[0] : n.toByteArray();
        if (mag.length > 0 && mag[0] == 0) {
            mag = Arrays.copyOfRange(mag, 1, mag.length);
        }
        byte[] out = new byte[zeros + mag.length];
        System.arraycopy(mag, 0, out, zeros, mag.length);
        return out;
    }

    @Test
    void base58DecodesAsTheBigIntegerReference() {
        Random r = new Random(1);
        for (int i = 0; i < 3000; i++) {
            // Random bytes with runs of leading zeros round-trip...
            byte[] b = new byte[r.nextInt(70)];
            r.nextBytes(b);
            for (int z = r.nextInt(4); z > 0 && z <= b.length; z--) {
                b[z - 1] = 0;
            }
            assertArrayEquals(b, Encoding.base58Decode(Encoding.base58(b)));
            // ...and random text over the alphabet decodes as the reference decodes it.
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(100); k > 0; k--) {
                sb.append(r.nextInt(5) == 0 ? '1' : B58.charAt(r.nextInt(58)));
            }
            assertArrayEquals(base58Reference(sb.toString()), Encoding.base58Decode(sb.toString()), sb.toString());
        }
        assertArrayEquals(new byte[0], Encoding.base58Decode(""));
        assertArrayEquals(new byte[] {0, 0}, Encoding.base58Decode("11"));
        assertArrayEquals(new byte[] {0, 57}, Encoding.base58Decode("1z"));
        assertArrayEquals(new byte[] {58}, Encoding.base58Decode("21"));
        for (String bad : new String[] {"0", "z0", "1O", "abIl", "zé", "z\u0661"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Encoding.base58Decode(bad));
            assertEquals(assertThrows(IllegalArgumentException.class, () -> base58Reference(bad)).getMessage(), e.getMessage());
        }
    }

    @Test
    void base64urlDecodesAsTheJdkAndRefusesWhatIsNotCanonical() {
        Random r = new Random(2);
        for (int i = 0; i < 3000; i++) {
            byte[] b = new byte[r.nextInt(200)];
            r.nextBytes(b);
            String text = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
            assertArrayEquals(b, Encoding.base64UrlDecode(text));
        }
        // Non-zero unused bits (2 or 4 of them), an impossible length, characters outside the
        // alphabet (the first one named, before the length is looked at), padding.
        assertEquals("not canonical base64url: non-zero unused bits",
                assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("AB")).getMessage());
        assertEquals("not canonical base64url: non-zero unused bits",
                assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("AAB")).getMessage());
        assertArrayEquals(new byte[] {0}, Encoding.base64UrlDecode("AA"));
        assertArrayEquals(new byte[] {0, 0}, Encoding.base64UrlDecode("AAA"));
        assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xff}, Encoding.base64UrlDecode("__8"));
        assertEquals("not base64url: impossible length 5",
                assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("AAAAA")).getMessage());
        assertEquals("not base64url: character '+' at 5",
                assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("AAAAA+")).getMessage());
        assertEquals("not base64url: character '=' at 2",
                assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("AA==")).getMessage());
        assertEquals("not base64url: character 'é' at 0",
                assertThrows(IllegalArgumentException.class, () -> Encoding.base64UrlDecode("éAAA")).getMessage());
    }

    @Test
    void hexIsLowercase() {
        assertEquals("00ff10ab", Encoding.hex(new byte[] {0, (byte) 0xff, 0x10, (byte) 0xab}));
        assertEquals("", Encoding.hex(new byte[0]));
    }

    @Test
    void utf8IsGetBytesOrNullForALoneSurrogate() {
        String[] pieces = {"a", "?", "{\"k\":", "é", "\u00ff", "\u0080", "ß", "ǅ", "\u07ff", "\u0800", "杭州", "\uffff", "\ufffd",
            "😀", "\ud83d\ude00?", "𝄞", "0123456789abcdef", "\t\n"};
        Random r = new Random(3);
        for (int i = 0; i < 20000; i++) {
            StringBuilder sb = new StringBuilder();
            for (int k = r.nextInt(40); k > 0; k--) {
                sb.append(pieces[r.nextInt(pieces.length)]);
            }
            String s = sb.toString();
            assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), Encoding.utf8(s), s);
            assertFalse(Encoding.hasLoneSurrogate(s));
            // A lone surrogate anywhere: no UTF-8 form.
            int at = r.nextInt(s.length() + 1);
            char lone = r.nextBoolean() ? '\ud800' : '\udfff';
            String broken = s.substring(0, at) + lone + s.substring(at);
            if (Encoding.hasLoneSurrogate(broken)) {
                assertNull(Encoding.utf8(broken), broken);
            } else { // it paired up with a neighbour
                assertArrayEquals(broken.getBytes(StandardCharsets.UTF_8), Encoding.utf8(broken));
            }
        }
        assertArrayEquals(new byte[0], Encoding.utf8(""));
        assertNull(Encoding.utf8("\udc00\ud800"));
        assertNull(Encoding.utf8("abcdefgh\ud800"));
        assertTrue(Encoding.hasLoneSurrogate("x\udc00"));
    }

    @Test
    void sha256IsMessageDigestsOnAnyRangeAndAcrossThreads() throws Exception {
        Random r = new Random(9);
        byte[] b = new byte[5000];
        r.nextBytes(b);
        for (int i = 0; i < 500; i++) {
            int off = r.nextInt(b.length);
            int len = r.nextInt(b.length - off + 1);
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            md.update(b, off, len);
            assertArrayEquals(md.digest(), Sha256.of(b, off, len));
        }
        assertThrows(IllegalArgumentException.class, () -> Sha256.of(b, 4990, 20));
        assertArrayEquals(java.security.MessageDigest.getInstance("SHA-256").digest(b), Sha256.of(b)); // unharmed
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            java.util.List<java.util.concurrent.Future<Boolean>> fs = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                byte[] own = Arrays.copyOf(b, 1000 + t);
                byte[] want = java.security.MessageDigest.getInstance("SHA-256").digest(own);
                fs.add(pool.submit(() -> {
                    for (int i = 0; i < 2000; i++) {
                        if (!Arrays.equals(want, Sha256.of(own))) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (java.util.concurrent.Future<Boolean> f : fs) {
                assertTrue(f.get());
            }
        } finally {
            pool.shutdown();
        }
    }
}
