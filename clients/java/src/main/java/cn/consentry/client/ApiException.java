package cn.consentry.client;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An RFC 9457 problem answered by a Consentry server: {@link #type()} is
 * {@code https://w3id.org/consentry/problems#<code>}, {@link #code()} the part after {@code #},
 * {@link #reasons()} every reason (release refusals, grant-invalid, 400 problems).
 */
public class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** One reason of a problem: a stable code and a message. */
    public static final class Reason {
        private final String code;
        private final String message;

        /** @param code the reason code @param message the message */
        public Reason(String code, String message) {
            this.code = code;
            this.message = message;
        }

        /** @return the reason code (spec/problems.md) */
        public String code() {
            return code;
        }

        /** @return the message */
        public String message() {
            return message;
        }

        @Override
        public String toString() {
            return code + ": " + message;
        }
    }

    private final int status;
    private final String type;
    private final String title;
    private final String detail;
    private final List<Reason> reasons;
    private final Long logIndex;
    private final transient Map<String, Object> body;

    /**
     * @param status the HTTP status
     * @param type the problem type URI
     * @param title the title
     * @param detail the detail
     * @param reasons the reasons
     * @param logIndex the logged refusal's index, if any
     * @param body the whole problem object
     */
    public ApiException(int status, String type, String title, String detail, List<Reason> reasons, Long logIndex, Map<String, Object> body) {
        super(status + " " + type + (detail == null ? "" : ": " + detail) + (reasons.isEmpty() ? "" : " " + reasons));
        this.status = status;
        this.type = type;
        this.title = title;
        this.detail = detail;
        this.reasons = List.copyOf(reasons);
        this.logIndex = logIndex;
        this.body = body;
    }

    /** @return the HTTP status */
    public int status() {
        return status;
    }

    /** @return the problem type URI */
    public String type() {
        return type;
    }

    /** @return the problem code (after {@code #}), e.g. {@code release-refused} */
    public String code() {
        int i = type.indexOf('#');
        return i < 0 ? type : type.substring(i + 1);
    }

    /** @return the title */
    public String title() {
        return title;
    }

    /** @return what went wrong in this case */
    public String detail() {
        return detail;
    }

    /** @return every reason */
    public List<Reason> reasons() {
        return reasons;
    }

    /** @param code a reason code @return whether one of the reasons has it */
    public boolean hasReason(String code) {
        return reasons.stream().anyMatch(r -> r.code().equals(code));
    }

    /** @return the index of the logged refusal ({@code release-refused} only) */
    public Optional<Long> logIndex() {
        return Optional.ofNullable(logIndex);
    }

    /** @return the problem object as received */
    public Map<String, Object> body() {
        return body;
    }
}
