package cn.consentry.client;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Ed25519;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.grant.GrantVerifier;
import cn.consentry.client.grant.StatusLists;
import cn.consentry.client.grant.VerifiedGrant;
import cn.consentry.client.grant.VerifiedGrantCache;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
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
 * (a hit: digest, time checks) instead of verified again, plus the same status check. Last, on
 * standard error, the floor: the Ed25519 implementation's bare verify ({@code bare ed25519 verify}).
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
        bareEd25519(n);
    }

    /**
     * The floor under the uncached rows: the Ed25519 implementation's own verify, nothing around it,
     * on the VC-JWT's signing input (its real key and signature) and on a 64-byte message (what a
     * Data Integrity proof signs). Printed to standard error: clients/bench.sh reads only standard
     * output, where a row it does not know would be taken for a data-integrity row.
     */
    static void bareEd25519(int n) {
        String[] jws = Credentials.trim(Vectors.text("spec/examples/grant.signed.jwt")).split("\\.");
        Map<String, Object> header = Json.parseObject(new String(Encoding.base64UrlDecode(jws[0]), StandardCharsets.UTF_8));
        byte[] pk = DidKey.parseVerificationMethod((String) header.get("kid")).publicKey();
        byte[] sig = Encoding.base64UrlDecode(jws[2]);
        byte[] input = (jws[0] + "." + jws[1]).getBytes(StandardCharsets.US_ASCII);
        byte[] seed = new byte[32];
        seed[0] = 7;
        byte[] pk64 = Ed25519.publicKeyOf(seed);
        byte[] msg64 = new byte[64];
        byte[] sig64 = Ed25519.sign(seed, msg64);
        boolean bc = "bouncycastle".equals(Ed25519.implementation());
        for (Object[] c : new Object[][] {{pk, input, sig}, {pk64, msg64, sig64}}) {
            byte[] k = (byte[]) c[0];
            byte[] m = (byte[]) c[1];
            byte[] s = (byte[]) c[2];
            for (int i = 0; i < n / 2; i++) { // warm-up
                bareVerify(bc, k, m, s);
            }
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (!bareVerify(bc, k, m, s)) {
                    throw new IllegalStateException("does not verify");
                }
            }
            double us = (System.nanoTime() - t0) / 1e3 / n;
            System.err.printf("%-40s %8.1f µs/op (%s Ed25519 verify alone, %d-byte message, %d ops)%n",
                    "bare ed25519 verify", us, bc ? "Bouncy Castle's" : "the library's (JDK)", m.length, n);
        }
    }

    private static boolean bareVerify(boolean bc, byte[] pk, byte[] m, byte[] s) {
        return bc ? org.bouncycastle.math.ec.rfc8032.Ed25519.verify(s, 0, pk, 0, m, 0, m.length) : Ed25519.verify(pk, m, s);
    }
}
