package cn.consentry.client.grant;

import static org.junit.jupiter.api.Assertions.*;

import java.math.BigInteger;
import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.Random;
import java.util.regex.Pattern;
import cn.consentry.client.Mutations;
import org.junit.jupiter.api.Test;

/** The grant id, status index and date checks of {@link GrantRules} (read by position) against the patterns they replaced. */
class GrantRulesTextChecksTest {
    private static final Pattern GRANT_ID = Pattern.compile("urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern INDEX = Pattern.compile("0|[1-9][0-9]*");
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");

    static String mutate(Random r, String seed, String alphabet) {
        return Mutations.mutate(r, seed, alphabet, 0);
    }

    @Test
    void grantIdsAsThePattern() {
        Random r = new Random(6);
        for (int i = 0; i < 50_000; i++) {
            String s = mutate(r, "urn:uuid:3f9a6c2e-8a1b-4c55-9d0e-7b2f1a4c5d60", "0af9AFg-:u\u0661");
            assertEquals(GRANT_ID.matcher(s).matches(), GrantRules.isGrantId(s), s);
        }
    }

    @Test
    void statusIndexesAsThePatternAndBigInteger() {
        Random r = new Random(7);
        String[] seeds = {"0", "7", "131071", "18446744073709551615", "18446744073709551616", "99999999999999999999", "9223372036854775808"};
        for (int i = 0; i < 50_000; i++) {
            String s = mutate(r, seeds[r.nextInt(seeds.length)], "0123456789-+ a\u0661");
            boolean want = INDEX.matcher(s).matches() && s.length() <= 20 && new BigInteger(s).bitLength() <= 64;
            assertEquals(want, GrantRules.isU64(s), s);
        }
        assertTrue(GrantRules.isU64("18446744073709551615"));
        assertFalse(GrantRules.isU64("18446744073709551616"));
        assertFalse(GrantRules.isU64(""));
        assertFalse(GrantRules.isU64("01"));
    }

    @Test
    void datesAsThePatternAndLocalDateParse() {
        Random r = new Random(8);
        String[] seeds = {"2026-12-01", "2024-02-29", "2023-02-29", "0000-01-01", "2027-13-01", "2027-04-31", "2027-00-10"};
        for (int i = 0; i < 50_000; i++) {
            String s = mutate(r, seeds[r.nextInt(seeds.length)], "0123456789-T \u0661");
            LocalDate want = null;
            if (DATE.matcher(s).matches()) {
                try {
                    want = LocalDate.parse(s);
                } catch (DateTimeException e) {
                    want = null;
                }
            }
            assertEquals(want, GrantRules.parseDate(s), s);
        }
    }
}
