package cn.consentry.client.grant;

/** The Unified Social Credit Code check (GB 32100-2015 with GB 11714-1997; spec/grant.md §6.1). */
public final class Uscc {
    private static final String CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    private static final int[] ORG_WEIGHTS = {3, 7, 9, 10, 5, 8, 4, 2};

    private Uscc() {}

    /**
     * @param code a USCC
     * @return null when valid, else the reason (length, character, division digits, organization-code
     *     check or final check)
     */
    public static String problem(String code) {
        if (code.length() != 18) {
            return "length " + code.length() + ", not 18";
        }
        for (int i = 0; i < 18; i++) {
            if (CHARS.indexOf(code.charAt(i)) < 0) {
                return "character '" + code.charAt(i) + "' at position " + (i + 1) + " is not in the code set";
            }
        }
        for (int i = 2; i < 8; i++) {
            if (!Character.isDigit(code.charAt(i))) {
                return "positions 3–8 (the division) must be digits";
            }
        }
        int sum = 0;
        for (int i = 0; i < 8; i++) {
            char c = code.charAt(8 + i);
            int v = Character.isDigit(c) ? c - '0' : c - 'A' + 10;
            sum += v * ORG_WEIGHTS[i];
        }
        int c17 = 11 - sum % 11;
        char want17 = c17 == 10 ? 'X' : c17 == 11 ? '0' : (char) ('0' + c17);
        if (code.charAt(16) != want17) {
            return "the organization-code check character is wrong";
        }
        int total = 0;
        int w = 1;
        for (int i = 0; i < 17; i++) {
            total += CHARS.indexOf(code.charAt(i)) * w;
            w = w * 3 % 31;
        }
        int c18 = (31 - total % 31) % 31;
        if (code.charAt(17) != CHARS.charAt(c18)) {
            return "the final check character is wrong";
        }
        return null;
    }

    /** @param code a USCC @return whether it is valid */
    public static boolean isValid(String code) {
        return problem(code) == null;
    }
}
