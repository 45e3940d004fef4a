package cn.consentry.client.grant;

import java.util.List;

/** A grant that breaks rules: every violation, each with its stable code (spec/grant.md §4). */
public final class GrantException extends Exception {
    private static final long serialVersionUID = 1L;

    /** One broken rule. */
    public record Violation(String code, String message) {
        @Override
        public String toString() {
            return code + ": " + message;
        }
    }

    private final transient List<Violation> violations;

    /** @param violations every violation (at least one) */
    public GrantException(List<Violation> violations) {
        super("invalid grant: " + violations);
        this.violations = List.copyOf(violations);
    }

    /** @return every violation, in the order the rules were checked */
    public List<Violation> violations() {
        return violations;
    }

    /** @return the first violation's code */
    public String code() {
        return violations.get(0).code();
    }
}
