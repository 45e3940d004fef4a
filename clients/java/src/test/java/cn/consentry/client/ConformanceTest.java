package cn.consentry.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.credential.Jws;
import cn.consentry.client.credential.ProofException;
import cn.consentry.client.credential.VerifiedCredential;
import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Ed25519;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.grant.GrantException;
import cn.consentry.client.grant.GrantVerifier;
import cn.consentry.client.grant.StatusException;
import cn.consentry.client.grant.StatusLists;
import cn.consentry.client.grant.VerifiedGrant;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import cn.consentry.client.json.JsonException;
import cn.consentry.client.log.Merkle;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Runs every case of spec/vectors/conformance.json (consentry-conformance/v1) and prints the
 * number passed per kind; fails unless every case passes.
 */
class ConformanceTest {
    /** A case's outcome: accepted with a value, or rejected with a code. */
    private static final class Reject extends Exception {
        private static final long serialVersionUID = 1L;
        final String code;

        Reject(String code, String message) {
            super(code + ": " + message);
            this.code = code;
        }
    }

    @Test
    void everyCasePasses() {
        // The manifest carries integers beyond 2^53 (e.g. 2^64 − 1 in Merkle probes): read it keeping them exact.
        Map<?, ?> suite = (Map<?, ?>) Json.parse(Vectors.text("spec/vectors/conformance.json"), true);
        assertEquals("consentry-conformance/v1", suite.get("format"));
        Map<String, Integer> passed = new TreeMap<>();
        Map<String, Integer> total = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        for (Object o : (List<?>) suite.get("cases")) {
            Map<?, ?> c = (Map<?, ?>) o;
            String kind = (String) c.get("kind");
            total.merge(kind, 1, Integer::sum);
            String problem = run(c);
            if (problem == null) {
                passed.merge(kind, 1, Integer::sum);
            } else {
                failures.add(c.get("id") + ": " + problem);
            }
        }
        System.out.println("conformance (java): passed per kind");
        int sum = 0;
        for (String k : total.keySet()) {
            int p = passed.getOrDefault(k, 0);
            sum += p;
            System.out.printf("  %-22s %d/%d%n", k, p, total.get(k));
        }
        System.out.printf("  %-22s %d/%d%n", "total", sum, ((Number) suite.get("total")).intValue());
        failures.forEach(f -> System.out.println("  FAIL " + f));
        Map<String, Integer> counts = new TreeMap<>();
        ((Map<?, ?>) suite.get("counts")).forEach((k, v) -> counts.put((String) k, ((Number) v).intValue()));
        assertEquals(counts, total, "the kinds and counts of the manifest");
        assertTrue(failures.isEmpty(), failures.size() + " conformance cases failed: " + failures);
    }

    /** @return null when the case passes, else why not */
    private static String run(Map<?, ?> c) {
        boolean accept = "accept".equals(c.get("expect"));
        Object value;
        try {
            value = exec(c);
        } catch (Reject r) {
            if (accept) {
                return "rejected: " + r.getMessage();
            }
            Object want = c.get("reason");
            return want == null || want.equals(r.code) ? null : "rejected with " + r.code + ", expected " + want + " (" + r.getMessage() + ")";
        } catch (RuntimeException e) {
            if (accept) {
                return "failed: " + e;
            }
            return c.get("reason") == null ? null : "rejected without the code " + c.get("reason") + ": " + e;
        }
        if (!accept) {
            return "accepted, expected a rejection (" + c.get("reason") + ")";
        }
        return value == null ? null : value.toString();
    }

    private static long lng(Object o) throws Reject {
        if (o instanceof java.math.BigInteger) {
            throw new Reject("out-of-range", o + " does not fit a signed 64-bit index");
        }
        return ((Number) o).longValue();
    }

    private static Instant at(Map<?, ?> c) {
        return Instant.parse((String) c.get("at"));
    }

    private static String expectEq(Object want, Object got) {
        return Objects.equals(want, got) ? null : "got " + got + ", expected " + want;
    }

    private static Reject proof(ProofException e) {
        String code = e.code();
        if (code.equals("verification-method") && (e.getMessage().contains("weak") || e.getMessage().contains("not an Ed25519 point")
                || e.getMessage().contains("multicodec") || e.getMessage().contains("non-canonical"))) {
            code = "invalidPublicKey";
        }
        return new Reject(code, e.getMessage());
    }

    /** @return a mismatch message (the case fails), or null when the accepted value is right */
    private static Object exec(Map<?, ?> c) throws Reject {
        switch ((String) c.get("kind")) {
            case "jcs": {
                Object v;
                try {
                    v = Json.parse((String) c.get("input"));
                } catch (JsonException e) {
                    String code = e.kind() == JsonException.Kind.DUPLICATE_KEY ? "duplicate-key"
                            : e.kind() == JsonException.Kind.UNSAFE_INTEGER ? "unsafe-integer" : "invalid-json";
                    throw new Reject(code, e.getMessage());
                }
                return expectEq(c.get("canonical"), Jcs.canonicalize(v));
            }
            case "jcs-number": {
                double d = Double.longBitsToDouble(Long.parseUnsignedLong((String) c.get("ieee754Hex"), 16));
                if (!Double.isFinite(d)) {
                    throw new Reject("not-a-finite-number", "NaN or infinity");
                }
                return expectEq(c.get("canonical"), Jcs.formatNumber(d));
            }
            case "jcs-numbers": {
                String[] lines = Vectors.text((String) c.get("file")).split("\n");
                int rows = 0;
                for (int i = 1; i < lines.length; i++) {
                    if (lines[i].isEmpty()) {
                        continue;
                    }
                    String[] f = lines[i].split(",");
                    String got = Jcs.formatNumber(Double.longBitsToDouble(Long.parseUnsignedLong(f[0], 16)));
                    if (!got.equals(f[1])) {
                        return "row " + i + ": " + got + " != " + f[1];
                    }
                    rows++;
                }
                return expectEq(((Number) c.get("rows")).intValue(), rows);
            }
            case "did-key": {
                String did = (String) c.get("did");
                DidKey k;
                try {
                    k = DidKey.parse(did);
                } catch (IllegalArgumentException e) {
                    boolean shape = !did.startsWith("did:key:z") || did.substring(8).contains(":");
                    throw new Reject(shape ? "invalidDid" : "invalidPublicKey", e.getMessage());
                }
                return expectEq(c.get("publicKeyHex"), Encoding.hex(k.publicKey()));
            }
            case "ed25519-sign": {
                byte[] seed = Encoding.hexDecode((String) c.get("secretKeyHex"));
                return expectEq(c.get("signatureHex"), Encoding.hex(Ed25519.sign(seed, Encoding.hexDecode((String) c.get("messageHex")))));
            }
            case "ed25519-verify": {
                byte[] pub = Encoding.hexDecode((String) c.get("publicKeyHex"));
                try {
                    Ed25519.checkPublicKey(pub);
                } catch (Ed25519.KeyException e) {
                    throw new Reject(e.getMessage().startsWith("weak") ? "weak-key" : "invalid-signature", e.getMessage());
                }
                if (!Ed25519.verify(pub, Encoding.hexDecode((String) c.get("messageHex")), Encoding.hexDecode((String) c.get("signatureHex")))) {
                    throw new Reject("invalid-signature", "does not verify");
                }
                return null;
            }
            case "data-integrity-verify":
                try {
                    VerifiedCredential v = Credentials.verify((String) c.get("document"), at(c));
                    return v.envelope() == VerifiedCredential.Envelope.DATA_INTEGRITY ? null : "not Data Integrity";
                } catch (ProofException e) {
                    throw proof(e);
                }
            case "data-integrity-sign": {
                String sk = (String) c.get("secretKeyMultibase");
                byte[] raw = Encoding.base58Decode(sk.substring(1));
                KeyFile key = KeyFile.fromSeed(java.util.Arrays.copyOfRange(raw, 2, 34));
                @SuppressWarnings("unchecked")
                Map<String, Object> unsigned = (Map<String, Object>) Json.parse((String) c.get("unsigned"));
                Map<String, Object> signed = Credentials.signDataIntegrity(unsigned, key, Instant.parse((String) c.get("created")));
                return expectEq(c.get("proofValue"), ((Map<?, ?>) signed.get("proof")).get("proofValue"));
            }
            case "vc-jwt-verify":
                try {
                    VerifiedCredential v = Credentials.verifyVcJwt((String) c.get("jwt"), at(c));
                    return v.envelope() == VerifiedCredential.Envelope.VC_JWT ? null : "not a VC-JWT";
                } catch (ProofException e) {
                    throw proof(e);
                }
            case "jws-verify":
                try {
                    Jws.verifyWithKey((String) c.get("jws"), Encoding.hexDecode((String) c.get("publicKeyHex")));
                    return null;
                } catch (ProofException e) {
                    throw new Reject(e.code().equals("bad-signature") ? "invalid-signature" : e.code(), e.getMessage());
                }
            case "grant-verify":
                try {
                    VerifiedGrant g = GrantVerifier.withBuiltinCatalog().verify((String) c.get("grant"), at(c));
                    String env = g.envelope() == VerifiedCredential.Envelope.DATA_INTEGRITY ? "di" : "jwt";
                    String m = expectEq(c.get("grantId"), g.id());
                    return m != null ? m : expectEq(c.get("envelope"), env);
                } catch (GrantException e) {
                    throw new Reject(e.code(), e.getMessage());
                }
            case "status-list":
                try {
                    int size = ((Number) c.get("statusSize")).intValue();
                    byte[] bits = StatusLists.decode((String) c.get("encodedList"), size);
                    int got = StatusLists.read(bits, size, lng(c.get("index")));
                    return expectEq(((Number) c.get("value")).intValue(), got);
                } catch (StatusException e) {
                    throw new Reject(e.code(), e.getMessage());
                }
            case "status-check":
                try {
                    int v = StatusLists.check((String) c.get("credential"), (String) c.get("statusListCredential"), at(c));
                    return expectEq(((Number) c.get("status")).intValue(), v);
                } catch (StatusException e) {
                    throw new Reject(e.code(), e.getMessage());
                }
            case "merkle-root": {
                List<byte[]> leaves = new ArrayList<>();
                for (Object l : (List<?>) c.get("leavesHex")) {
                    leaves.add(Merkle.leafHash(Encoding.hexDecode((String) l)));
                }
                return expectEq(c.get("rootHex"), Encoding.hex(Merkle.root(leaves)));
            }
            case "merkle-inclusion":
                try {
                    Merkle.verifyInclusion(lng(c.get("index")), lng(c.get("treeSize")),
                            Encoding.hexDecode((String) c.get("leafHashHex")), hashes(c.get("proofHex")), Encoding.hexDecode((String) c.get("rootHex")));
                    return null;
                } catch (cn.consentry.client.log.LogException e) {
                    throw new Reject("invalid-proof", e.getMessage());
                }
            case "merkle-consistency":
                try {
                    Merkle.verifyConsistency(lng(c.get("size1")), lng(c.get("size2")),
                            Encoding.hexDecode((String) c.get("root1Hex")), Encoding.hexDecode((String) c.get("root2Hex")), hashes(c.get("proofHex")));
                    return null;
                } catch (cn.consentry.client.log.LogException e) {
                    throw new Reject("invalid-proof", e.getMessage());
                }
            default:
                return "unknown kind " + c.get("kind");
        }
    }

    private static List<byte[]> hashes(Object o) {
        List<byte[]> out = new ArrayList<>();
        for (Object h : (List<?>) o) {
            out.add(Encoding.hexDecode((String) h));
        }
        return out;
    }
}
