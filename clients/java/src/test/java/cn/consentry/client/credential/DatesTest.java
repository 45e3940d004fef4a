package cn.consentry.client.credential;

import cn.consentry.client.Mutations;
import static org.junit.jupiter.api.Assertions.*;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@link Dates#parseStamp} (read by position) against the pattern-and-java.time reader it replaced, on mutated stamps. */
class DatesTest {
    private static final Pattern STAMP = Pattern.compile(
            "(\\d{4})-(\\d{2})-(\\d{2})T(\\d{2}):(\\d{2}):(\\d{2})(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})");

    /** The reader this library had before; its result or its exception's message. */
    static Object reference(String value) {
        Matcher m = STAMP.matcher(value);
        if (!m.matches()) {
            return "\"" + value + "\" is not a dateTimeStamp (YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm))";
        }
        try {
            LocalDate d = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
            int nanos = 0;
            if (m.group(7) != null) {
                nanos = Integer.parseInt((m.group(7).substring(1) + "000000000").substring(0, 9));
            }
            LocalTime t = LocalTime.of(Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)), Integer.parseInt(m.group(6)), nanos);
            ZoneOffset off;
            if (m.group(8).equals("Z")) {
                off = ZoneOffset.UTC;
            } else {
                int h = Integer.parseInt(m.group(8).substring(1, 3));
                int min = Integer.parseInt(m.group(8).substring(4, 6));
                if (h > 14 || min > 59) {
                    return "\"" + value + "\": time-zone offset beyond ±14:00";
                }
                off = ZoneOffset.ofTotalSeconds((h * 3600 + min * 60) * (m.group(8).charAt(0) == '-' ? -1 : 1));
            }
            return OffsetDateTime.of(LocalDateTime.of(d, t), off).toInstant();
        } catch (DateTimeException e) {
            return "\"" + value + "\" is not a valid date-time";
        }
    }

    static Object actual(String value) {
        try {
            return Dates.parseStamp(value);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Test
    void readsAsThePatternReaderDid() {
        String[] seeds = {"2027-01-01T00:00:00Z", "2026-12-31T23:59:59.999999999999+14:00", "0000-02-29T12:30:00.5-00:00",
            "2024-02-29T24:00:00Z", "2023-02-29T00:00:00Z", "9999-12-31T23:59:59-14:59", "2027-01-01T00:00:00+14:01",
            "2027-01-01T00:00:00+15:00", "2027-13-01T00:00:00Z", "2027-01-01T00:60:00Z", "2027-01-01T00:00:00.Z"};
        String alphabet = "0123456789-T:.Z+z t\u0661";
        Random r = new Random(5);
        for (String seed : seeds) {
            assertEquals(reference(seed), actual(seed), seed);
        }
        for (int i = 0; i < 100_000; i++) {
            String s = Mutations.mutate(r, seeds[r.nextInt(seeds.length)], alphabet, 1);
            assertEquals(reference(s), actual(s), s);
        }
        assertEquals(Instant.parse("2027-01-01T00:00:00Z"), Dates.parseStamp("2027-01-01T08:00:00+08:00"));
        assertEquals(Instant.parse("2026-12-31T23:59:59.123456789Z"), Dates.parseStamp("2026-12-31T23:59:59.1234567891Z"));
    }
}
