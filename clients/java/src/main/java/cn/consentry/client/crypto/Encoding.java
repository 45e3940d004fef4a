package cn.consentry.client.crypto;

import java.math.BigInteger;
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

    private Encoding() {}

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
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok) {
                throw new IllegalArgumentException("not base64url: character '" + c + "' at " + i);
            }
        }
        if (text.length() % 4 == 1) {
            throw new IllegalArgumentException("not base64url: impossible length " + text.length());
        }
        // Canonical: the unused low bits of the last character are zero (4 bits when the length
        // is 2 mod 4, 2 bits when 3 mod 4), checked without re-encoding.
        int rem = text.length() % 4;
        if (rem != 0) {
            int last = base64UrlValue(text.charAt(text.length() - 1));
            int unused = rem == 2 ? 0x0f : 0x03;
            if ((last & unused) != 0) {
                throw new IllegalArgumentException("not canonical base64url: non-zero unused bits");
            }
        }
        return Base64.getUrlDecoder().decode(text);
    }

    private static int base64UrlValue(char c) {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        return c == '-' ? 62 : 63;
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
            n = n.multiply(FIFTY_EIGHT).add(BigInteger.valueOf(d));
        }
        byte[] mag = n.signum() == 0 ? new byte[0] : n.toByteArray();
        if (mag.length > 0 && mag[0] == 0) {
            mag = Arrays.copyOfRange(mag, 1, mag.length);
        }
        byte[] out = new byte[zeros + mag.length];
        System.arraycopy(mag, 0, out, zeros, mag.length);
        return out;
    }

    /** @param bytes bytes @return lowercase hex */
    public static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
        }
        return sb.toString();
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
