package cn.consentry.client.crypto;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.math.BigInteger;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Canonical encodings: unpadded base64url (RFC 7515), padded base64 (RFC 4648 §4), base58-btc and
 * lowercase hex. Every decoder here refuses non-canonical text (padding where none belongs,
 * non-zero unused bits, leading-zero tricks), because signatures cover encoded text.
 */
public final class Encoding {
    private static final String B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    private static final BigInteger FIFTY_EIGHT = BigInteger.valueOf(58);
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.ISO_8859_1);
    /** Value of each ASCII character in base58-btc, -1 outside the alphabet. */
    private static final int[] B58_VALUE = table(B58);
    /** Value of each ASCII character in base64url, -1 outside the alphabet. */
    private static final int[] B64URL = table("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

    private Encoding() {}

    private static int[] table(String alphabet) {
        int[] t = new int[128];
        Arrays.fill(t, -1);
        for (int i = 0; i < alphabet.length(); i++) {
            t[alphabet.charAt(i)] = i;
        }
        return t;
    }

    /** @param bytes bytes @return unpadded base64url */
    public static String base64Url(byte[] bytes) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /**
     * Decodes canonical unpadded base64url.
     *
     * @param text the text
     * @return the bytes
     * @throws IllegalArgumentException if the text is not canonical unpadded base64url
     */
    public static byte[] base64UrlDecode(String text) {
        // One pass: each character is checked (the first one outside the alphabet is reported)
        // and decoded; then the length and, for a partial last group, the unused low bits of the
        // last character (4 bits when the length is 2 mod 4, 2 bits when 3 mod 4) must be zero.
        int n = text.length();
        byte[] out = new byte[n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1)];
        int o = 0;
        int acc = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            int v = c < 128 ? B64URL[c] : -1;
            if (v < 0) {
                throw new IllegalArgumentException("not base64url: character '" + c + "' at " + i);
            }
            acc = (acc << 6) | v;
            if ((i & 3) == 3) {
                out[o++] = (byte) (acc >> 16);
                out[o++] = (byte) (acc >> 8);
                out[o++] = (byte) acc;
                acc = 0;
            }
        }
        int rem = n % 4;
        if (rem == 1) {
            throw new IllegalArgumentException("not base64url: impossible length " + n);
        }
        if (rem != 0) {
            int unused = rem == 2 ? 0x0f : 0x03;
            if ((acc & unused) != 0) {
                throw new IllegalArgumentException("not canonical base64url: non-zero unused bits");
            }
            if (rem == 2) {
                out[o] = (byte) (acc >> 4);
            } else {
                out[o++] = (byte) (acc >> 10);
                out[o] = (byte) (acc >> 2);
            }
        }
        return out;
    }

    /** @param bytes bytes @return standard base64 with padding */
    public static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    /**
     * Decodes canonical standard base64 with padding.
     *
     * @param text the text
     * @return the bytes
     * @throws IllegalArgumentException if the text is not canonical padded base64
     */
    public static byte[] base64Decode(String text) {
        byte[] out;
        try {
            out = Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not base64: " + e.getMessage());
        }
        if (!base64(out).equals(text)) {
            throw new IllegalArgumentException("not canonical base64");
        }
        return out;
    }

    /** @param bytes bytes @return base58-btc (Bitcoin alphabet) */
    public static String base58(byte[] bytes) {
        int zeros = 0;
        while (zeros < bytes.length && bytes[zeros] == 0) {
            zeros++;
        }
        StringBuilder sb = new StringBuilder();
        BigInteger n = new BigInteger(1, bytes);
        while (n.signum() > 0) {
            BigInteger[] qr = n.divideAndRemainder(FIFTY_EIGHT);
            sb.append(B58.charAt(qr[1].intValue()));
            n = qr[0];
        }
        for (int i = 0; i < zeros; i++) {
            sb.append('1');
        }
        return sb.reverse().toString();
    }

    /**
     * Decodes base58-btc; each leading {@code 1} is a zero byte.
     *
     * @param text the text
     * @return the bytes
     * @throws IllegalArgumentException on a character outside the alphabet
     */
    public static byte[] base58Decode(String text) {
        int n = text.length();
        int zeros = 0;
        while (zeros < n && text.charAt(zeros) == '1') {
            zeros++;
        }
        // The value of the rest in little-endian 32-bit limbs, five characters at a time
        // (value = value × 58^k + the k characters' value, 58^5 < 2^30).
        int[] limbs = new int[(n - zeros + 4) / 5 + 1];
        int used = 0;
        int i = zeros;
        while (i < n) {
            long mul = 1;
            long add = 0;
            for (int k = 0; k < 5 && i < n; k++, i++) {
                char ch = text.charAt(i);
                int d = ch < 128 ? B58_VALUE[ch] : -1;
                if (d < 0) {
                    throw new IllegalArgumentException("not base58-btc: character '" + ch + "'");
                }
                add = add * 58 + d;
                mul *= 58;
            }
            long carry = add;
            for (int j = 0; j < used; j++) {
                long t = (limbs[j] & 0xffffffffL) * mul + carry;
                limbs[j] = (int) t;
                carry = t >>> 32;
            }
            if (carry != 0) {
                limbs[used++] = (int) carry;
            }
        }
        // Big-endian bytes without leading zeros, after one zero byte per leading '1'.
        int len = used * 4;
        while (len > 0 && (limbs[(len - 1) / 4] >>> (8 * ((len - 1) % 4)) & 0xff) == 0) {
            len--;
        }
        byte[] out = new byte[zeros + len];
        for (int k = 0; k < len; k++) {
            out[out.length - 1 - k] = (byte) (limbs[k / 4] >>> (8 * (k % 4)));
        }
        return out;
    }

    /**
     * The UTF-8 bytes of a string, as {@code s.getBytes(UTF_8)} gives them, or null when the string
     * holds a lone surrogate (which has no UTF-8 form: {@code getBytes} would write {@code '?'}).
     * Faster than {@code getBytes} for text that is mostly ASCII with some other characters (a
     * grant with Chinese names): the ASCII runs are copied in bulk.
     *
     * @param s the string
     * @return its UTF-8 bytes, or null
     */
    public static byte[] utf8(String s) {
        // ISO-8859-1 bytes (a bulk copy): one byte per character, the character itself when ASCII;
        // every other character is a byte with the high bit set (U+0080–U+00FF) or '?' (above
        // U+00FF, with a surrogate pair written as one '?'). Those bytes, and real '?'s, are
        // looked at one by one; the runs between them are UTF-8 already.
        byte[] iso = s.getBytes(StandardCharsets.ISO_8859_1);
        int p = nextNonAsciiOrQuestion(iso, 0);
        if (p == iso.length) {
            return iso;
        }
        // A pair as one '?' is what JDK 17 writes; were it two, the lengths would be equal.
        boolean pairIsOneByte = iso.length != s.length();
        byte[] out = new byte[iso.length + 64];
        int o = 0;
        int b = 0; // next byte of iso
        int c = 0; // the character it stands for (behind b by one per surrogate pair)
        while (true) {
            int run = p - b;
            if (o + run + 4 > out.length) {
                out = Arrays.copyOf(out, Math.max(out.length * 2, o + run + 4 + (iso.length - p)));
            }
            System.arraycopy(iso, b, out, o, run);
            o += run;
            c += run;
            b = p;
            if (b == iso.length) {
                if (c != s.length()) { // not the mapping assumed above: the plain way
                    return hasLoneSurrogate(s) ? null : s.getBytes(StandardCharsets.UTF_8);
                }
                return o == out.length ? out : Arrays.copyOf(out, o);
            }
            char ch = s.charAt(c);
            if (ch < 0x80) { // a real '?'
                out[o++] = (byte) ch;
                c++;
            } else if (ch < 0x800) {
                out[o++] = (byte) (0xc0 | (ch >> 6));
                out[o++] = (byte) (0x80 | (ch & 0x3f));
                c++;
            } else if (!Character.isSurrogate(ch)) {
                out[o++] = (byte) (0xe0 | (ch >> 12));
                out[o++] = (byte) (0x80 | ((ch >> 6) & 0x3f));
                out[o++] = (byte) (0x80 | (ch & 0x3f));
                c++;
            } else if (Character.isHighSurrogate(ch) && c + 1 < s.length() && Character.isLowSurrogate(s.charAt(c + 1))) {
                int cp = Character.toCodePoint(ch, s.charAt(c + 1));
                out[o++] = (byte) (0xf0 | (cp >> 18));
                out[o++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
                out[o++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
                out[o++] = (byte) (0x80 | (cp & 0x3f));
                c += 2;
                b += pairIsOneByte ? 0 : 1;
            } else {
                return null; // a lone surrogate
            }
            b++;
            p = nextNonAsciiOrQuestion(iso, b);
        }
    }

    /**
     * @param s a string
     * @return whether it holds a surrogate that is not part of a pair
     */
    public static boolean hasLoneSurrogate(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return true;
            }
        }
        return false;
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;
    private static final long QUESTIONS = ONES * '?';

    /** The index of the first byte from {@code i} on that has the high bit set or is '?'; the length if none. */
    private static int nextNonAsciiOrQuestion(byte[] b, int i) {
        int n = b.length;
        while (i + 8 <= n) { // eight bytes at a time: any high bit, or any byte equal to '?' (a zero byte of w ^ '?'s)
            long w = (long) LONGS.get(b, i);
            long q = w ^ QUESTIONS;
            if (((((q - ONES) & ~q) | w) & HIGHS) != 0) {
                break;
            }
            i += 8;
        }
        for (; i < n; i++) {
            if (b[i] < 0 || b[i] == '?') {
                return i;
            }
        }
        return n;
    }

    /** @param bytes bytes @return lowercase hex */
    public static String hex(byte[] bytes) {
        byte[] out = new byte[bytes.length * 2];
        for (int i = 0; i < bytes.length; i++) {
            out[2 * i] = HEX[(bytes[i] >> 4) & 0xf];
            out[2 * i + 1] = HEX[bytes[i] & 0xf];
        }
        return new String(out, StandardCharsets.ISO_8859_1);
    }

    /**
     * @param text lowercase hex of even length
     * @return the bytes
     * @throws IllegalArgumentException if the text is not lowercase hex
     */
    public static byte[] hexDecode(String text) {
        if (text.length() % 2 != 0) {
            throw new IllegalArgumentException("hex of odd length");
        }
        byte[] out = new byte[text.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = lowerHexDigit(text.charAt(2 * i));
            int lo = lowerHexDigit(text.charAt(2 * i + 1));
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    private static int lowerHexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        throw new IllegalArgumentException("not lowercase hex: '" + c + "'");
    }
}
