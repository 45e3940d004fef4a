package cn.consentry.client.log;

import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Encoding;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Receipts of the access log (spec/access-log.md §6): the signed inclusion promise of a release
 * answer, and the offline C2SP tlog-proof receipt.
 */
public final class Receipts {
    private Receipts() {}

    /** A verified tlog-proof: the index, the leaf hash it proves and the checkpoint it proves against. */
    public static final class VerifiedReceipt {
        private final long index;
        private final byte[] leafHash;
        private final Checkpoint checkpoint;

        VerifiedReceipt(long index, byte[] leafHash, Checkpoint checkpoint) {
            this.index = index;
            this.leafHash = leafHash;
            this.checkpoint = checkpoint;
        }

        /** @return the entry's index */
        public long index() {
            return index;
        }

        /** @return the leaf hash */
        public byte[] leafHash() {
            return leafHash.clone();
        }

        /** @return the verified checkpoint that covers the entry */
        public Checkpoint checkpoint() {
            return checkpoint;
        }
    }

    /**
     * Verifies a tlog-proof receipt for a leaf hash you hold (spec/access-log.md §6.2).
     *
     * @param receipt the text of {@code GET /v1/log/receipts/{index}}
     * @param leafHash the leaf hash (32 bytes)
     * @param expectedIndex the entry's index, or -1 to take the receipt's
     * @param policy the pinned log key, witnesses and quorum
     * @return the verified receipt
     * @throws LogException with the reason
     */
    public static VerifiedReceipt verifyReceipt(String receipt, byte[] leafHash, long expectedIndex, Checkpoint.Policy policy) throws LogException {
        String header = "c2sp.org/tlog-proof@v1\n";
        if (!receipt.startsWith(header)) {
            throw new LogException("receipt: not a c2sp.org/tlog-proof@v1");
        }
        int pos = header.length();
        int nl = receipt.indexOf('\n', pos);
        if (nl < 0) {
            throw new LogException("receipt: truncated");
        }
        String line = receipt.substring(pos, nl);
        if (line.startsWith("extra ")) {
            try {
                if (Encoding.base64Decode(line.substring(6)).length == 0) {
                    throw new LogException("receipt: empty extra");
                }
            } catch (IllegalArgumentException e) {
                throw new LogException("receipt: extra is not canonical base64");
            }
            pos = nl + 1;
            nl = receipt.indexOf('\n', pos);
            if (nl < 0) {
                throw new LogException("receipt: truncated");
            }
            line = receipt.substring(pos, nl);
        }
        if (!line.matches("index (0|[1-9][0-9]{0,19})")) {
            throw new LogException("receipt: bad index line");
        }
        long index;
        try {
            index = Long.parseLong(line.substring(6));
        } catch (NumberFormatException e) {
            throw new LogException("receipt: index out of range");
        }
        if (expectedIndex >= 0 && index != expectedIndex) {
            throw new LogException("receipt: for index " + index + ", not " + expectedIndex);
        }
        pos = nl + 1;
        List<byte[]> proof = new ArrayList<>();
        while (true) {
            nl = receipt.indexOf('\n', pos);
            if (nl < 0) {
                throw new LogException("receipt: truncated before the checkpoint");
            }
            line = receipt.substring(pos, nl);
            pos = nl + 1;
            if (line.isEmpty()) {
                break;
            }
            if (proof.size() == 64) {
                throw new LogException("receipt: more than 64 proof lines");
            }
            byte[] h;
            try {
                h = Encoding.base64Decode(line);
            } catch (IllegalArgumentException e) {
                throw new LogException("receipt: proof line is not canonical base64");
            }
            if (h.length != 32) {
                throw new LogException("receipt: proof hash is not 32 bytes");
            }
            proof.add(h);
        }
        Checkpoint cp = Checkpoint.verify(receipt.substring(pos), policy);
        if (index >= cp.size()) {
            throw new LogException("receipt: index " + index + " is not covered by the checkpoint of size " + cp.size());
        }
        Merkle.verifyInclusion(index, cp.size(), leafHash, proof, cp.root());
        return new VerifiedReceipt(index, leafHash.clone(), cp);
    }

    /**
     * Verifies an inclusion promise (spec/access-log.md §6.1) against the pinned log key.
     *
     * @param promise the {@code receipt} member of a release answer
     * @param logKey the pinned key of the log that should have signed
     * @return the promised leaf hash (32 bytes)
     * @throws LogException with the reason
     */
    public static byte[] verifyPromise(Map<String, Object> promise, Checkpoint.NoteKey logKey) throws LogException {
        try {
            if (!"inclusion-promise".equals(promise.get("type"))) {
                throw new LogException("promise: type is not inclusion-promise");
            }
            String origin = (String) promise.get("origin");
            long index = ((Number) promise.get("index")).longValue();
            String leaf = (String) promise.get("leafHash");
            long timeMs = ((Number) promise.get("timeMs")).longValue();
            DidKey signer = DidKey.parse((String) promise.get("signer"));
            byte[] sig = Encoding.base64Decode((String) promise.get("signature"));
            if (!origin.equals(logKey.name())) {
                throw new LogException("promise: origin " + origin + " is not " + logKey.name());
            }
            if (!Arrays.equals(signer.publicKey(), logKey.publicKey())) {
                throw new LogException("promise: signed by " + signer + ", not the log's key");
            }
            byte[] leafHash = Encoding.base64Decode(leaf);
            if (leafHash.length != 32) {
                throw new LogException("promise: leaf hash is not 32 bytes");
            }
            String statement = "consentry/inclusion-promise/v1\n" + origin + "\n" + index + "\n" + leaf + "\n" + timeMs + "\n";
            if (!signer.verify(statement.getBytes(StandardCharsets.UTF_8), sig)) {
                throw new LogException("promise: the signature does not verify");
            }
            return leafHash;
        } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
            throw new LogException("promise: malformed (" + e.getMessage() + ")");
        }
    }
}
