package cn.consentry.client.json;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;

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
        return canonicalize(value).getBytes(StandardCharsets.UTF_8);
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
