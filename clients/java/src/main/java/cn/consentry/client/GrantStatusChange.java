package cn.consentry.client;

import java.util.Map;

/**
 * The answer to a revocation, suspension or resumption.
 *
 * @param id the grant id
 * @param state {@code active}, {@code suspended} or {@code revoked}
 * @param logIndex the change's log entry
 */
public record GrantStatusChange(String id, String state, long logIndex) {
    static GrantStatusChange from(Map<String, Object> m) {
        return new GrantStatusChange(Fields.str(m, "id"), Fields.str(m, "state"), Fields.lng(m, "logIndex"));
    }
}
