package cn.consentry.client;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.grant.GrantVerifier;
import cn.consentry.client.grant.StatusLists;
import cn.consentry.client.grant.VerifiedGrant;
import cn.consentry.client.grant.VerifiedGrantCache;
import cn.consentry.client.json.Jcs;
import java.io.ByteArrayOutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Per-request cost of what a platform runs offline: grant verification (proof, data model, every
 * rule) plus the status check of both bits against cached, verified status lists, in each envelope;
 * then, per envelope, a {@code <envelope>/cached} row: the grant from a {@link VerifiedGrantCache}
 * (a hit: digest, time checks) instead of verified again, plus the same status check.
 * Run: {@code ./bench.sh} (or {@code java -cp target/classes:target/test-classes cn.consentry.client.Benchmark}).
 */
public final class Benchmark {
    private Benchmark() {}

    public static void main(String[] args) throws Exception {
        Instant at = Instant.parse("2027-01-01T00:00:00Z");
        KeyFile nodeKey = KeyFile.generate();
        Map<String, String> lists = new LinkedHashMap<>();
        for (String purpose : List.of("revocation", "suspension")) {
            String url = "https://node.example/status/1/" + purpose;
            ByteArrayOutputStream bos = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
                gz.write(new byte[16384]);
            }
            Map<String, Object> subject = new LinkedHashMap<>();
            subject.put("id", url + "#list");
            subject.put("type", "BitstringStatusList");
            subject.put("statusPurpose", purpose);
            subject.put("encodedList", "u" + Encoding.base64Url(bos.toByteArray()));
            Map<String, Object> cred = new LinkedHashMap<>();
            cred.put("@context", List.of("https://www.w3.org/ns/credentials/v2"));
            cred.put("id", url);
            cred.put("type", List.of("VerifiableCredential", "BitstringStatusListCredential"));
            cred.put("issuer", nodeKey.did().did());
            cred.put("validFrom", "2026-01-01T00:00:00Z");
            cred.put("credentialSubject", subject);
            lists.put(url, Jcs.canonicalize(Credentials.signDataIntegrity(cred, nodeKey, at.minusSeconds(60))));
        }
        Clock clock = Clock.fixed(at, java.time.ZoneOffset.UTC);
        StatusLists status = new StatusLists(lists::get, nodeKey.did().did(), Duration.ofMinutes(5), clock);
        GrantVerifier verifier = GrantVerifier.withBuiltinCatalog();
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        for (String file : List.of("spec/examples/grant.signed.di.json", "spec/examples/grant.signed.jwt")) {
            String text = Vectors.text(file);
            for (int i = 0; i < n / 2; i++) { // warm-up
                status.status(verifier.verify(text, at));
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                VerifiedGrant g = verifier.verify(text, at);
                if (status.status(g) != StatusLists.Status.ACTIVE) {
                    throw new IllegalStateException("not active");
                }
            }
            double us = (System.nanoTime() - t0) / 1e3 / n;
            System.out.printf("%-40s %8.1f µs/op (verify + status check, %d ops)%n", file.substring(file.lastIndexOf('/') + 1), us, n);
            // The same per request with the grant from a VerifiedGrantCache (a hit after the first call).
            VerifiedGrantCache cache = new VerifiedGrantCache(verifier);
            for (int i = 0; i < n / 2; i++) { // warm-up
                status.status(cache.verify(text, at));
            }
            t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                VerifiedGrant g = cache.verify(text, at);
                if (status.status(g) != StatusLists.Status.ACTIVE) {
                    throw new IllegalStateException("not active");
                }
            }
            us = (System.nanoTime() - t0) / 1e3 / n;
            String env = file.endsWith(".jwt") ? "vc-jwt" : "data-integrity";
            System.out.printf("%-40s %8.1f µs/op (cache.verify + status check, %d ops)%n", env + "/cached", us, n);
        }
    }
}
