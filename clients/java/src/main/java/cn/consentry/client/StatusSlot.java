package cn.consentry.client;

import java.util.Map;

/**
 * A status slot for one grant (POST /v1/status/slots).
 *
 * @param statusList the list-pair base URL; entries are {@code <statusList>/revocation} and {@code /suspension}
 * @param statusIndex the index in both lists
 */
public record StatusSlot(String statusList, long statusIndex) {
    static StatusSlot from(Map<String, Object> m) {
        return new StatusSlot(Fields.str(m, "statusList"), Fields.lng(m, "statusIndex"));
    }
}
