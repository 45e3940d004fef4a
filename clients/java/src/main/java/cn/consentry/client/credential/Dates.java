package cn.consentry.client.credential;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** XML Schema {@code dateTimeStamp} parsing and the {@code YYYY-MM-DDTHH:MM:SSZ} form producers write. */
public final class Dates {
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'");

    private Dates() {}

    /**
     * Parses a dateTimeStamp: {@code YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm)}, upper-case {@code T}
     * and {@code Z}, a real date and time ({@code 24:00:00} is refused), offset within ±14:00.
     *
     * @param value the text
     * @return the instant
     * @throws IllegalArgumentException with the reason
     */
    public static Instant parseStamp(String value) {
        // YYYY-MM-DDThh:mm:ss, then an optional fraction, then Z or ±hh:mm, and nothing else
        // (ASCII digits only), read by position: what the pattern
        // (\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2}) matches.
        int n = value.length();
        boolean ok = n >= 20 && digits(value, 0, 4) && value.charAt(4) == '-' && digits(value, 5, 2) && value.charAt(7) == '-'
                && digits(value, 8, 2) && value.charAt(10) == 'T' && digits(value, 11, 2) && value.charAt(13) == ':'
                && digits(value, 14, 2) && value.charAt(16) == ':' && digits(value, 17, 2);
        int fracEnd = 19;
        if (ok && value.charAt(19) == '.') {
            fracEnd = 20;
            while (fracEnd < n && isDigit(value.charAt(fracEnd))) {
                fracEnd++;
            }
            ok = fracEnd > 20;
        }
        int zone = fracEnd;
        ok = ok && (zone == n - 1 && value.charAt(zone) == 'Z'
                || zone == n - 6 && (value.charAt(zone) == '+' || value.charAt(zone) == '-') && digits(value, zone + 1, 2)
                        && value.charAt(zone + 3) == ':' && digits(value, zone + 4, 2));
        if (!ok) {
            throw new IllegalArgumentException(quote(value) + " is not a dateTimeStamp (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm))");
        }
        try {
            LocalDate d = LocalDate.of(number(value, 0, 4), number(value, 5, 2), number(value, 8, 2));
            int nanos = 0;
            if (fracEnd > 20) {
                for (int i = 20; i < 29; i++) { // the first nine digits, zeros after the last
                    nanos = nanos * 10 + (i < fracEnd ? value.charAt(i) - '0' : 0);
                }
            }
            LocalTime t = LocalTime.of(number(value, 11, 2), number(value, 14, 2), number(value, 17, 2), nanos);
            int offsetSeconds = 0;
            if (value.charAt(zone) != 'Z') {
                int h = number(value, zone + 1, 2);
                int min = number(value, zone + 4, 2);
                if (h > 14 || min > 59) {
                    throw new IllegalArgumentException(quote(value) + ": time-zone offset beyond ±14:00");
                }
                offsetSeconds = (h * 3600 + min * 60) * (value.charAt(zone) == '-' ? -1 : 1);
            }
            return Instant.ofEpochSecond(d.toEpochDay() * 86_400 + t.toSecondOfDay() - offsetSeconds, nanos);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(quote(value) + " is not a valid date-time");
        }
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static boolean digits(String s, int from, int count) {
        for (int i = from; i < from + count; i++) {
            if (!isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static int number(String s, int from, int count) {
        int v = 0;
        for (int i = from; i < from + count; i++) {
            v = v * 10 + (s.charAt(i) - '0');
        }
        return v;
    }

    /** @param t an instant @return {@code YYYY-MM-DDTHH:MM:SSZ} (whole seconds, UTC) */
    public static String formatSeconds(Instant t) {
        return SECONDS.format(t.atOffset(ZoneOffset.UTC));
    }

    private static String quote(String v) {
        return "\"" + v + "\"";
    }
}
