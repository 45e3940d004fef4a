package cn.consentry.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A release request (POST /v1/releases).
 *
 * @param enterprise the enterprise's USCC
 * @param grant the grant id (null for public categories only)
 * @param categories the category codes
 * @param purpose the purpose code
 * @param granularity {@code derived} or {@code raw} (null: the server's default, derived)
 * @param onBehalfOf a bank's USCC when a platform asks the node for its bank (null otherwise)
 */
public record ReleaseRequest(String enterprise, String grant, List<String> categories, String purpose, String granularity, String onBehalfOf) {
    /**
     * A request for derived results.
     *
     * @param enterprise the enterprise
     * @param grant the grant id
     * @param categories the codes
     * @param purpose the purpose
     * @return the request
     */
    public static ReleaseRequest derived(String enterprise, String grant, List<String> categories, String purpose) {
        return new ReleaseRequest(enterprise, grant, categories, purpose, null, null);
    }

    /** @param g {@code raw} or {@code derived} @return a copy asking that granularity */
    public ReleaseRequest withGranularity(String g) {
        return new ReleaseRequest(enterprise, grant, categories, purpose, g, onBehalfOf);
    }

    Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("enterprise", enterprise);
        if (grant != null) {
            m.put("grant", grant);
        }
        m.put("categories", List.copyOf(categories));
        m.put("purpose", purpose);
        if (granularity != null) {
            m.put("granularity", granularity);
        }
        if (onBehalfOf != null) {
            m.put("onBehalfOf", onBehalfOf);
        }
        return m;
    }
}
