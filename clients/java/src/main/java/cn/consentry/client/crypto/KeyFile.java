package cn.consentry.client.crypto;

import cn.consentry.client.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A participant's Ed25519 key in the project's key file format (spec/examples/enterprise.key.json):
 * {@code {"did", "publicKeyMultibase", "secretKeyMultibase"}}, the secret being {@code z} +
 * base58-btc of {@code 80 26} ‖ the 32-byte seed. {@link #toString()} never shows the secret.
 */
public final class KeyFile {
    private final byte[] seed;
    private final DidKey did;

    private KeyFile(byte[] seed) {
        this.seed = seed.clone();
        this.did = DidKey.fromPublicKey(Ed25519.publicKeyOf(seed));
    }

    /** @return a new key from the operating system's CSPRNG */
    public static KeyFile generate() {
        return new KeyFile(Ed25519.newSeed());
    }

    /**
     * @param seed the 32-byte secret seed
     * @return the key
     */
    public static KeyFile fromSeed(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalArgumentException("an Ed25519 seed has 32 bytes");
        }
        return new KeyFile(seed);
    }

    /**
     * Reads a key file, checking that its three members agree.
     *
     * @param path the file
     * @return the key
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException if it is not a valid key file
     */
    public static KeyFile read(Path path) throws IOException {
        return parse(Files.readString(path, StandardCharsets.UTF_8));
    }

    /**
     * Parses the key file text.
     *
     * @param json the text
     * @return the key
     * @throws IllegalArgumentException if it is not a valid key file (unknown members are refused)
     */
    public static KeyFile parse(String json) {
        Map<String, Object> m = Json.parseObject(json);
        if (!m.keySet().equals(Set.of("did", "publicKeyMultibase", "secretKeyMultibase"))) {
            throw new IllegalArgumentException("a key file has exactly did, publicKeyMultibase and secretKeyMultibase");
        }
        Object sk = m.get("secretKeyMultibase");
        if (!(sk instanceof String) || !((String) sk).startsWith("z")) {
            throw new IllegalArgumentException("secretKeyMultibase must be a base58-btc multibase string");
        }
        byte[] raw = Encoding.base58Decode(((String) sk).substring(1));
        if (raw.length != 34 || (raw[0] & 0xff) != 0x80 || raw[1] != 0x26) {
            throw new IllegalArgumentException("secretKeyMultibase is not an ed25519-priv (8026) key of 32 bytes");
        }
        KeyFile k = new KeyFile(Arrays.copyOfRange(raw, 2, 34));
        if (!k.did.multibase().equals(m.get("publicKeyMultibase"))) {
            throw new IllegalArgumentException("publicKeyMultibase is not the public key of secretKeyMultibase");
        }
        if (!k.did.did().equals(m.get("did"))) {
            throw new IllegalArgumentException("did is not the did:key of secretKeyMultibase");
        }
        return k;
    }

    /** @return the key file JSON (contains the secret: store it with care) */
    public String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("did", did.did());
        m.put("publicKeyMultibase", did.multibase());
        byte[] raw = new byte[34];
        raw[0] = (byte) 0x80;
        raw[1] = 0x26;
        System.arraycopy(seed, 0, raw, 2, 32);
        m.put("secretKeyMultibase", "z" + Encoding.base58(raw));
        return Json.write(m);
    }

    /**
     * Writes a new key file with permissions 0600 (where the file system has them), refusing to
     * overwrite an existing file.
     *
     * @param path where
     * @throws IOException if the file exists or cannot be written
     */
    public void writeNew(Path path) throws IOException {
        try {
            Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(path);
        }
        Files.writeString(path, toJson() + "\n", StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** @return the key's did:key */
    public DidKey did() {
        return did;
    }

    /**
     * Signs bytes (Ed25519, deterministic).
     *
     * @param message the bytes
     * @return the 64-byte signature
     */
    public byte[] sign(byte[] message) {
        return Ed25519.sign(seed, message);
    }

    @Override
    public String toString() {
        return "KeyFile(" + did.did() + ")";
    }
}
