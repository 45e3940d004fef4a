package cn.consentry.client.log;

import cn.consentry.client.crypto.DidKey;
import cn.consentry.client.crypto.Ed25519;
import cn.consentry.client.crypto.Encoding;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A C2SP signed-note checkpoint (tlog-checkpoint) verified under a {@link Policy}: the log's key
 * and origin, the trusted witnesses' cosignatures (tlog-cosignature {@code cosignature/v1}) and a
 * quorum (spec/access-log.md §5).
 */
public final class Checkpoint {
    private final String origin;
    private final long size;
    private final byte[] root;
    private final String text;
    private final List<String> cosigners;

    private Checkpoint(String origin, long size, byte[] root, String text, List<String> cosigners) {
        this.origin = origin;
        this.size = size;
        this.root = root;
        this.text = text;
        this.cosigners = cosigners;
    }

    /** @return the log's origin */
    public String origin() {
        return origin;
    }

    /** @return the tree size */
    public long size() {
        return size;
    }

    /** @return the root hash (32 bytes) */
    public byte[] root() {
        return root.clone();
    }

    /** @return the signed text (without signature lines) */
    public String text() {
        return text;
    }

    /** @return names of the trusted witnesses whose cosignatures verified */
    public List<String> cosigners() {
        return cosigners;
    }

    /** An Ed25519 note verifier key: a name, a key ID and the public key. */
    public static final class NoteKey {
        final String name;
        final byte[] keyId;
        final byte[] publicKey;
        final int type;

        NoteKey(String name, byte[] publicKey, int type) {
            Ed25519.checkPublicKey(publicKey);
            this.name = name;
            this.publicKey = publicKey.clone();
            this.type = type;
            this.keyId = Arrays.copyOf(Merkle.sha256(name.getBytes(StandardCharsets.UTF_8), new byte[] {0x0a, (byte) type}, publicKey), 4);
        }

        /**
         * Parses a vkey {@code <name>+<8 hex key ID>+<base64(type ‖ public key)>}, type 0x01 (log
         * signature) or 0x04 (witness cosignature), checking the key ID.
         *
         * @param vkey the text
         * @return the key
         * @throws IllegalArgumentException if malformed or inconsistent
         */
        public static NoteKey parseVkey(String vkey) {
            String[] p = vkey.split("\\+", 3); // the base64 key may itself contain "+"
            if (p.length != 3 || p[0].isEmpty() || p[1].length() != 8) {
                throw new IllegalArgumentException("a vkey is <name>+<key ID>+<key>");
            }
            byte[] k = Encoding.base64Decode(p[2]);
            if (k.length != 33 || (k[0] != 0x01 && k[0] != 0x04)) {
                throw new IllegalArgumentException("vkey key is not an Ed25519 (0x01) or cosignature/v1 (0x04) key");
            }
            NoteKey key = new NoteKey(p[0], Arrays.copyOfRange(k, 1, 33), k[0]);
            if (!Encoding.hex(key.keyId).equals(p[1])) {
                throw new IllegalArgumentException("vkey key ID does not match its name and key");
            }
            return key;
        }

        /**
         * The log key of a Consentry log: name = origin, the key of the node's (or platform's) did:key.
         *
         * @param origin the log origin ({@code logOrigin} of GET /v1/node)
         * @param did the signer's did:key
         * @return the key
         */
        public static NoteKey logKey(String origin, DidKey did) {
            return new NoteKey(origin, did.publicKey(), 0x01);
        }

        /** @return the vkey text */
        public String vkey() {
            byte[] k = new byte[33];
            k[0] = (byte) type;
            System.arraycopy(publicKey, 0, k, 1, 32);
            return name + "+" + Encoding.hex(keyId) + "+" + Encoding.base64(k);
        }

        /** @return the key's name */
        public String name() {
            return name;
        }

        /** @return the 32-byte public key */
        public byte[] publicKey() {
            return publicKey.clone();
        }
    }

    /** What a verifier trusts: the log's origin and key, witnesses and how many must cosign. */
    public static final class Policy {
        final NoteKey logKey;
        final List<NoteKey> witnesses;
        final int quorum;

        /**
         * @param logKey the pinned log key (its name is the origin)
         * @param witnesses trusted witness keys (type 0x04)
         * @param quorum how many of them must have cosigned
         */
        public Policy(NoteKey logKey, List<NoteKey> witnesses, int quorum) {
            if (logKey.type != 0x01) {
                throw new IllegalArgumentException("the log key must be an Ed25519 (0x01) key");
            }
            for (NoteKey w : witnesses) {
                if (w.type != 0x04) {
                    throw new IllegalArgumentException("witness " + w.name + " is not a cosignature/v1 (0x04) key");
                }
            }
            if (quorum < 0 || quorum > witnesses.size()) {
                throw new IllegalArgumentException("quorum " + quorum + " is not within 0.." + witnesses.size());
            }
            this.logKey = logKey;
            this.witnesses = List.copyOf(witnesses);
            this.quorum = quorum;
        }

        /** @param logKey the pinned log key @return a policy with no witnesses */
        public static Policy logOnly(NoteKey logKey) {
            return new Policy(logKey, List.of(), 0);
        }
    }

    /**
     * Parses and verifies a signed note checkpoint.
     *
     * @param note the note
     * @param policy what to trust
     * @return the checkpoint
     * @throws LogException with the reason
     */
    public static Checkpoint verify(String note, Policy policy) throws LogException {
        byte[] raw = note.getBytes(StandardCharsets.UTF_8);
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(raw));
        } catch (CharacterCodingException e) {
            throw new LogException("checkpoint: not UTF-8");
        }
        for (int i = 0; i < note.length(); i++) {
            char c = note.charAt(i);
            if ((c < 0x20 && c != '\n') || c == 0x7f) {
                throw new LogException("checkpoint: control character in the note");
            }
        }
        int split = note.lastIndexOf("\n\n");
        if (split < 0) {
            throw new LogException("checkpoint: no blank line before the signatures");
        }
        String text = note.substring(0, split + 1);
        String sigs = note.substring(split + 2);
        if (!sigs.endsWith("\n") || sigs.length() < 2) {
            throw new LogException("checkpoint: no signature lines");
        }
        String[] lines = text.substring(0, text.length() - 1).split("\n", -1);
        if (lines.length < 3) {
            throw new LogException("checkpoint: the text needs origin, size and root lines");
        }
        String origin = lines[0];
        if (!origin.equals(policy.logKey.name)) {
            throw new LogException("checkpoint: origin " + origin + " is not the pinned " + policy.logKey.name);
        }
        if (!lines[1].matches("0|[1-9][0-9]{0,19}")) {
            throw new LogException("checkpoint: size is not a decimal without leading zeros");
        }
        long size;
        try {
            size = Long.parseLong(lines[1]);
        } catch (NumberFormatException e) {
            throw new LogException("checkpoint: size out of range");
        }
        byte[] root;
        try {
            root = Encoding.base64Decode(lines[2]);
        } catch (IllegalArgumentException e) {
            throw new LogException("checkpoint: root is not canonical base64");
        }
        if (root.length != 32) {
            throw new LogException("checkpoint: root is not 32 bytes");
        }
        for (int i = 3; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                throw new LogException("checkpoint: empty extension line");
            }
        }
        String[] sigLines = sigs.substring(0, sigs.length() - 1).split("\n", -1);
        if (sigLines.length > 100) {
            throw new LogException("checkpoint: more than 100 signatures");
        }
        boolean logSigned = false;
        Set<String> seen = new HashSet<>();
        List<String> cosigners = new ArrayList<>();
        byte[] textBytes = text.getBytes(StandardCharsets.UTF_8);
        for (String line : sigLines) {
            if (!line.startsWith("\u2014 ")) {
                throw new LogException("checkpoint: malformed signature line");
            }
            String rest = line.substring(2);
            int sp = rest.indexOf(' ');
            if (sp <= 0 || rest.indexOf(' ', sp + 1) >= 0) {
                throw new LogException("checkpoint: malformed signature line");
            }
            String name = rest.substring(0, sp);
            byte[] sig;
            try {
                sig = Encoding.base64Decode(rest.substring(sp + 1));
            } catch (IllegalArgumentException e) {
                throw new LogException("checkpoint: signature is not canonical base64");
            }
            if (sig.length < 5) {
                throw new LogException("checkpoint: signature too short");
            }
            byte[] keyId = Arrays.copyOf(sig, 4);
            if (!seen.add(name + " " + Encoding.hex(keyId))) {
                throw new LogException("checkpoint: two signatures by " + name);
            }
            if (name.equals(policy.logKey.name) && Arrays.equals(keyId, policy.logKey.keyId)) {
                if (sig.length != 68 || !Ed25519.verify(policy.logKey.publicKey, textBytes, Arrays.copyOfRange(sig, 4, 68))) {
                    throw new LogException("checkpoint: the log's signature does not verify");
                }
                logSigned = true;
                continue;
            }
            for (NoteKey w : policy.witnesses) {
                if (name.equals(w.name) && Arrays.equals(keyId, w.keyId)) {
                    if (sig.length != 4 + 8 + 64) {
                        throw new LogException("checkpoint: cosignature of " + name + " has the wrong length");
                    }
                    long t = ByteBuffer.wrap(sig, 4, 8).getLong();
                    byte[] msg = ("cosignature/v1\ntime " + Long.toUnsignedString(t) + "\n" + text).getBytes(StandardCharsets.UTF_8);
                    if (!Ed25519.verify(w.publicKey, msg, Arrays.copyOfRange(sig, 12, 76))) {
                        throw new LogException("checkpoint: the cosignature of " + name + " does not verify");
                    }
                    cosigners.add(name);
                }
            }
        }
        if (!logSigned) {
            throw new LogException("checkpoint: not signed by the pinned log key " + policy.logKey.vkey());
        }
        if (cosigners.size() < policy.quorum) {
            throw new LogException("checkpoint: " + cosigners.size() + " trusted cosignatures, the quorum is " + policy.quorum);
        }
        return new Checkpoint(origin, size, root, text, List.copyOf(cosigners));
    }
}
