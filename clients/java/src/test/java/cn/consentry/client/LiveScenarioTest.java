package cn.consentry.client;

import static org.junit.jupiter.api.Assertions.*;

import cn.consentry.client.credential.Credentials;
import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Encoding;
import cn.consentry.client.crypto.KeyFile;
import cn.consentry.client.grant.GrantBuilder;
import cn.consentry.client.grant.GrantVerifier;
import cn.consentry.client.grant.StatusLists;
import cn.consentry.client.grant.VerifiedGrant;
import cn.consentry.client.json.Jcs;
import cn.consentry.client.json.Json;
import cn.consentry.client.log.Checkpoint;
import cn.consentry.client.log.LogException;
import cn.consentry.client.log.Receipts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.Year;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The whole story against a real node and platform (clients/testbed.sh; test.sh sets
 * CONSENTRY_TESTBED to its testbed.json), using only this library.
 */
@EnabledIfEnvironmentVariable(named = "CONSENTRY_TESTBED", matches = ".+")
class LiveScenarioTest {
    static final String ENTERPRISE = "91330100716105852F";
    static final String ENTERPRISE_NAME = "杭州示例科技有限公司";
    static final String PLATFORM = "91330000MA28PLAT2L";
    static final String BANK = "91330300MA2GHJK66N";

    @Test
    void registerGrantReleaseVerifyRevokeRefuse() throws Exception {
        Map<?, ?> tb = (Map<?, ?>) Json.parse(Files.readString(Path.of(System.getenv("CONSENTRY_TESTBED"))));
        Map<?, ?> n = (Map<?, ?>) tb.get("node");
        Map<?, ?> p = (Map<?, ?>) tb.get("platform");
        KeyFile operator = KeyFile.read(Path.of((String) n.get("keyFile")));
        KeyFile platformKey = KeyFile.read(Path.of((String) p.get("keyFile")));
        ConsentryClient node = ConsentryClient.builder((String) n.get("url")).build();
        ConsentryClient platform = ConsentryClient.builder((String) p.get("url")).key(platformKey).build();
        NodeInfo info = node.node();
        assertEquals(n.get("did"), info.did());
        assertEquals(p.get("did"), platform.audience());

        // The platform registers its bank (at the node and at the platform).
        KeyFile bankKey = KeyFile.generate();
        platform.addBank(BANK, "示例商业银行", bankKey.did());

        // The enterprise registers with a new key; the operator approves.
        KeyFile entKey = KeyFile.generate();
        ConsentryClient enterprise = node.as(entKey);
        enterprise.register(ENTERPRISE, ENTERPRISE_NAME);
        node.as(operator).approveRegistration(ENTERPRISE);

        // A status slot, then the grant: platform as grantee, the bank as onward recipient.
        StatusSlot slot = enterprise.allocateStatusSlot();
        Instant now = Instant.now();
        Map<String, Object> unsigned = new GrantBuilder()
                .issuer(entKey.did())
                .enterprise(ENTERPRISE, ENTERPRISE_NAME)
                .grantee(PLATFORM, "示例融资信用服务平台", "platform")
                .category("TAX-03", "derived").category("UTL-02", "derived")
                .bank(BANK, "示例商业银行", Map.of("TAX-03", "derived", "UTL-02", "derived"))
                .purposes("credit-approval")
                .dataPeriod("2025-01-01", Year.now().getValue() + "-12-31")
                .periodic(4, "month")
                .validity(now.minusSeconds(60), now.plus(Duration.ofDays(180)))
                .status(slot.statusList(), slot.statusIndex())
                .build();
        String signed = Jcs.canonicalize(Credentials.signDataIntegrity(unsigned, entKey, now));
        VerifiedGrant verified = GrantVerifier.withBuiltinCatalog().verify(signed, now);
        String grantId = verified.id();
        Map<String, Object> accepted = enterprise.submitGrant(signed);
        assertEquals(grantId, accepted.get("id"));

        // What a platform runs per request: the status lists, verified, by the node's DID.
        StatusLists status = new StatusLists(node::fetchText, info.did(), Duration.ofSeconds(30), Clock.systemUTC());
        assertEquals(StatusLists.Status.ACTIVE, status.status(verified));

        // The bank asks its platform.
        ConsentryClient bank = platform.as(bankKey);
        ReleaseRequest ask = ReleaseRequest.derived(ENTERPRISE, grantId, List.of("TAX-03", "UTL-02"), "credit-approval");
        Release got = bank.release(ask);
        assertTrue(got.data().containsKey("TAX-03"));
        assertEquals(Encoding.hex(sha256(Jcs.canonicalBytes(got.data()))), got.dataSha256());

        // The platform's promise, under the platform log's key.
        Map<String, Object> pinfo = platform.platform();
        Checkpoint.NoteKey platformLog = Checkpoint.NoteKey.logKey((String) pinfo.get("logOrigin"), DidKey.parse((String) pinfo.get("did")));
        assertArrayEquals(Encoding.hexDecode(got.leafHash()), Receipts.verifyPromise(got.receipt(), platformLog));

        // The node's entry behind it: promise, then the receipt against a verified checkpoint.
        Release.Upstream up = got.upstream().orElseThrow();
        Checkpoint.NoteKey nodeLog = Checkpoint.NoteKey.logKey(info.logOrigin(), DidKey.parse(info.did()));
        Checkpoint.Policy policy = Checkpoint.Policy.logOnly(nodeLog);
        byte[] leaf = Receipts.verifyPromise(up.receipt(), nodeLog);
        assertArrayEquals(Encoding.hexDecode(up.leafHash()), leaf);
        Receipts.VerifiedReceipt receipt = node.fetchAndVerifyReceipt(up.index(), leaf, policy);
        assertTrue(receipt.checkpoint().size() > up.index());
        Checkpoint kept = receipt.checkpoint();

        // Bad input from the server side is an exception with a reason, never a success.
        String text = node.receipt(up.index());
        writeReceiptBundle(text, leaf, up.index(), nodeLog, up.receipt());
        String truncated = truncateProof(text);
        if (truncated != null) {
            LogException e = assertThrows(LogException.class, () -> Receipts.verifyReceipt(truncated, leaf, up.index(), policy));
            assertTrue(e.getMessage().contains("inclusion proof"), e.getMessage());
        }
        Checkpoint.Policy wrongKey = Checkpoint.Policy.logOnly(Checkpoint.NoteKey.logKey(info.logOrigin(), KeyFile.generate().did()));
        LogException wk = assertThrows(LogException.class, () -> Receipts.verifyReceipt(text, leaf, up.index(), wrongKey));
        assertTrue(wk.getMessage().contains("not signed by the pinned log key"), wk.getMessage());
        byte[] otherLeaf = leaf.clone();
        otherLeaf[0] ^= 1;
        assertThrows(LogException.class, () -> Receipts.verifyReceipt(text, otherLeaf, up.index(), policy));
        Map<String, Object> forged = new java.util.LinkedHashMap<>(up.receipt());
        forged.put("timeMs", ((Long) forged.get("timeMs")) + 1);
        assertThrows(LogException.class, () -> Receipts.verifyPromise(forged, nodeLog));

        // The enterprise revokes; the status list says so; the next release is refused, typed.
        GrantStatusChange revoked = enterprise.revokeGrant(grantId);
        assertEquals("revoked", revoked.state());
        status.clear();
        assertEquals(StatusLists.Status.REVOKED, status.status(verified));
        ApiException refused = assertThrows(ApiException.class, () -> bank.release(ask));
        assertEquals(403, refused.status());
        assertEquals("release-refused", refused.code());
        assertTrue(refused.hasReason("grant-revoked"), refused.reasons().toString());

        // The log only grew: the newest checkpoint is consistent with the one kept.
        Checkpoint later = node.verifyConsistentWith(kept, policy);
        assertTrue(later.size() >= kept.size());

        // A call without a valid assertion is a typed 401.
        ApiException unauth = assertThrows(ApiException.class, () -> node.as(KeyFile.generate()).allocateStatusSlot());
        assertEquals("unauthenticated", unauth.code());
    }

    /**
     * When CONSENTRY_RECEIPT_BUNDLE names a file, writes the receipt this caller got for its release
     * there, for the other libraries to verify (clients/cross.sh): {@code {"receipt", "leafHash",
     * "index", "logKey", "promise"}}.
     */
    static void writeReceiptBundle(String receipt, byte[] leaf, long index, Checkpoint.NoteKey logKey, Map<String, Object> promise) throws Exception {
        String out = System.getenv("CONSENTRY_RECEIPT_BUNDLE");
        if (out == null || out.isEmpty()) {
            return;
        }
        Map<String, Object> bundle = new java.util.LinkedHashMap<>();
        bundle.put("receipt", receipt);
        bundle.put("leafHash", Encoding.hex(leaf));
        bundle.put("index", index);
        bundle.put("logKey", logKey.vkey());
        bundle.put("promise", promise);
        Files.writeString(Path.of(out), Json.write(bundle) + "\n");
    }

    /** The receipt with its last proof line removed, or null when it has none. */
    static String truncateProof(String receipt) {
        String[] lines = receipt.split("\n", -1);
        int blank = -1;
        for (int i = 2; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                blank = i;
                break;
            }
        }
        if (blank <= 2) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i != blank - 1) {
                sb.append(lines[i]);
                if (i < lines.length - 1) {
                    sb.append('\n');
                }
            }
        }
        return sb.toString();
    }

    static byte[] sha256(byte[] b) throws Exception {
        return java.security.MessageDigest.getInstance("SHA-256").digest(b);
    }
}
