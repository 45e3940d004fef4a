package cn.consentry.client;

import static org.junit.jupiter.api.Assertions.*;

import cn.consentry.client.webhook.Webhooks;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** spec/notifications.md §6.1, the worked example. */
class WebhookTest {
    static final String DID = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw";
    static final String URL = "https://hooks.example.com/consentry?tenant=a";
    static final String BODY = "{\"id\":\"urn:uuid:7d3f5b1e-2c4a-4e8f-9b6d-0a1c2e3f4a5b\",\"type\":\"objection.updated\",\"createdAt\":\"2025-09-28T07:00:00Z\",\"recipient\":\"91440300708461136T\",\"data\":{\"objection\":\"obj-0b6f1c9e-3d2a-4e5f-8a7b-6c5d4e3f2a1b\",\"state\":\"forwarded\",\"at\":\"2025-09-28T15:00:00.000+08:00\",\"logIndex\":42,\"message\":\"异议 obj-0b6f1c9e-3d2a-4e5f-8a7b-6c5d4e3f2a1b 已转至节点。Objection obj-0b6f1c9e-3d2a-4e5f-8a7b-6c5d4e3f2a1b reached the node.\"}}";
    static final Instant AT = Instant.ofEpochSecond(1759042810);

    static Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("Content-Type", "application/json");
        h.put("Content-Digest", "sha-256=:4Ld6d0cRYjWMbvrECYYOMtq49I2Metwr9I4JzGqEzSc=:");
        h.put("Consentry-Event-Id", "urn:uuid:7d3f5b1e-2c4a-4e8f-9b6d-0a1c2e3f4a5b");
        h.put("Consentry-Event-Type", "objection.updated");
        h.put("Consentry-Sequence", "7");
        h.put("Signature-Input", "consentry=(\"@method\" \"@target-uri\" \"content-type\" \"content-digest\" \"consentry-event-id\" \"consentry-event-type\" \"consentry-sequence\");created=1759042800;expires=1759043100;nonce=\"5f0e8a3c9b1d4e7f2a6c0b9d8e7f6a5b\";keyid=\"" + DID + "#" + DID.substring(8) + "\";alg=\"ed25519\";tag=\"consentry-webhook\"");
        h.put("Signature", "consentry=:oouTJGtiDYOXNDmH3Vf0j8Io3EkY8O2tyMRYYZOz8Mkzc5pdJBsMGxBuqyhcypvmIYH/p8J/qZEm7f1fcxuuBA==:");
        return h;
    }

    @Test
    void theWorkedExampleVerifiesAndEveryChangeIsRefused() throws Exception {
        byte[] body = BODY.getBytes(StandardCharsets.UTF_8);
        assertEquals(431, body.length);
        Map<String, Object> event = Webhooks.verify("POST", URL, headers(), body, DID, AT);
        assertEquals("objection.updated", event.get("type"));
        byte[] changed = BODY.replace("\"logIndex\":42", "\"logIndex\":43").getBytes(StandardCharsets.UTF_8);
        Webhooks.WebhookException e = assertThrows(Webhooks.WebhookException.class, () -> Webhooks.verify("POST", URL, headers(), changed, DID, AT));
        assertTrue(e.getMessage().contains("Content-Digest"), e.getMessage());
        assertThrows(Webhooks.WebhookException.class, () -> Webhooks.verify("POST", URL.replace("tenant=a", "tenant=b"), headers(), body, DID, AT));
        Map<String, String> h = headers();
        h.put("Consentry-Sequence", "8");
        assertThrows(Webhooks.WebhookException.class, () -> Webhooks.verify("POST", URL, h, body, DID, AT));
        assertThrows(Webhooks.WebhookException.class, () -> Webhooks.verify("POST", URL, headers(), body, DID, AT.plusSeconds(400)));
        assertThrows(Webhooks.WebhookException.class, () -> Webhooks.verify("POST", URL, headers(), body,
                "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", AT));
    }
}
