package cn.consentry.client.log;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * RFC 9162 §2.1 Merkle trees with SHA-256: leaf and node hashes, inclusion (§2.1.3.2) and
 * consistency (§2.1.4.2) proof verification, with the pinned edge cases of spec/access-log.md
 * §4.1 (a consistency proof from size 0 is empty and accepted when the first root is
 * SHA-256(""); proofs must have exactly the generated length).
 */
public final class Merkle {
    private Merkle() {}

    static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                md.update(p);
            }
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @param leaf the leaf bytes @return SHA-256(0x00 ‖ leaf) */
    public static byte[] leafHash(byte[] leaf) {
        return sha256(new byte[] {0}, leaf);
    }

    /** @param left left child @param right right child @return SHA-256(0x01 ‖ left ‖ right) */
    public static byte[] nodeHash(byte[] left, byte[] right) {
        return sha256(new byte[] {1}, left, right);
    }

    /** @return the root of the empty tree, SHA-256("") */
    public static byte[] emptyRoot() {
        return sha256();
    }

    /**
     * The root of a list of leaf hashes (MTH, for tests and small trees).
     *
     * @param leafHashes the leaf hashes in order
     * @return the root
     */
    public static byte[] root(List<byte[]> leafHashes) {
        if (leafHashes.isEmpty()) {
            return emptyRoot();
        }
        if (leafHashes.size() == 1) {
            return leafHashes.get(0);
        }
        int k = Integer.highestOneBit(leafHashes.size() - 1);
        return nodeHash(root(leafHashes.subList(0, k)), root(leafHashes.subList(k, leafHashes.size())));
    }

    /**
     * Verifies an inclusion proof (RFC 9162 §2.1.3.2).
     *
     * @param index the leaf's index
     * @param size the tree size (from a verified checkpoint)
     * @param leafHash the leaf hash
     * @param proof the audit path, leaf sibling first
     * @param root the root (from the same checkpoint)
     * @throws LogException if the proof does not verify
     */
    public static void verifyInclusion(long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) throws LogException {
        if (leafHash.length != 32 || root.length != 32) {
            throw new LogException("inclusion proof: the leaf hash and the root must be 32 bytes");
        }
        if (index < 0 || index >= size) {
            throw new LogException("inclusion proof: index " + index + " is not below the tree size " + size);
        }
        long fn = index;
        long sn = size - 1;
        byte[] r = leafHash;
        for (byte[] p : proof) {
            if (p.length != 32) {
                throw new LogException("inclusion proof: a hash is not 32 bytes");
            }
            if (sn == 0) {
                throw new LogException("inclusion proof: longer than the path of index " + index + " in size " + size);
            }
            if ((fn & 1) == 1 || fn == sn) {
                r = nodeHash(p, r);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = nodeHash(r, p);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) {
            throw new LogException("inclusion proof: shorter than the path of index " + index + " in size " + size);
        }
        if (!Arrays.equals(r, root)) {
            throw new LogException("inclusion proof: the computed root is not the checkpoint's root");
        }
    }

    /**
     * Verifies a consistency proof between two tree heads (RFC 9162 §2.1.4.2).
     *
     * @param size1 the first size
     * @param size2 the second size
     * @param root1 the first root
     * @param root2 the second root
     * @param proof the proof
     * @throws LogException if the proof does not verify
     */
    public static void verifyConsistency(long size1, long size2, byte[] root1, byte[] root2, List<byte[]> proof) throws LogException {
        if (root1.length != 32 || root2.length != 32) {
            throw new LogException("consistency proof: roots must be 32 bytes");
        }
        if (size1 < 0 || size2 < size1) {
            throw new LogException("consistency proof: size " + size2 + " is smaller than " + size1);
        }
        if (size1 == size2) {
            if (!proof.isEmpty()) {
                throw new LogException("consistency proof between equal sizes must be empty");
            }
            if (!Arrays.equals(root1, root2)) {
                throw new LogException("consistency proof: equal sizes with different roots");
            }
            return;
        }
        if (size1 == 0) {
            if (!proof.isEmpty()) {
                throw new LogException("consistency proof from size 0 must be empty");
            }
            if (!Arrays.equals(root1, emptyRoot())) {
                throw new LogException("consistency proof: the root of size 0 is not SHA-256(\"\")");
            }
            return;
        }
        if (proof.isEmpty()) {
            throw new LogException("consistency proof: empty");
        }
        for (byte[] p : proof) {
            if (p.length != 32) {
                throw new LogException("consistency proof: a hash is not 32 bytes");
            }
        }
        List<byte[]> path = new ArrayList<>(proof);
        if (Long.bitCount(size1) == 1) {
            path.add(0, root1);
        }
        long fn = size1 - 1;
        long sn = size2 - 1;
        while ((fn & 1) == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        byte[] fr = path.get(0);
        byte[] sr = path.get(0);
        for (byte[] c : path.subList(1, path.size())) {
            if (sn == 0) {
                throw new LogException("consistency proof: too long");
            }
            if ((fn & 1) == 1 || fn == sn) {
                fr = nodeHash(c, fr);
                sr = nodeHash(c, sr);
                if ((fn & 1) == 0) {
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                sr = nodeHash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        if (sn != 0) {
            throw new LogException("consistency proof: too short");
        }
        if (!Arrays.equals(fr, root1)) {
            throw new LogException("consistency proof: does not lead to the first root");
        }
        if (!Arrays.equals(sr, root2)) {
            throw new LogException("consistency proof: does not lead to the second root");
        }
    }
}
