package cn.consentry.client;

import java.util.Random;

/** Random edits of a seed string, for the tests that check a rewritten routine against the one it replaced. */
public final class Mutations {
    private Mutations() {}

    /**
     * {@code seed} with {@code minEdits} to {@code minEdits + 2} random edits (replace, insert or delete one
     * character; replaced and inserted characters drawn from {@code alphabet}).
     */
    public static String mutate(Random r, String seed, String alphabet, int minEdits) {
        StringBuilder sb = new StringBuilder(seed);
        for (int k = minEdits + r.nextInt(3); k > 0; k--) {
            int at = r.nextInt(sb.length() + 1);
            char c = alphabet.charAt(r.nextInt(alphabet.length()));
            switch (r.nextInt(3)) {
                case 0: if (at < sb.length()) sb.setCharAt(at, c); break;
                case 1: sb.insert(at, c); break;
                default: if (at < sb.length()) sb.deleteCharAt(at);
            }
        }
        return sb.toString();
    }
}
