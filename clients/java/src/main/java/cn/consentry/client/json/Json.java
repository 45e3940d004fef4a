package cn.consentry.client.json;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A strict JSON reader and a plain writer.
 *
 * <p>Values are plain Java objects: {@code Map<String, Object>} (a {@link LinkedHashMap} keeping the
 * members' order), {@code List<Object>}, {@link String}, {@link Boolean}, {@code null} for JSON
 * {@code null}, {@link Long} for integers within ±(2<sup>53</sup> − 1), and {@link Double} for
 * every other number.
 *
 * <p>{@link #parse} accepts only I-JSON as the Consentry grant format (spec/grant.md §2.1) defines
 * it: valid UTF-8, no duplicate member names at any depth, no lone surrogates, nesting at most 128
 * deep, and an integer literal beyond ±(2<sup>53</sup> − 1) only when an IEEE double holds it
 * exactly or when it is exactly the digits RFC 8785 writes for the double it reads as.
 */
public final class Json {
    /** Largest integer every double holds exactly. */
    public static final long MAX_SAFE_INTEGER = (1L << 53) - 1;
    private static final int MAX_DEPTH = 128;

    private Json() {}

    /**
     * Parses UTF-8 bytes strictly.
     *
     * @param bytes the JSON text
     * @return the value
     * @throws JsonException if the text is not strict I-JSON
     */
    public static Object parse(byte[] bytes) {
        String text = utf8(bytes);
        if (text == null) {
            throw new JsonException(JsonException.Kind.SYNTAX, "malformed JSON: invalid UTF-8");
        }
        return parse(text);
    }

    /**
     * Strict UTF-8 decoding.
     *
     * @param bytes the bytes
     * @return their text, or null when they are not UTF-8 (malformed, overlong, surrogates, beyond U+10FFFF)
     */
    public static String utf8(byte[] bytes) {
        // The String constructor (the JDK's fast path) puts U+FFFD for every malformed sequence:
        // without one in its result the bytes were UTF-8. A U+FFFD in the result may be an encoded
        // U+FFFD of the input: then the strict decoder decides.
        String text = new String(bytes, StandardCharsets.UTF_8);
        if (text.indexOf('\uFFFD') < 0) {
            return text;
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /**
     * Parses a JSON text strictly.
     *
     * @param text the JSON text
     * @return the value
     * @throws JsonException if the text is not strict I-JSON
     */
    public static Object parse(String text) {
        return parse(text, false);
    }

    /**
     * Parses a JSON text strictly, except that, with {@code bigIntegers}, an integer literal no
     * double holds is returned as a {@link BigInteger} instead of refused (for reading test data,
     * never for verifying).
     *
     * @param text the JSON text
     * @param bigIntegers whether to keep unsafe integers as {@link BigInteger}
     * @return the value
     * @throws JsonException if the text is not strict JSON
     */
    public static Object parse(String text, boolean bigIntegers) {
        Parser p = new Parser(text);
        p.bigIntegers = bigIntegers;
        p.skipWs();
        Object v = p.value(0);
        p.skipWs();
        if (p.pos != text.length()) {
            throw p.error("trailing characters after the JSON value");
        }
        return v;
    }

    /**
     * Parses a JSON text that must be an object.
     *
     * @param text the JSON text
     * @return the object
     * @throws JsonException if the text is not strict I-JSON or not an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parseObject(String text) {
        Object v = parse(text);
        if (!(v instanceof Map)) {
            throw new JsonException(JsonException.Kind.SYNTAX, "malformed JSON: expected an object");
        }
        return (Map<String, Object>) v;
    }

    /**
     * Writes a value as compact JSON, members in their map order (not canonical: see {@link Jcs}).
     *
     * @param value a value made of the types listed in the class comment
     * @return the JSON text
     */
    public static String write(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value, false);
        return sb.toString();
    }

    static void write(StringBuilder sb, Object v, boolean canonical) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String) {
            writeString(sb, (String) v);
        } else if (v instanceof Boolean) {
            sb.append(v.toString());
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long l = ((Number) v).longValue();
            if (Math.abs(l) > MAX_SAFE_INTEGER) {
                sb.append(Jcs.formatNumber((double) l));
            } else {
                sb.append(l);
            }
        } else if (v instanceof BigInteger) {
            sb.append(Jcs.formatNumber(((BigInteger) v).doubleValue()));
        } else if (v instanceof Number) {
            sb.append(Jcs.formatNumber(((Number) v).doubleValue()));
        } else if (v instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) v;
            List<String> keys = new ArrayList<>();
            for (Object k : m.keySet()) {
                keys.add((String) k);
            }
            if (canonical) {
                keys.sort(null); // String.compareTo compares UTF-16 code units: RFC 8785 §3.2.3
            }
            sb.append('{');
            boolean first = true;
            for (String k : keys) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                writeString(sb, k);
                sb.append(':');
                write(sb, m.get(k), canonical);
            }
            sb.append('}');
        } else if (v instanceof List) {
            sb.append('[');
            boolean first = true;
            for (Object e : (List<?>) v) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, e, canonical);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    /** RFC 8785 §3.2.2.2 string serialization (also used for plain output). */
    static void writeString(StringBuilder sb, String s) {
        sb.append('"');
        if (plain(s)) { // nothing to escape: one bulk copy
            sb.append(s).append('"');
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    /** Whether a string needs no escape in JSON: no '"', '\\' or control character. */
    private static boolean plain(String s) {
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == '"' || c == '\\') {
                return false;
            }
        }
        return true;
    }

    /**
     * What RFC 8785 would write for an integer literal that no double holds: the ECMAScript form of
     * the nearest double.
     */
    static String roundedInteger(String literal) {
        double d = Double.parseDouble(literal);
        return Double.isFinite(d) ? Jcs.formatNumber(d) : "another value";
    }

    /** Longest member name kept in {@link #NAMES}. */
    private static final int MAX_NAME = 40;
    /**
     * Recently parsed member names by hash (the same few dozen names recur in every grant).
     * Shared by all threads without a lock: a slot holds an immutable String or null, and a lost
     * update only costs a new String.
     */
    private static final String[] NAMES = new String[1024];

    /** The ASCII characters a string holds as they are: printable, not '"' or '\\'. */
    private static final boolean[] PLAIN = new boolean[128];

    static {
        for (char c = 0x20; c < 0x80; c++) {
            PLAIN[c] = c != '"' && c != '\\';
        }
    }

    private static final class Parser {
        /** The text's UTF-16 units (array access: no per-character bounds check of String.charAt). */
        final char[] s;
        final int n;
        int pos;
        boolean bigIntegers;

        Parser(String text) {
            this.s = text.toCharArray();
            this.n = s.length;
        }

        boolean startsWith(String word, int at) {
            if (at + word.length() > n) {
                return false;
            }
            for (int i = 0; i < word.length(); i++) {
                if (s[at + i] != word.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        JsonException error(String what) {
            return new JsonException(JsonException.Kind.SYNTAX, "malformed JSON: " + what + " at offset " + pos);
        }

        void skipWs() {
            while (pos < n) {
                char c = s[pos];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object value(int depth) {
            if (pos >= n) {
                throw error("unexpected end of input");
            }
            char c = s[pos];
            switch (c) {
                case '{': return object(depth + 1);
                case '[': return array(depth + 1);
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return number();
                    }
                    throw error("unexpected character");
            }
        }

        Object literal(String word, Object v) {
            if (startsWith(word, pos)) {
                pos += word.length();
                return v;
            }
            throw error("invalid literal");
        }

        Map<String, Object> object(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            pos++;
            Map<String, Object> m = new LinkedHashMap<>();
            skipWs();
            if (pos < n && s[pos] == '}') {
                pos++;
                return m;
            }
            while (true) {
                skipWs();
                if (pos >= n || s[pos] != '"') {
                    throw error("expected a member name");
                }
                String k = name();
                skipWs();
                expect(':');
                skipWs();
                Object v = value(depth);
                int size = m.size();
                m.put(k, v);
                if (m.size() == size) { // the name was there already
                    throw new JsonException(JsonException.Kind.DUPLICATE_KEY,
                            "duplicate member name \"" + k + "\": I-JSON forbids it (RFC 7493 §2.3)");
                }
                skipWs();
                if (pos >= n) {
                    throw error("expected ',' or '}'");
                }
                char c = s[pos++];
                if (c == '}') {
                    return m;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or '}'");
                }
            }
        }

        List<Object> array(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting deeper than " + MAX_DEPTH);
            }
            pos++;
            List<Object> l = new ArrayList<>();
            skipWs();
            if (pos < n && s[pos] == ']') {
                pos++;
                return l;
            }
            while (true) {
                skipWs();
                l.add(value(depth));
                skipWs();
                if (pos >= n) {
                    throw error("expected ',' or ']'");
                }
                char c = s[pos++];
                if (c == ']') {
                    return l;
                }
                if (c != ',') {
                    pos--;
                    throw error("expected ',' or ']'");
                }
            }
        }

        void expect(char c) {
            if (pos < n && s[pos] == c) {
                pos++;
            } else {
                throw error("expected '" + c + "'");
            }
        }

        /**
         * A member name: {@link #string()}, except that a short name without escapes is taken from
         * {@link #NAMES} when there (no new String, and its hash is already computed).
         */
        String name() {
            int start = pos + 1;
            int h = 0;
            int i = start;
            while (i < n && i - start <= MAX_NAME) {
                char c = s[i];
                if (c == '"') {
                    break;
                }
                if (c == '\\' || c < 0x20 || Character.isSurrogate(c)) {
                    return string();
                }
                h = 31 * h + c; // String.hashCode of the name so far
                i++;
            }
            if (i >= n || s[i] != '"') {
                return string(); // longer than MAX_NAME, or unterminated
            }
            int len = i - start;
            int slot = (h ^ (h >>> 16)) & (NAMES.length - 1);
            String known = NAMES[slot];
            pos = i + 1;
            if (known != null && known.length() == len && known.hashCode() == h && sameChars(known, start)) {
                return known;
            }
            String k = new String(s, start, len);
            NAMES[slot] = k;
            return k;
        }

        private boolean sameChars(String k, int at) {
            for (int i = 0; i < k.length(); i++) {
                if (k.charAt(i) != s[at + i]) {
                    return false;
                }
            }
            return true;
        }

        String string() {
            pos++; // opening quote
            StringBuilder sb = null;
            int start = pos;
            while (true) {
                // The common characters in a tight loop: printable ASCII other than '"' and '\\',
                // and non-ASCII outside the surrogates.
                char c = 0;
                while (pos < n && ((c = s[pos]) < 0x80 ? PLAIN[c] : c < 0xd800 || c > 0xdfff)) {
                    pos++;
                }
                if (pos >= n) {
                    throw error("unterminated string");
                }
                if (c == '"') {
                    String out = sb == null ? new String(s, start, pos - start) : sb.append(s, start, pos - start).toString();
                    pos++;
                    return out;
                }
                if (c < 0x20) {
                    throw error("unescaped control character in string");
                }
                if (Character.isSurrogate(c)) {
                    if (Character.isHighSurrogate(c) && pos + 1 < n
                            && Character.isLowSurrogate(s[pos + 1])) {
                        pos += 2;
                        continue;
                    }
                    throw error("lone surrogate in string");
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, start, pos - start);
                pos++;
                if (pos >= n) {
                    throw error("unterminated string");
                }
                char e = s[pos++];
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u': {
                        int u = hex4();
                        if (Character.isHighSurrogate((char) u)) {
                            if (startsWith("\\u", pos)) {
                                pos += 2;
                                int lo = hex4();
                                if (!Character.isLowSurrogate((char) lo)) {
                                    throw error("invalid trailing surrogate in \\u escape");
                                }
                                sb.append((char) u).append((char) lo);
                            } else {
                                throw error("lone leading surrogate in \\u escape");
                            }
                        } else if (Character.isLowSurrogate((char) u)) {
                            throw error("lone trailing surrogate in \\u escape");
                        } else {
                            sb.append((char) u);
                        }
                        break;
                    }
                    default:
                        pos--;
                        throw error("invalid escape");
                }
                start = pos;
            }
        }

        int hex4() {
            if (pos + 4 > n) {
                throw error("invalid \\u escape");
            }
            int v = 0;
            for (int i = 0; i < 4; i++) {
                char c = s[pos + i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (d < 0) { // ASCII hex digits only (Character.digit would take other scripts' digits)
                    throw error("invalid \\u escape");
                }
                v = v * 16 + d;
            }
            pos += 4;
            return v;
        }

        int digits() {
            int start = pos;
            while (pos < n && s[pos] >= '0' && s[pos] <= '9') {
                pos++;
            }
            return pos - start;
        }

        Object number() {
            int start = pos;
            if (s[pos] == '-') {
                pos++;
            }
            int intStart = pos;
            int intLen = digits();
            if (intLen == 0) {
                throw error("invalid number");
            }
            if (intLen > 1 && s[intStart] == '0') {
                throw error("leading zero in number");
            }
            boolean integer = true;
            if (pos < n && s[pos] == '.') {
                pos++;
                if (digits() == 0) {
                    throw error("invalid number");
                }
                integer = false;
            }
            if (pos < n && (s[pos] == 'e' || s[pos] == 'E')) {
                pos++;
                if (pos < n && (s[pos] == '+' || s[pos] == '-')) {
                    pos++;
                }
                if (digits() == 0) {
                    throw error("invalid number");
                }
                integer = false;
            }
            String literal = new String(s, start, pos - start);
            if (integer && intLen <= 15) {
                return Long.parseLong(literal);
            }
            double f = Double.parseDouble(literal);
            if (!Double.isFinite(f)) {
                throw error("number out of range");
            }
            if (integer) {
                if (Math.abs(f) <= MAX_SAFE_INTEGER) {
                    return (long) f;
                }
                boolean exact = new BigDecimal(f).toBigInteger().equals(new BigInteger(literal));
                if (!exact && !Jcs.formatNumber(f).equals(literal)) {
                    if (bigIntegers) {
                        return new BigInteger(literal);
                    }
                    throw new JsonException(JsonException.Kind.UNSAFE_INTEGER, "integer " + literal
                            + " is not exactly an IEEE double: JCS would round it to "
                            + roundedInteger(literal) + " (RFC 8785 §3.2.2.3)");
                }
            }
            return f;
        }
    }
}
