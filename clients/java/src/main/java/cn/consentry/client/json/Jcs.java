package cn.consentry.client.json;

import cn.consentry.client.crypto.Sha256;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The JSON Canonicalization Scheme (RFC 8785), written for this library: the JDK has no JSON, and
 * no Debian-packaged Java library formats numbers as ECMAScript does (JDK 17's
 * {@link Double#toString} is not always the shortest round-trip form).
 */
public final class Jcs {
    private Jcs() {}

    /**
     * The canonical form of a value (see {@link Json} for the value types).
     *
     * @param value the value
     * @return its RFC 8785 text
     */
    public static String canonicalize(Object value) {
        StringBuilder sb = new StringBuilder();
        Json.write(sb, value, true);
        return sb.toString();
    }

    /**
     * The canonical form as UTF-8 bytes.
     *
     * @param value the value
     * @return the bytes that are hashed and signed
     */
    public static byte[] canonicalBytes(Object value) {
        Utf8Out out = new Utf8Out(2048);
        write(out, value);
        return Arrays.copyOf(out.buf, out.len);
    }

    /**
     * The SHA-256 of the canonical form ({@code SHA-256(canonicalBytes(value))}), without building
     * the intermediate array.
     *
     * @param value the value
     * @return the 32-byte digest
     */
    public static byte[] sha256(Object value) {
        Utf8Out out = new Utf8Out(2048);
        write(out, value);
        return Sha256.of(out.buf, 0, out.len);
    }

    /** A growable byte buffer for UTF-8 output. */
    private static final class Utf8Out {
        byte[] buf;
        int len;

        Utf8Out(int capacity) {
            buf = new byte[capacity];
        }

        void ensure(int more) {
            if (len + more > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
            }
        }

        void put(char ascii) {
            ensure(1);
            buf[len++] = (byte) ascii;
        }

        void putAscii(String ascii) {
            int n = ascii.length();
            ensure(n);
            for (int i = 0; i < n; i++) {
                buf[len++] = (byte) ascii.charAt(i);
            }
        }
    }

    /**
     * Writes what {@code Json.write(sb, v, true)} writes, as {@code String.getBytes(UTF_8)} would
     * encode it (a lone surrogate, which no parsed value holds, becomes {@code '?'} as there).
     */
    private static void write(Utf8Out out, Object v) {
        if (v == null) {
            out.putAscii("null");
        } else if (v instanceof String) {
            writeString(out, (String) v);
        } else if (v instanceof Boolean) {
            out.putAscii(v.toString());
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            long l = ((Number) v).longValue();
            if (Math.abs(l) > Json.MAX_SAFE_INTEGER) {
                out.putAscii(formatNumber((double) l));
            } else {
                out.putAscii(Long.toString(l));
            }
        } else if (v instanceof BigInteger) {
            out.putAscii(formatNumber(((BigInteger) v).doubleValue()));
        } else if (v instanceof Number) {
            out.putAscii(formatNumber(((Number) v).doubleValue()));
        } else if (v instanceof Map) {
            Map<?, ?> m = (Map<?, ?>) v;
            String[] keys = new String[m.size()];
            int i = 0;
            for (Object k : m.keySet()) {
                keys[i++] = (String) k;
            }
            Arrays.sort(keys); // String.compareTo compares UTF-16 code units: RFC 8785 §3.2.3
            out.put('{');
            for (int j = 0; j < keys.length; j++) {
                if (j > 0) {
                    out.put(',');
                }
                writeString(out, keys[j]);
                out.put(':');
                write(out, m.get(keys[j]));
            }
            out.put('}');
        } else if (v instanceof List) {
            out.put('[');
            boolean first = true;
            for (Object e : (List<?>) v) {
                if (!first) {
                    out.put(',');
                }
                first = false;
                write(out, e);
            }
            out.put(']');
        } else {
            throw new IllegalArgumentException("not a JSON value: " + v.getClass().getName());
        }
    }

    private static final byte[] HEX = {'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};

    /** RFC 8785 §3.2.2.2 string serialization, encoded as UTF-8. */
    private static void writeString(Utf8Out out, String s) {
        int n = s.length();
        out.ensure(n * 6 + 2); // at most 6 bytes per UTF-16 unit (a control character escape)
        byte[] b = out.buf;
        int o = out.len;
        b[o++] = '"';
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                if (c >= 0x20 && c != '"' && c != '\\') {
                    b[o++] = (byte) c;
                    continue;
                }
                b[o++] = '\\';
                switch (c) {
                    case '"': b[o++] = '"'; break;
                    case '\\': b[o++] = '\\'; break;
                    case '\b': b[o++] = 'b'; break;
                    case '\f': b[o++] = 'f'; break;
                    case '\n': b[o++] = 'n'; break;
                    case '\r': b[o++] = 'r'; break;
                    case '\t': b[o++] = 't'; break;
                    default:
                        b[o++] = 'u';
                        b[o++] = '0';
                        b[o++] = '0';
                        b[o++] = HEX[c >> 4];
                        b[o++] = HEX[c & 0xf];
                }
            } else if (c < 0x800) {
                b[o++] = (byte) (0xc0 | (c >> 6));
                b[o++] = (byte) (0x80 | (c & 0x3f));
            } else if (!Character.isSurrogate(c)) {
                b[o++] = (byte) (0xe0 | (c >> 12));
                b[o++] = (byte) (0x80 | ((c >> 6) & 0x3f));
                b[o++] = (byte) (0x80 | (c & 0x3f));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                b[o++] = (byte) (0xf0 | (cp >> 18));
                b[o++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                b[o++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                b[o++] = (byte) (0x80 | (cp & 0x3f));
            } else {
                b[o++] = '?'; // what String.getBytes(UTF_8) writes for a lone surrogate
            }
        }
        b[o++] = '"';
        out.len = o;
    }

    /**
     * ECMAScript's Number.prototype.toString for a finite double (RFC 8785 §3.2.2.3): the shortest
     * digits that read back as the same double, the closest to it when several do.
     *
     * @param d a finite double
     * @return its text
     * @throws IllegalArgumentException for NaN and infinities, which JSON cannot hold
     */
    public static String formatNumber(double d) {
        if (!Double.isFinite(d)) {
            throw new IllegalArgumentException("NaN and infinities have no JSON form");
        }
        if (d == 0) {
            return "0";
        }
        if (d < 0) {
            return "-" + formatNumber(-d);
        }
        // Integers up to 2^53 print exactly (fast path).
        if (d < 9007199254740992.0 && d == Math.rint(d)) {
            return Long.toString((long) d);
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal digits = null;
        for (int p = 1; p <= 17; p++) {
            BigDecimal down = exact.round(new MathContext(p, RoundingMode.FLOOR));
            BigDecimal up = exact.round(new MathContext(p, RoundingMode.CEILING));
            boolean downOk = down.doubleValue() == d;
            boolean upOk = up.doubleValue() == d;
            if (downOk && upOk && down.compareTo(up) != 0) {
                int c = exact.subtract(down).compareTo(up.subtract(exact));
                if (c < 0) {
                    digits = down;
                } else if (c > 0) {
                    digits = up;
                } else {
                    digits = down.unscaledValue().testBit(0) ? up : down;
                }
            } else if (downOk) {
                digits = down;
            } else if (upOk) {
                digits = up;
            }
            if (digits != null) {
                break;
            }
        }
        if (digits == null) {
            throw new IllegalStateException("no round-trip form for " + d);
        }
        BigDecimal stripped = digits.stripTrailingZeros();
        String s = stripped.unscaledValue().toString();
        int k = s.length();
        int n = k - stripped.scale(); // value = s × 10^(n − k)
        StringBuilder out = new StringBuilder();
        if (k <= n && n <= 21) {
            out.append(s);
            for (int i = 0; i < n - k; i++) {
                out.append('0');
            }
        } else if (0 < n && n <= 21) {
            out.append(s, 0, n).append('.').append(s, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.");
            for (int i = 0; i < -n; i++) {
                out.append('0');
            }
            out.append(s);
        } else {
            int e = n - 1;
            out.append(s.charAt(0));
            if (k > 1) {
                out.append('.').append(s, 1, k);
            }
            out.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
        }
        return out.toString();
    }
}
