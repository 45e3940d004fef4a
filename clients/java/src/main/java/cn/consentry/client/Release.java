package cn.consentry.client;

import java.util.Map;
import java.util.Optional;

/**
 * A release answer: the data, its digest, the log entry and the signed inclusion promise; at a
 * platform also the node's entry it relied on ({@link #upstream()}).
 *
 * @param requestId the request id
 * @param enterprise the enterprise
 * @param data one member per category
 * @param dataSha256 SHA-256 of the JCS of {@code data}, hex
 * @param logIndex the entry in the answering server's log
 * @param leafHash its leaf hash, hex
 * @param receipt the inclusion promise (verify with {@link cn.consentry.client.log.Receipts#verifyPromise})
 * @param raw the whole answer
 */
public record Release(String requestId, String enterprise, Map<String, Object> data, String dataSha256, long logIndex,
                      String leafHash, Map<String, Object> receipt, Map<String, Object> raw) {
    static Release from(Map<String, Object> m) {
        return new Release(Fields.optStr(m, "requestId"), Fields.str(m, "enterprise"), Fields.obj(m, "data"), Fields.str(m, "dataSha256"),
                Fields.lng(m, "logIndex"), Fields.str(m, "leafHash"), Fields.obj(m, "receipt"), m);
    }

    /**
     * The node's entry behind a platform's onward release.
     *
     * @param origin the node log's origin
     * @param index the entry
     * @param leafHash its leaf hash, hex
     * @param receipt the node's inclusion promise
     */
    public record Upstream(String origin, long index, String leafHash, Map<String, Object> receipt) {}

    /** @return the node's entry, when a platform answered */
    public Optional<Upstream> upstream() {
        if (!(raw.get("upstream") instanceof Map)) {
            return Optional.empty();
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> u = (Map<String, Object>) raw.get("upstream");
        return Optional.of(new Upstream(Fields.str(u, "origin"), Fields.lng(u, "index"), Fields.str(u, "leafHash"), Fields.obj(u, "receipt")));
    }
}
