package cn.consentry.client.json;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The direct UTF-8 canonical writer ({@link Jcs#canonicalBytes}, {@link Jcs#sha256}) against the
 * canonical text encoded by String.getBytes; the strict UTF-8 decoding; the parser's member-name
 * reuse and its ASCII-only {@code \\u} escapes.
 */
class JsonFastPathTest {
    private static final String[] STRINGS = {"", "a", "é", "杭州示例科技有限公司", "😀", "\"", "\\", "\b\f\n\r\t", "\u0000", "\u001f", "\u007f",
        "\u2028", "ab\"cd\\ef", "\ud83d\ude00x", "/", "<>&'"};

    private static Object randomValue(Random r, int depth) {
        switch (depth > 3 ? r.nextInt(5) : r.nextInt(7)) {
            case 0: return null;
            case 1: return r.nextBoolean();
            case 2: return r.nextInt(3) == 0 ? r.nextLong() : (long) r.nextInt(1000) - 500;
            case 3: return r.nextDouble() * Math.pow(10, r.nextInt(40) - 20);
            case 4: return STRINGS[r.nextInt(STRINGS.length)] + STRINGS[r.nextInt(STRINGS.length)];
            case 5: {
                List<Object> l = new ArrayList<>();
                for (int i = r.nextInt(4); i > 0; i--) {
                    l.add(randomValue(r, depth + 1));
                }
                return l;
            }
            default: {
                Map<String, Object> m = new LinkedHashMap<>();
                for (int i = r.nextInt(6); i > 0; i--) {
                    m.put(STRINGS[r.nextInt(STRINGS.length)] + i, randomValue(r, depth + 1));
                }
                return m;
            }
        }
    }

    @Test
    void canonicalBytesAreTheCanonicalTextInUtf8() throws Exception {
        Random r = new Random(4);
        for (int i = 0; i < 5000; i++) {
            Object v = randomValue(r, 0);
            byte[] want = Jcs.canonicalize(v).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(want, Jcs.canonicalBytes(v), Jcs.canonicalize(v));
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(want), Jcs.sha256(v));
            // What the parser reads back canonicalizes to the same bytes.
            assertArrayEquals(want, Jcs.canonicalBytes(Json.parse(new String(want, StandardCharsets.UTF_8))));
        }
        // A lone surrogate (never in a parsed value) is written as String.getBytes writes it: '?'.
        assertArrayEquals("\"a?b\"".getBytes(StandardCharsets.UTF_8), Jcs.canonicalBytes("a\ud800b"));
        assertArrayEquals("\"\\u001f\\n\"".getBytes(StandardCharsets.UTF_8), Jcs.canonicalBytes("\u001f\n"));
        assertThrows(IllegalArgumentException.class, () -> Jcs.canonicalBytes(List.of(Double.NaN)));
        assertThrows(IllegalArgumentException.class, () -> Jcs.sha256(Map.of("k", new Object())));
        String big = "x".repeat(5000) + "杭";
        assertArrayEquals(("\"" + big + "\"").getBytes(StandardCharsets.UTF_8), Jcs.canonicalBytes(big));
    }

    @Test
    void utf8IsStrict() {
        assertEquals("杭州 \ufffd ok", Json.utf8("杭州 \ufffd ok".getBytes(StandardCharsets.UTF_8)));
        assertEquals("", Json.utf8(new byte[0]));
        byte[][] bad = {
            {(byte) 0xc0, (byte) 0x80}, // overlong
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, // a surrogate
            {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, // beyond U+10FFFF
            {'a', (byte) 0xe6, (byte) 0x9d}, // cut short
            {(byte) 0xff},
            {(byte) 0x80, 'a'},
        };
        for (byte[] b : bad) {
            assertNull(Json.utf8(b));
            assertEquals("malformed JSON: invalid UTF-8", assertThrows(JsonException.class, () -> Json.parse(b)).getMessage());
        }
    }

    @Test
    void memberNamesAreReadAsWritten() {
        // Names that repeat (and so come from the reused names), names with escapes, long names,
        // and names that differ only late: each read as written, duplicates still refused.
        String longName = "n".repeat(100);
        for (int i = 0; i < 3; i++) {
            Map<String, Object> m = Json.parseObject("{\"type\":1,\"typ\\u0065x\":2,\"" + longName + "\":3,\"abcdefgh1\":4,\"abcdefgh2\":5,\"\":6,\"é\":7}");
            assertEquals(List.of("type", "typex", longName, "abcdefgh1", "abcdefgh2", "", "é"), new ArrayList<>(m.keySet()));
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L), new ArrayList<>(m.values()));
        }
        for (String dup : new String[] {"{\"type\":1,\"type\":2}", "{\"type\":1,\"typ\\u0065\":2}", "{\"a\":null,\"a\":null}"}) {
            assertEquals(JsonException.Kind.DUPLICATE_KEY, assertThrows(JsonException.class, () -> Json.parse(dup)).kind());
        }
        assertThrows(JsonException.class, () -> Json.parse("{\"a\ud800\":1}"));
        assertThrows(JsonException.class, () -> Json.parse("{\"a\u0001\":1}"));
        assertThrows(JsonException.class, () -> Json.parse("{\"abc"));
    }

    @Test
    void unicodeEscapesTakeAsciiHexDigitsOnly() {
        assertEquals("A", Json.parse("\"\\u0041\""));
        assertEquals("\u00ff\u00ff", Json.parse("\"\\u00ff\\u00FF\""));
        // Fullwidth and Arabic-Indic digits, fullwidth letters: Character.digit takes them, JSON does not.
        for (String bad : new String[] {"\"\\u００41\"", "\"\\u\u0660041\"", "\"\\u00Ａ1\"", "\"\\u00g1\""}) {
            assertEquals("malformed JSON: invalid \\u escape at offset 3",
                    assertThrows(JsonException.class, () -> Json.parse(bad)).getMessage(), bad);
        }
    }
}
