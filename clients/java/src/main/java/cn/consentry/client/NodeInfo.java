package cn.consentry.client;

import java.util.Map;

/**
 * GET /v1/node.
 *
 * @param did the node's did:key (audience of assertions and signed requests)
 * @param publicUrl its public URL
 * @param logOrigin the access log's origin
 * @param logSize the log's current (unsigned) size
 * @param logRoot its root, hex
 * @param catalogVersion the catalog version
 * @param raw the whole answer
 */
public record NodeInfo(String did, String publicUrl, String logOrigin, long logSize, String logRoot, String catalogVersion, Map<String, Object> raw) {
    static NodeInfo from(Map<String, Object> m) {
        return new NodeInfo(Fields.str(m, "did"), Fields.str(m, "publicUrl"), Fields.str(m, "logOrigin"),
                Fields.lng(m, "logSize"), Fields.str(m, "logRoot"), Fields.optStr(m, "catalogVersion"), m);
    }
}
