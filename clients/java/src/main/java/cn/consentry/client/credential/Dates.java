package cn.consentry.client.credential;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** XML Schema {@code dateTimeStamp} parsing and the {@code YYYY-MM-DDTHH:MM:SSZ} form producers write. */
public final class Dates {
    private static final Pattern STAMP = Pattern.compile(
            "(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");
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
        Matcher m = STAMP.matcher(value);
        if (!m.matches()) {
            throw new IllegalArgumentException(quote(value) + " is not a dateTimeStamp (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm))");
        }
        try {
            LocalDate d = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
            int nanos = 0;
            if (m.group(7) != null) {
                String frac = (m.group(7).substring(1) + "000000000").substring(0, 9);
                nanos = Integer.parseInt(frac);
            }
            LocalTime t = LocalTime.of(Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6)), nanos);
            ZoneOffset off;
            if (m.group(8).equals("Z")) {
                off = ZoneOffset.UTC;
            } else {
                int h = Integer.parseInt(m.group(8).substring(1, 3));
                int min = Integer.parseInt(m.group(8).substring(4, 6));
                if (h > 14 || min > 59) {
                    throw new IllegalArgumentException(quote(value) + ": time-zone offset beyond ±14:00");
                }
                int secs = (h * 3600 + min * 60) * (m.group(8).charAt(0) == '-' ? -1 : 1);
                off = ZoneOffset.ofTotalSeconds(secs);
            }
            return OffsetDateTime.of(LocalDateTime.of(d, t), off).toInstant();
        } catch (DateTimeException e) {
            throw new IllegalArgumentException(quote(value) + " is not a valid date-time");
        }
    }

    /** @param t an instant @return {@code YYYY-MM-DDTHH:MM:SSZ} (whole seconds, UTC) */
    public static String formatSeconds(Instant t) {
        return SECONDS.format(t.atOffset(ZoneOffset.UTC));
    }

    private static String quote(String v) {
        return "\"" + v + "\"";
    }
}
