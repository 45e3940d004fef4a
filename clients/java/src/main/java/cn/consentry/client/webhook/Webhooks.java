package cn.consentry.client.webhook;

import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.json.Json;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Verifies a Consentry webhook delivery in one call (spec/notifications.md §6): RFC 9421 signature
 * tagged {@code consentry-webhook} by the pinned node DID over the seven components, and the
 * RFC 9530 {@code Content-Digest} of the body.
 */
public final class Webhooks {
    private static final List<String> COVERED = List.of("@method", "@target-uri", "content-type", "content-digest",
            "consentry-event-id", "consentry-event-type", "consentry-sequence");
    private static final Pattern MEMBER = Pattern.compile("([a-z*][a-z0-9_.*-]*)=(\\([^)]*\\)((?:;[a-z0-9_.*-]+=(?:\"[^\"\\\\]*\"|-?[0-9]+))*))");
    private static final Pattern PARAM = Pattern.compile(";([a-z0-9_.*-]+)=(\"[^\"\\\\]*\"|-?[0-9]+)");
    private static final Pattern SIG = Pattern.compile("([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/=]*):");

    private Webhooks() {}

    /** A delivery that must not be acted on; the message says why. */
    public static final class WebhookException extends Exception {
        private static final long serialVersionUID = 1L;

        WebhookException(String m) {
            super(m);
        }
    }

    /**
     * Verifies a delivery.
     *
     * @param method the request method
     * @param registeredUrl the endpoint URL as registered (its normalized form)
     * @param headers the received header fields (names in any case)
     * @param body the received body bytes
     * @param nodeDid the pinned node DID
     * @param now the receiver's time
     * @return the event (the parsed body)
     * @throws WebhookException with the reason
     */
    public static Map<String, Object> verify(String method, String registeredUrl, Map<String, String> headers, byte[] body,
                                             String nodeDid, Instant now) throws WebhookException {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach((k, v) -> h.put(k, v.strip()));
        String input = h.get("signature-input");
        String signature = h.get("signature");
        if (input == null || signature == null) {
            throw new WebhookException("no Signature-Input or Signature");
        }
        String label = null;
        String inner = null;
        Map<String, String> params = null;
        Matcher m = MEMBER.matcher(input);
        int count = 0;
        while (m.find()) {
            Map<String, String> ps = new TreeMap<>();
            Matcher pm = PARAM.matcher(m.group(3));
            while (pm.find()) {
                ps.put(pm.group(1), pm.group(2));
            }
            if ("\"consentry-webhook\"".equals(ps.get("tag"))) {
                count++;
                label = m.group(1);
                inner = m.group(2);
                params = ps;
            }
        }
        if (count != 1) {
            throw new WebhookException("expected exactly one signature tagged consentry-webhook, found " + count);
        }
        byte[] sig = null;
        Matcher sm = SIG.matcher(signature);
        while (sm.find()) {
            if (sm.group(1).equals(label)) {
                try {
                    sig = Encoding.base64Decode(sm.group(2));
                } catch (IllegalArgumentException e) {
                    throw new WebhookException("the signature is not base64");
                }
            }
        }
        if (sig == null || sig.length != 64) {
            throw new WebhookException("no 64-byte signature labelled " + label);
        }
        List<String> components = new ArrayList<>();
        for (String c : inner.substring(1, inner.indexOf(')')).trim().split("\\s+")) {
            if (!c.matches("\"[a-z@-]+\"")) {
                throw new WebhookException("component " + c + " has parameters or is not a lowercase string");
            }
            components.add(c.substring(1, c.length() - 1));
        }
        if (!components.containsAll(COVERED)) {
            throw new WebhookException("the signature does not cover " + COVERED);
        }
        if (!"\"ed25519\"".equals(params.get("alg"))) {
            throw new WebhookException("alg must be ed25519");
        }
        if (params.get("created") == null || params.get("created").startsWith("\"")) {
            throw new WebhookException("created is missing");
        }
        long created = Long.parseLong(params.get("created"));
        long t = now.getEpochSecond();
        if (created > t + 5 || created < t - 300) {
            throw new WebhookException("created " + created + " is in the future or older than 300 s");
        }
        if (params.containsKey("expires")) {
            long exp = Long.parseLong(params.get("expires"));
            if (exp <= created || exp < t) {
                throw new WebhookException("the signature expired");
            }
        }
        DidKey node = DidKey.parse(nodeDid);
        if (!("\"" + node.verificationMethod() + "\"").equals(params.get("keyid"))) {
            throw new WebhookException("keyid " + params.get("keyid") + " is not the pinned node's key");
        }
        StringBuilder base = new StringBuilder();
        for (String c : components) {
            String v;
            if (c.equals("@method")) {
                v = method.toUpperCase(Locale.ROOT);
            } else if (c.equals("@target-uri")) {
                v = registeredUrl;
            } else {
                v = h.get(c);
                if (v == null) {
                    throw new WebhookException("header " + c + " is missing");
                }
            }
            base.append('"').append(c).append("\": ").append(v).append('\n');
        }
        base.append("\"@signature-params\": ").append(inner);
        if (!node.verify(base.toString().getBytes(StandardCharsets.UTF_8), sig)) {
            throw new WebhookException("the signature does not verify");
        }
        String digest = "sha-256=:" + Encoding.base64(sha256(body)) + ":";
        if (!digest.equals(h.get("content-digest"))) {
            throw new WebhookException("Content-Digest does not match the body");
        }
        Map<String, Object> event;
        try {
            event = Json.parseObject(new String(body, StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new WebhookException("the body is not a JSON object: " + e.getMessage());
        }
        if (!String.valueOf(event.get("id")).equals(h.get("consentry-event-id")) || !String.valueOf(event.get("type")).equals(h.get("consentry-event-type"))) {
            throw new WebhookException("the body's id and type are not the signed headers'");
        }
        return event;
    }

    private static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
