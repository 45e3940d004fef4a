//! RFC 6962 / RFC 9162 Merkle tree toolkit: hashing, proof generation over stored complete subtrees,
//! proof verification, and a compact range (frontier) for appends and full-log audits. Pure: no I/O.
//!
//! # Hashing (RFC 9162 §2.1.1, RFC 6962 §2.1)
//!
//! `leaf_hash(d) = SHA-256(0x00 ‖ d)`, `node_hash(l, r) = SHA-256(0x01 ‖ l ‖ r)`, and the hash of the empty
//! tree is `SHA-256("")`. A tree of `n > 1` leaves splits at `k`, the largest power of two smaller than `n`:
//! `MTH(D[n]) = node_hash(MTH(D[0:k]), MTH(D[k:n]))`. The domain-separation prefixes stop an interior
//! node from being passed off as a leaf (second preimage).
//!
//! # Storage model
//!
//! A tree is stored as its *complete subtree* hashes, addressed by `(level, index)`: level 0 holds the leaf
//! hashes, and node `(L, i)` is the root of the perfect subtree over leaves `[i·2^L, (i+1)·2^L)`. These
//! nodes never change once they exist, so a store only ever inserts. Every tree size `n` decomposes into
//! at most 64 maximal complete subtrees (one per set bit of `n`); [`root`], [`inclusion_proof`] and
//! [`consistency_proof`] read only complete subtrees through a [`NodeSource`], `O(log n)` of them (at most
//! `2·⌈log2 n⌉` reads per proof). [`CompactRange`] holds the right frontier of the tree, appends leaves in
//! `O(1)` amortised time and reports exactly the nodes each append completes, so a store can persist them.
//!
//! # Verification (RFC 9162 §2.1.3.2, §2.1.4.2)
//!
//! [`verify_inclusion`] and [`verify_consistency`] follow the RFC algorithms step by step, after an
//! up-front check that the proof has exactly the length the RFC generation algorithm produces. Edge cases
//! of [`verify_consistency`] are pinned as follows:
//!
//! * `first > second` is rejected ([`ProofError::SizesOutOfOrder`]).
//! * `first == second`: the proof must be empty and the two roots equal.
//! * `first == 0` (the empty tree): **accepted with an empty proof** towards any `second`, provided
//!   `first_hash == SHA-256("")` — every tree extends the empty tree, so there is nothing to prove. These
//!   are the C2SP tlog-witness semantics (`old 0` carries no proof lines). Note that
//!   transparency-dev/merkle (and its probe set) rejects every consistency proof from size 0 instead.
//!
//! # Sizes must come from signed checkpoints
//!
//! **An inclusion proof does not bind the tree size.** The RFC 9162 §2.1.3.2 walk only looks at the bits of
//! `leaf_index` and `tree_size − 1` to decide on which side each path hash goes, and different sizes can
//! lead to the same walk: e.g. a proof for leaf 1 in a tree of 1,026 leaves also verifies, with the same
//! root, as a proof for leaf 1 in a tree of 1,025 leaves (transparency-logs.md §8). A verifier must
//! therefore take `tree_size` together with `root_hash` from a verified signed checkpoint, never from the
//! proof response. The same holds for the sizes of a consistency proof.
//!
//! Names follow the RFC symbols (`leaf_index`, `tree_size`, `inclusion_path`, `first`, `second`,
//! `first_hash`, `second_hash`, `consistency_path`, `fn`/`sn`), as sigstore-rs does.

use std::borrow::Borrow;

use sha2::{Digest, Sha256};

/// A SHA-256 Merkle tree hash (RFC 9162 §2.1.1: the log's hash algorithm is SHA-256, 32 bytes).
pub type Hash = [u8; 32];

/// The hash of the empty tree, `MTH({}) = SHA-256("")` (RFC 9162 §2.1.1, RFC 6962 §2.1).
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27,
    0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// The maximal number of complete subtrees a tree size decomposes into (one per bit of a `u64`).
pub const MAX_COMPACT_RANGE_HASHES: usize = 64;

/// Leaf hash `SHA-256(0x00 ‖ data)` of one entry (RFC 9162 §2.1.1, RFC 6962 §2.1).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// Interior node hash `SHA-256(0x01 ‖ left ‖ right)` (RFC 9162 §2.1.1, RFC 6962 §2.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hash_children(left, right)
}

/// `SHA-256(0x01 ‖ left ‖ right)` over byte strings of any length (the RFC 6962 hasher test vector hashes
/// 4-byte children).
fn hash_children(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (`k` in RFC 9162 §2.1.1). Requires `n ≥ 2`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Naive reference `MTH(D[n])` over leaf hashes, by the recursive definition of RFC 9162 §2.1.1
/// (RFC 6962 §2.1). `O(n)` time, `O(log n)` stack; meant for tests and small offline checks — use
/// [`CompactRange`] or [`verify_leaf_hashes_root`] for whole logs.
pub fn root_from_leaf_hashes(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => EMPTY_ROOT,
        [only] => *only,
        _ => {
            // `len ≥ 2`; on 64-bit targets `usize` and `u64` agree, elsewhere the slice is smaller anyway.
            let n = leaf_hashes.len() as u64;
            let k = split_point(n) as usize;
            node_hash(
                &root_from_leaf_hashes(&leaf_hashes[..k]),
                &root_from_leaf_hashes(&leaf_hashes[k..]),
            )
        }
    }
}

/// Read access to the stored complete subtree hashes of a log (the storage model of RFC 9162 §2.1.1 trees:
/// node `(level, index)` is `MTH` of leaves `[index·2^level, (index+1)·2^level)`).
///
/// The functions of this module only ask for nodes that are complete in the tree size they were given,
/// i.e. `(index + 1)·2^level ≤ tree_size`, so a store that persists exactly the nodes reported by
/// [`CompactRange::append`] can answer every request.
pub trait NodeSource {
    /// Why a node could not be read (missing, I/O failure, …).
    type Error;

    /// The hash of the complete subtree `(level, index)` (RFC 9162 §2.1.1); level 0 is the leaf hash.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    type Error = T::Error;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        (**self).node(level, index)
    }
}

/// `MTH(D[start : start + size])` for a subtree as it occurs in the RFC 9162 §2.1.1 recursion, i.e. with
/// `start` a multiple of a power of two `≥ size`. Combines the maximal complete subtrees of the range (one
/// per set bit of `size`) right to left: exactly `popcount(size)` reads.
fn subtree_hash<S: NodeSource + ?Sized>(start: u64, size: u64, src: &S) -> Result<Hash, S::Error> {
    let mut end = start + size;
    let mut remaining = size;
    let mut acc: Option<Hash> = None;
    while remaining != 0 {
        let level = remaining.trailing_zeros();
        end -= 1u64 << level;
        let part = src.node(level as u8, end >> level)?;
        acc = Some(match acc {
            None => part,
            Some(right) => node_hash(&part, &right),
        });
        remaining &= remaining - 1;
    }
    Ok(acc.unwrap_or(EMPTY_ROOT))
}

/// The tree head `MTH(D[tree_size])` (RFC 9162 §2.1.1) from stored complete subtrees: `popcount(tree_size)`
/// node reads; `SHA-256("")` for the empty tree without any read.
pub fn root<S: NodeSource + ?Sized>(tree_size: u64, src: &S) -> Result<Hash, S::Error> {
    subtree_hash(0, tree_size, src)
}

/// Why a proof could not be generated (RFC 9162 §2.1.3.1, §2.1.4.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProveError<E> {
    /// `leaf_index ≥ tree_size`: the leaf is not in the tree (RFC 9162 §2.1.3.1 requires `0 ≤ m < n`).
    #[error("leaf index {leaf_index} is not below tree size {tree_size}")]
    IndexNotBelowSize {
        /// The requested leaf index.
        leaf_index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// `first > second`: a tree cannot be consistent with a larger earlier tree (RFC 9162 §2.1.4.1).
    #[error("first tree size {first} exceeds second tree size {second}")]
    SizesOutOfOrder {
        /// The earlier tree size.
        first: u64,
        /// The later tree size.
        second: u64,
    },
    /// The node source failed.
    #[error("reading a tree node: {0}")]
    Source(#[source] E),
}

/// The inclusion proof (audit path) `PATH(m, D[n])` of RFC 9162 §2.1.3.1 (RFC 6962 §2.1.1) for the leaf
/// `leaf_index` (`m`) in the tree of `tree_size` (`n`) leaves, ordered from the leaf's sibling upwards.
///
/// Reads only complete subtrees: one per path hash, except for the (at most one) path hash that covers
/// the incomplete right edge of the tree, which is combined from its complete parts — at most
/// `2·⌈log2 n⌉` reads in total.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    leaf_index: u64,
    tree_size: u64,
    src: &S,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if leaf_index >= tree_size {
        return Err(ProveError::IndexNotBelowSize {
            leaf_index,
            tree_size,
        });
    }
    // Walk the recursion of PATH top-down over the range D[start : start + n], then reverse.
    let mut path = Vec::with_capacity(inclusion_path_len(leaf_index, tree_size));
    let (mut start, mut n, mut m) = (0u64, tree_size, leaf_index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            // PATH(m, D[0:k]) : MTH(D[k:n])
            path.push(subtree_hash(start + k, n - k, src).map_err(ProveError::Source)?);
            n = k;
        } else {
            // PATH(m - k, D[k:n]) : MTH(D[0:k])
            path.push(subtree_hash(start, k, src).map_err(ProveError::Source)?);
            start += k;
            m -= k;
            n -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof `PROOF(m, D[n])` of RFC 9162 §2.1.4.1 (RFC 6962 §2.1.2) between the trees of
/// `first` (`m`) and `second` (`n`) leaves, ordered bottom-up as `SUBPROOF` produces it.
///
/// `first == second` and `first == 0` give the empty proof (see the module documentation for the size-0
/// policy). Reads only complete subtrees, at most `2·⌈log2 n⌉` of them.
pub fn consistency_proof<S: NodeSource + ?Sized>(
    first: u64,
    second: u64,
    src: &S,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if first > second {
        return Err(ProveError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        return Ok(Vec::new());
    }
    // Walk SUBPROOF(m, D[start : start + n], b) top-down, then reverse.
    let mut path = Vec::with_capacity(consistency_path_len(first, second));
    let (mut start, mut n, mut m, mut b) = (0u64, second, first, true);
    loop {
        if m == n {
            if !b {
                // SUBPROOF(m, D[m], false) = {MTH(D[m])}; this range is always a complete subtree.
                path.push(subtree_hash(start, n, src).map_err(ProveError::Source)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            path.push(subtree_hash(start + k, n - k, src).map_err(ProveError::Source)?);
            n = k;
        } else {
            // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            path.push(subtree_hash(start, k, src).map_err(ProveError::Source)?);
            start += k;
            m -= k;
            n -= k;
            b = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// The exact length of `PATH(leaf_index, D[tree_size])` (RFC 9162 §2.1.3.1): the levels below the point
/// where the paths to `leaf_index` and `tree_size − 1` diverge, plus one hash per left sibling on the right
/// border above it. Requires `leaf_index < tree_size`; returns 0 otherwise.
pub fn inclusion_path_len(leaf_index: u64, tree_size: u64) -> usize {
    if leaf_index >= tree_size {
        return 0;
    }
    let inner = 64 - (leaf_index ^ (tree_size - 1)).leading_zeros();
    let border = if inner >= 64 {
        0
    } else {
        (leaf_index >> inner).count_ones()
    };
    (inner + border) as usize
}

/// The exact length of `PROOF(first, D[second])` (RFC 9162 §2.1.4.1) for `0 < first < second`; 0 for the
/// cases this module answers with an empty proof (`first == 0`, `first == second`) or rejects
/// (`first > second`).
///
/// After the RFC 9162 §2.1.4.2 step 4 shift (dropping the levels where `first − 1` has trailing ones), the
/// walk is an inclusion walk; the seed hash is part of the proof unless `first` is a power of two.
pub fn consistency_path_len(first: u64, second: u64) -> usize {
    if first == 0 || first >= second {
        return 0;
    }
    let shift = first.trailing_zeros();
    let walk = inclusion_path_len((first - 1) >> shift, ((second - 1) >> shift) + 1);
    walk + usize::from(!first.is_power_of_two())
}

/// Why a proof or a tree head did not verify (RFC 9162 §2.1.2, §2.1.3.2, §2.1.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// `leaf_index ≥ tree_size` (RFC 9162 §2.1.3.2 step 1); this includes every index in the empty tree.
    #[error("leaf index {leaf_index} is not below tree size {tree_size}")]
    IndexNotBelowSize {
        /// The claimed leaf index.
        leaf_index: u64,
        /// The tree size.
        tree_size: u64,
    },
    /// `first > second`: the second tree head is older than the first (RFC 9162 §2.1.4.2).
    #[error("first tree size {first} exceeds second tree size {second}")]
    SizesOutOfOrder {
        /// The earlier tree size.
        first: u64,
        /// The later tree size.
        second: u64,
    },
    /// The proof does not have the length the RFC 9162 generation algorithm gives for these sizes (too
    /// short, too long, or non-empty where it must be empty).
    #[error("proof has {got} hashes, expected {want}")]
    WrongProofLength {
        /// Hashes received.
        got: usize,
        /// Hashes expected.
        want: usize,
    },
    /// A tree of size 0 was given a root other than `SHA-256("")` (RFC 9162 §2.1.1).
    #[error("the root of the empty tree must be SHA-256(\"\")")]
    WrongEmptyTreeRoot,
    /// The root computed from the leaf hash and the inclusion path differs from the given root
    /// (RFC 9162 §2.1.3.2 step 5), or the recomputed tree head differs (RFC 9162 §2.1.2).
    #[error("the computed root does not match the given root")]
    RootMismatch,
    /// The first root computed from the consistency path differs from `first_hash` (RFC 9162 §2.1.4.2
    /// step 7).
    #[error("the consistency proof does not lead to the first root")]
    FirstRootMismatch,
    /// The second root computed from the consistency path differs from `second_hash` (RFC 9162 §2.1.4.2
    /// step 7).
    #[error("the consistency proof does not lead to the second root")]
    SecondRootMismatch,
    /// Two tree heads of the same size have different roots: a fork (RFC 9162 §2.1.4).
    #[error("two trees of the same size have different roots")]
    SameSizeDifferentRoots,
    /// A full recomputation ran out of leaves before reaching the tree size (RFC 9162 §2.1.2).
    #[error("expected {tree_size} leaves, got only {counted}")]
    TooFewLeaves {
        /// The tree size claimed by the tree head.
        tree_size: u64,
        /// Leaves received.
        counted: u64,
    },
    /// A full recomputation received more leaves than the tree size (RFC 9162 §2.1.2).
    #[error("expected {tree_size} leaves, got more")]
    TooManyLeaves {
        /// The tree size claimed by the tree head.
        tree_size: u64,
    },
}

/// The root implied by an inclusion proof: the RFC 9162 §2.1.3.2 walk (steps 1–5 without the final root
/// comparison). Checks `leaf_index < tree_size` and the exact path length first.
pub fn root_from_inclusion_proof(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    inclusion_path: &[Hash],
) -> Result<Hash, ProofError> {
    // Step 1.
    if leaf_index >= tree_size {
        return Err(ProofError::IndexNotBelowSize {
            leaf_index,
            tree_size,
        });
    }
    let want = inclusion_path_len(leaf_index, tree_size);
    if inclusion_path.len() != want {
        return Err(ProofError::WrongProofLength {
            got: inclusion_path.len(),
            want,
        });
    }
    // Step 2 (`fn` is a Rust keyword, hence `fn_`).
    let mut fn_ = leaf_index;
    let mut sn = tree_size - 1;
    // Step 3.
    let mut r = *leaf_hash;
    // Step 4.
    for p in inclusion_path {
        if sn == 0 {
            return Err(ProofError::WrongProofLength {
                got: inclusion_path.len(),
                want,
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5 (first half).
    if sn != 0 {
        return Err(ProofError::WrongProofLength {
            got: inclusion_path.len(),
            want,
        });
    }
    Ok(r)
}

/// Verifies that `leaf_hash` is the leaf `leaf_index` of the tree of `tree_size` leaves with root
/// `root_hash`, given the audit path `inclusion_path` (RFC 9162 §2.1.3.2).
///
/// The proof does not bind `tree_size`: take `tree_size` and `root_hash` from the same verified checkpoint
/// (see the module documentation).
pub fn verify_inclusion(
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: &Hash,
    inclusion_path: &[Hash],
    root_hash: &Hash,
) -> Result<(), ProofError> {
    let r = root_from_inclusion_proof(leaf_index, tree_size, leaf_hash, inclusion_path)?;
    if r != *root_hash {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies that the tree of `second` leaves with root `second_hash` is an append-only extension of the
/// tree of `first` leaves with root `first_hash`, given `consistency_path` (RFC 9162 §2.1.4.2).
///
/// Edge cases (see the module documentation): `first > second` is rejected; `first == second` requires an
/// empty proof and equal roots; `first == 0` requires an empty proof and `first_hash == SHA-256("")` and is
/// then accepted for any `second` (C2SP tlog-witness semantics).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_hash: &Hash,
    second_hash: &Hash,
    consistency_path: &[Hash],
) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 || first == second {
        if !consistency_path.is_empty() {
            return Err(ProofError::WrongProofLength {
                got: consistency_path.len(),
                want: 0,
            });
        }
        if first == 0 && *first_hash != EMPTY_ROOT {
            return Err(ProofError::WrongEmptyTreeRoot);
        }
        if first == second && first_hash != second_hash {
            return Err(ProofError::SameSizeDifferentRoots);
        }
        return Ok(());
    }
    // Now 0 < first < second. Step 1 (an empty path fails) is part of the exact length check.
    let want = consistency_path_len(first, second);
    if consistency_path.len() != want {
        return Err(ProofError::WrongProofLength {
            got: consistency_path.len(),
            want,
        });
    }
    let wrong_length = ProofError::WrongProofLength {
        got: consistency_path.len(),
        want,
    };
    // Step 2: if `first` is an exact power of two, `first_hash` is prepended to the path.
    let (seed, rest) = if first.is_power_of_two() {
        (first_hash, consistency_path)
    } else {
        match consistency_path.split_first() {
            Some((seed, rest)) => (seed, rest),
            None => return Err(wrong_length),
        }
    };
    // Step 3.
    let mut fn_ = first - 1;
    let mut sn = second - 1;
    // Step 4.
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 5.
    let mut fr = *seed;
    let mut sr = *seed;
    // Step 6.
    for c in rest {
        if sn == 0 {
            return Err(wrong_length);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // Step 7.
    if sn != 0 {
        return Err(wrong_length);
    }
    if fr != *first_hash {
        return Err(ProofError::FirstRootMismatch);
    }
    if sr != *second_hash {
        return Err(ProofError::SecondRootMismatch);
    }
    Ok(())
}

/// The tree already holds `u64::MAX` leaves; no leaf index is left (RFC 9162 §2.1.1 trees are indexed by
/// `u64` in this crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the tree is full (u64::MAX leaves)")]
pub struct TreeFull;

/// A stored compact range could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CompactRangeError {
    /// The byte string is shorter than the 8-byte size prefix.
    #[error("compact range encoding is shorter than its 8-byte size")]
    Truncated,
    /// The number of hashes does not equal the number of set bits of the size.
    #[error("compact range for size {size} needs {want} hashes, got {got}")]
    WrongHashCount {
        /// The tree size.
        size: u64,
        /// Hashes present.
        got: usize,
        /// Hashes required (`popcount(size)`).
        want: usize,
    },
    /// The encoding length is not 8 plus a multiple of 32.
    #[error("compact range encoding has {len} bytes, not 8 + 32·k")]
    BadLength {
        /// The encoding length.
        len: usize,
    },
}

/// A newly completed subtree reported by [`CompactRange::append`]: `(level, index, hash)` with the
/// addressing of [`NodeSource`] (RFC 9162 §2.1.1 complete subtrees).
pub type NewNode = (u8, u64, Hash);

/// The right frontier of a tree: the hashes of the maximal complete subtrees that make up `D[0:size]`
/// (one per set bit of `size`, largest and leftmost first, at most 64). It is the state needed to append
/// to an RFC 9162 §2.1.1 tree and to compute its head (also known as a compact range `[0, size)`).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl std::fmt::Debug for CompactRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompactRange")
            .field("size", &self.size)
            .field("hashes", &self.hashes.iter().map(hex::encode).collect::<Vec<_>>())
            .finish()
    }
}

impl CompactRange {
    /// The frontier of the empty tree (RFC 9162 §2.1.1 `MTH({})`).
    pub fn new() -> Self {
        Self {
            size: 0,
            hashes: Vec::with_capacity(MAX_COMPACT_RANGE_HASHES),
        }
    }

    /// Builds a frontier from its size and its complete-subtree hashes, largest first (RFC 9162 §2.1.1
    /// decomposition); the number of hashes must be `popcount(size)`.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Result<Self, CompactRangeError> {
        let want = size.count_ones() as usize;
        if hashes.len() != want {
            return Err(CompactRangeError::WrongHashCount {
                size,
                got: hashes.len(),
                want,
            });
        }
        Ok(Self { size, hashes })
    }

    /// Reads the frontier of the tree of `tree_size` leaves from stored complete subtrees (RFC 9162
    /// §2.1.1): exactly `popcount(tree_size)` node reads.
    pub fn from_source<S: NodeSource + ?Sized>(tree_size: u64, src: &S) -> Result<Self, S::Error> {
        let mut hashes = Vec::with_capacity(MAX_COMPACT_RANGE_HASHES);
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if (tree_size >> level) & 1 == 1 {
                hashes.push(src.node(level as u8, start >> level)?);
                start += 1u64 << level;
            }
        }
        Ok(Self {
            size: tree_size,
            hashes,
        })
    }

    /// The number of leaves covered (the tree size).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The complete-subtree hashes, largest (leftmost) first; subtree `j` has level equal to the `j`-th
    /// highest set bit of [`size`](Self::size) (RFC 9162 §2.1.1 decomposition).
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The `(level, index)` addresses of [`hashes`](Self::hashes), in the same order.
    pub fn node_ids(&self) -> Vec<(u8, u64)> {
        let mut out = Vec::with_capacity(self.hashes.len());
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if (self.size >> level) & 1 == 1 {
                out.push((level as u8, start >> level));
                start += 1u64 << level;
            }
        }
        out
    }

    /// The tree head `MTH(D[size])` (RFC 9162 §2.1.1): the complete subtrees combined right to left;
    /// `SHA-256("")` when empty.
    pub fn root(&self) -> Hash {
        let mut it = self.hashes.iter().rev();
        let Some(last) = it.next() else {
            return EMPTY_ROOT;
        };
        it.fold(*last, |right, left| node_hash(left, &right))
    }

    /// Appends one leaf hash and calls `on_new_node(level, index, hash)` for every complete subtree this
    /// creates, bottom-up: the leaf itself `(0, size)`, then one node per merge (RFC 9162 §2.1.1). Each node
    /// of the tree is reported exactly once over the life of the range; `n` appends report `2n − popcount(n)`
    /// nodes in total, so one append costs one hash amortised.
    pub fn append_with<F: FnMut(u8, u64, &Hash)>(
        &mut self,
        leaf_hash: &Hash,
        mut on_new_node: F,
    ) -> Result<(), TreeFull> {
        let new_size = self.size.checked_add(1).ok_or(TreeFull)?;
        let mut h = *leaf_hash;
        let mut level = 0u8;
        let mut index = self.size;
        on_new_node(level, index, &h);
        // A node that is a right child completes its parent with the frontier's last (left) subtree.
        while index & 1 == 1 {
            let Some(left) = self.hashes.pop() else {
                break;
            };
            h = node_hash(&left, &h);
            level += 1;
            index >>= 1;
            on_new_node(level, index, &h);
        }
        self.hashes.push(h);
        self.size = new_size;
        Ok(())
    }

    /// Appends one leaf hash and returns the newly completed subtrees `(level, index, hash)`, bottom-up,
    /// for a store to persist (RFC 9162 §2.1.1). See [`append_with`](Self::append_with).
    pub fn append(&mut self, leaf_hash: &Hash) -> Result<Vec<NewNode>, TreeFull> {
        let mut out = Vec::with_capacity(1 + (self.size.trailing_ones() as usize));
        self.append_with(leaf_hash, |level, index, hash| out.push((level, index, *hash)))?;
        Ok(out)
    }

    /// Appends one leaf hash without reporting nodes (RFC 9162 §2.1.1); the fast path for audits.
    pub fn push(&mut self, leaf_hash: &Hash) -> Result<(), TreeFull> {
        self.append_with(leaf_hash, |_, _, _| {})
    }

    /// Storage encoding: the size as 8 bytes big-endian, then the `popcount(size)` hashes, largest first.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 32 * self.hashes.len());
        out.extend_from_slice(&self.size.to_be_bytes());
        for h in &self.hashes {
            out.extend_from_slice(h);
        }
        out
    }

    /// Decodes [`to_bytes`](Self::to_bytes); rejects any other length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CompactRangeError> {
        let (size_bytes, rest) = bytes
            .split_first_chunk::<8>()
            .ok_or(CompactRangeError::Truncated)?;
        let size = u64::from_be_bytes(*size_bytes);
        if rest.len() % 32 != 0 {
            return Err(CompactRangeError::BadLength { len: bytes.len() });
        }
        let want = size.count_ones() as usize;
        if rest.len() / 32 != want {
            return Err(CompactRangeError::WrongHashCount {
                size,
                got: rest.len() / 32,
                want,
            });
        }
        let mut hashes = Vec::with_capacity(MAX_COMPACT_RANGE_HASHES);
        for chunk in rest.chunks_exact(32) {
            let mut h = [0u8; 32];
            h.copy_from_slice(chunk);
            hashes.push(h);
        }
        Ok(Self { size, hashes })
    }
}

/// Recomputes the tree head from a stream of leaf hashes in `O(log n)` memory with a [`CompactRange`] and
/// compares it with `root_hash` (RFC 9162 §2.1.2, "Verifying a Tree Head Given Entries"). The stream must
/// hold exactly `tree_size` leaf hashes; reading stops at the first surplus one.
pub fn verify_leaf_hashes_root<I>(leaf_hashes: I, tree_size: u64, root_hash: &Hash) -> Result<(), ProofError>
where
    I: IntoIterator,
    I::Item: Borrow<Hash>,
{
    let mut range = CompactRange::new();
    for h in leaf_hashes {
        if range.size() == tree_size {
            return Err(ProofError::TooManyLeaves { tree_size });
        }
        // Cannot fail: size < tree_size ≤ u64::MAX.
        range
            .push(h.borrow())
            .map_err(|TreeFull| ProofError::TooManyLeaves { tree_size })?;
    }
    if range.size() != tree_size {
        return Err(ProofError::TooFewLeaves {
            tree_size,
            counted: range.size(),
        });
    }
    if range.root() != *root_hash {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// A stored node that does not exist (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("tree node ({level}, {index}) is not stored")]
pub struct MissingNode {
    /// The requested level.
    pub level: u8,
    /// The requested index within the level.
    pub index: u64,
}

/// An in-memory store of all complete subtree hashes (RFC 9162 §2.1.1), filled through a
/// [`CompactRange`]: the reference [`NodeSource`] for tests, small offline checks and benchmarks. Holds
/// `2n − popcount(n)` hashes for `n` leaves.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
    range: CompactRange,
}

impl MemoryTree {
    /// The empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree over the given leaf hashes, in order.
    pub fn from_leaf_hashes<I>(leaf_hashes: I) -> Result<Self, TreeFull>
    where
        I: IntoIterator,
        I::Item: Borrow<Hash>,
    {
        let mut tree = Self::new();
        for h in leaf_hashes {
            tree.push(h.borrow())?;
        }
        Ok(tree)
    }

    /// Appends one leaf hash, storing every subtree it completes (RFC 9162 §2.1.1).
    pub fn push(&mut self, leaf_hash: &Hash) -> Result<(), TreeFull> {
        let levels = &mut self.levels;
        self.range.append_with(leaf_hash, |level, _index, hash| {
            let level = usize::from(level);
            if levels.len() <= level {
                levels.resize_with(level + 1, Vec::new);
            }
            // Nodes of one level complete in index order, so `index == levels[level].len()`.
            levels[level].push(*hash);
        })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.range.size()
    }

    /// The current tree head (RFC 9162 §2.1.1).
    pub fn root(&self) -> Hash {
        self.range.root()
    }

    /// The frontier of the current tree.
    pub fn compact_range(&self) -> &CompactRange {
        &self.range
    }
}

impl NodeSource for MemoryTree {
    type Error = MissingNode;

    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(usize::from(level))
            .and_then(|l| usize::try_from(index).ok().and_then(|i| l.get(i)))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::OnceLock;

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;

    const VECTORS: &str = include_str!("../../spec/vectors/merkle/rfc6962_vectors.json");
    const PROBES_INCLUSION: &str = include_str!("../../spec/vectors/merkle/probes_inclusion.json");
    const PROBES_CONSISTENCY: &str = include_str!("../../spec/vectors/merkle/probes_consistency.json");

    /// Probes whose `want_err` we do not share, with the reason (reported, and pinned here so that any
    /// further divergence fails the test).
    const CONSISTENCY_PROBE_DISAGREEMENTS: &[&str] = &[
        // root1 = root2 = the 12-byte string "don't care 2": Go compares byte slices of any length and
        // accepts equal garbage for equal sizes; our roots are typed 32-byte SHA-256 hashes, so a 12-byte
        // "root" is rejected before verification.
        "testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    ];

    fn h(hex_text: &str) -> Hash {
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_text, &mut out).unwrap();
        out
    }

    /// A 32-byte hash, or `None` for anything else (probe garbage).
    fn h32(v: &Value) -> Option<Hash> {
        let bytes = hex::decode(v.as_str()?).ok()?;
        bytes.try_into().ok()
    }

    fn hashes(v: &Value) -> Vec<Hash> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| h(x.as_str().unwrap()))
            .collect()
    }

    fn vectors() -> Value {
        serde_json::from_str(VECTORS).unwrap()
    }

    fn vector_tree() -> (Vec<Hash>, MemoryTree) {
        let v = vectors();
        let leaves: Vec<Hash> = v["leaf_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| leaf_hash(&hex::decode(x.as_str().unwrap()).unwrap()))
            .collect();
        let tree = MemoryTree::from_leaf_hashes(&leaves).unwrap();
        (leaves, tree)
    }

    fn test_leaf(i: u64) -> Hash {
        leaf_hash(&i.to_be_bytes())
    }

    const BIG: u64 = 2000;

    /// Leaves `0..BIG` and the full tree over them; a tree of size `n ≤ BIG` reads exactly the nodes
    /// complete within `n`, which this tree holds with the same values.
    fn big() -> &'static (Vec<Hash>, MemoryTree) {
        static BIG_TREE: OnceLock<(Vec<Hash>, MemoryTree)> = OnceLock::new();
        BIG_TREE.get_or_init(|| {
            let leaves: Vec<Hash> = (0..BIG).map(test_leaf).collect();
            let tree = MemoryTree::from_leaf_hashes(&leaves).unwrap();
            (leaves, tree)
        })
    }

    /// Naive `PATH(m, D[n])` by the RFC 9162 §2.1.3.1 recursion.
    fn naive_path(m: usize, d: &[Hash]) -> Vec<Hash> {
        if d.len() <= 1 {
            return Vec::new();
        }
        let k = split_point(d.len() as u64) as usize;
        if m < k {
            let mut p = naive_path(m, &d[..k]);
            p.push(root_from_leaf_hashes(&d[k..]));
            p
        } else {
            let mut p = naive_path(m - k, &d[k..]);
            p.push(root_from_leaf_hashes(&d[..k]));
            p
        }
    }

    /// Naive `SUBPROOF(m, D[n], b)` by the RFC 9162 §2.1.4.1 recursion.
    fn naive_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b {
                Vec::new()
            } else {
                vec![root_from_leaf_hashes(d)]
            };
        }
        let k = split_point(n as u64) as usize;
        if m <= k {
            let mut p = naive_subproof(m, &d[..k], b);
            p.push(root_from_leaf_hashes(&d[k..]));
            p
        } else {
            let mut p = naive_subproof(m - k, &d[k..], false);
            p.push(root_from_leaf_hashes(&d[..k]));
            p
        }
    }

    /// The RFC 9162 §2.1.1 recursive `MTH(D[start:end])`, memoised per range: still the definition, but
    /// cheap enough to evaluate at every prefix size.
    fn memo_mth(d: &[Hash], start: usize, end: usize, memo: &mut HashMap<(usize, usize), Hash>) -> Hash {
        if let Some(h) = memo.get(&(start, end)) {
            return *h;
        }
        let h = match end - start {
            0 => EMPTY_ROOT,
            1 => d[start],
            n => {
                let k = split_point(n as u64) as usize;
                let left = memo_mth(d, start, start + k, memo);
                let right = memo_mth(d, start + k, end, memo);
                node_hash(&left, &right)
            }
        };
        memo.insert((start, end), h);
        h
    }

    struct Counting<'a> {
        inner: &'a MemoryTree,
        reads: Cell<u64>,
    }

    impl NodeSource for Counting<'_> {
        type Error = MissingNode;

        fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
            self.reads.set(self.reads.get() + 1);
            self.inner.node(level, index)
        }
    }

    fn ceil_log2(n: u64) -> u64 {
        if n <= 1 {
            0
        } else {
            u64::from(64 - (n - 1).leading_zeros())
        }
    }

    fn flip(mut x: Hash, bit: usize) -> Hash {
        x[bit / 8] ^= 1 << (bit % 8);
        x
    }

    #[test]
    fn hasher_vectors() {
        let v = &vectors()["hasher"];
        let empty: Hash = Sha256::digest(b"").into();
        assert_eq!(EMPTY_ROOT, empty);
        assert_eq!(EMPTY_ROOT, h(v["empty_root"].as_str().unwrap()));
        assert_eq!(leaf_hash(b""), h(v["leaf_hash_of_empty"].as_str().unwrap()));
        assert_eq!(
            leaf_hash(b"L123456"),
            h(v["leaf_hash_of_ascii_L123456"].as_str().unwrap())
        );
        assert_eq!(
            hash_children(b"N123", b"N456"),
            h(v["node_hash_of_ascii_N123_N456"].as_str().unwrap())
        );
        // Domain separation: a node is not a leaf over the concatenation of its children.
        let (l, r) = (leaf_hash(b"a"), leaf_hash(b"b"));
        assert_ne!(node_hash(&l, &r), leaf_hash(&[l, r].concat()));
        assert_eq!(root_from_leaf_hashes(&[]), EMPTY_ROOT);
        assert_eq!(CompactRange::new().root(), EMPTY_ROOT);
    }

    #[test]
    fn rfc6962_nodes_and_roots() {
        let v = vectors();
        let (leaves, tree) = vector_tree();
        let levels = v["node_hashes_by_level"].as_array().unwrap();
        let mut checked = 0;
        for (level, nodes) in levels.iter().enumerate() {
            for (index, node) in hashes(nodes).iter().enumerate() {
                assert_eq!(
                    tree.node(level as u8, index as u64).unwrap(),
                    *node,
                    "node ({level}, {index})"
                );
                let w = 1usize << level;
                assert_eq!(root_from_leaf_hashes(&leaves[index * w..(index + 1) * w]), *node);
                checked += 1;
            }
        }
        assert_eq!(checked, 15);
        let roots = v["roots_by_size"].as_object().unwrap();
        assert_eq!(roots.len(), 9);
        let mut range = CompactRange::new();
        for size in 0..=8u64 {
            let want = h(roots[&size.to_string()].as_str().unwrap());
            assert_eq!(
                root_from_leaf_hashes(&leaves[..size as usize]),
                want,
                "naive {size}"
            );
            assert_eq!(root(size, &tree).unwrap(), want, "stored {size}");
            assert_eq!(range.root(), want, "compact range {size}");
            assert_eq!(CompactRange::from_source(size, &tree).unwrap(), range);
            verify_leaf_hashes_root(&leaves[..size as usize], size, &want).unwrap();
            if size < 8 {
                range.push(&leaves[size as usize]).unwrap();
            }
        }
    }

    #[test]
    fn rfc6962_inclusion_vectors() {
        let v = vectors();
        let (leaves, tree) = vector_tree();
        let cases = v["inclusion"].as_array().unwrap();
        assert_eq!(cases.len(), 5);
        for c in cases {
            let (m, n) = (
                c["leaf_index"].as_u64().unwrap(),
                c["tree_size"].as_u64().unwrap(),
            );
            let want = hashes(&c["proof"]);
            assert_eq!(inclusion_proof(m, n, &tree).unwrap(), want, "PATH({m}, D[{n}])");
            assert_eq!(inclusion_path_len(m, n), want.len());
            let root_n = root_from_leaf_hashes(&leaves[..n as usize]);
            verify_inclusion(m, n, &leaves[m as usize], &want, &root_n).unwrap();
        }
    }

    #[test]
    fn rfc6962_consistency_vectors() {
        let v = vectors();
        let (leaves, tree) = vector_tree();
        let cases = v["consistency"].as_array().unwrap();
        assert_eq!(cases.len(), 5);
        for c in cases {
            let (m, n) = (c["size1"].as_u64().unwrap(), c["size2"].as_u64().unwrap());
            let want = hashes(&c["proof"]);
            assert_eq!(
                consistency_proof(m, n, &tree).unwrap(),
                want,
                "PROOF({m}, D[{n}])"
            );
            assert_eq!(consistency_path_len(m, n), want.len());
            let r1 = root_from_leaf_hashes(&leaves[..m as usize]);
            let r2 = root_from_leaf_hashes(&leaves[..n as usize]);
            verify_consistency(m, n, &r1, &r2, &want).unwrap();
        }
    }

    #[test]
    fn inclusion_probes() {
        let p: Value = serde_json::from_str(PROBES_INCLUSION).unwrap();
        let probes = p["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 98);
        let mut disagreements = Vec::new();
        for probe in probes {
            let proof: Option<Vec<Hash>> = probe["proof"].as_array().unwrap().iter().map(h32).collect();
            let got_err = match (h32(&probe["leaf_hash"]), h32(&probe["root"]), proof) {
                (Some(leaf), Some(root_hash), Some(proof)) => verify_inclusion(
                    probe["leaf_index"].as_u64().unwrap(),
                    probe["tree_size"].as_u64().unwrap(),
                    &leaf,
                    &proof,
                    &root_hash,
                )
                .is_err(),
                // Not a SHA-256 hash: rejected before verification.
                _ => true,
            };
            if got_err != probe["want_err"].as_bool().unwrap() {
                disagreements.push(probe["file"].as_str().unwrap().to_owned());
            }
        }
        assert!(disagreements.is_empty(), "{disagreements:?}");
    }

    #[test]
    fn consistency_probes() {
        let p: Value = serde_json::from_str(PROBES_CONSISTENCY).unwrap();
        let probes = p["probes"].as_array().unwrap();
        assert_eq!(probes.len(), 98);
        let mut disagreements = Vec::new();
        for probe in probes {
            let proof: Option<Vec<Hash>> = probe["proof"].as_array().unwrap().iter().map(h32).collect();
            let got_err = match (h32(&probe["root1"]), h32(&probe["root2"]), proof) {
                (Some(r1), Some(r2), Some(proof)) => verify_consistency(
                    probe["size1"].as_u64().unwrap(),
                    probe["size2"].as_u64().unwrap(),
                    &r1,
                    &r2,
                    &proof,
                )
                .is_err(),
                _ => true,
            };
            if got_err != probe["want_err"].as_bool().unwrap() {
                disagreements.push(probe["file"].as_str().unwrap().to_owned());
            }
        }
        assert_eq!(disagreements, CONSISTENCY_PROBE_DISAGREEMENTS);
    }

    #[test]
    fn consistency_from_size_zero_policy() {
        let (leaves, tree) = vector_tree();
        let r1 = root_from_leaf_hashes(&leaves[..1]);
        let r8 = root_from_leaf_hashes(&leaves);
        // tlog-witness semantics: the empty tree is extended by every tree, with an empty proof.
        assert_eq!(consistency_proof(0, 8, &tree).unwrap(), Vec::<Hash>::new());
        verify_consistency(0, 0, &EMPTY_ROOT, &EMPTY_ROOT, &[]).unwrap();
        verify_consistency(0, 1, &EMPTY_ROOT, &r1, &[]).unwrap();
        verify_consistency(0, 8, &EMPTY_ROOT, &r8, &[]).unwrap();
        // ... but the size-0 root must be SHA-256("") and the proof empty.
        assert_eq!(
            verify_consistency(0, 8, &r1, &r8, &[]),
            Err(ProofError::WrongEmptyTreeRoot)
        );
        assert_eq!(
            verify_consistency(0, 0, &r1, &r1, &[]),
            Err(ProofError::WrongEmptyTreeRoot)
        );
        assert_eq!(
            verify_consistency(0, 1, &EMPTY_ROOT, &r1, &[r1]),
            Err(ProofError::WrongProofLength { got: 1, want: 0 })
        );
        assert_eq!(
            verify_consistency(0, 0, &EMPTY_ROOT, &r1, &[]),
            Err(ProofError::SameSizeDifferentRoots)
        );
        // Equal sizes: empty proof, equal roots.
        verify_consistency(8, 8, &r8, &r8, &[]).unwrap();
        assert_eq!(
            verify_consistency(8, 8, &r8, &r1, &[]),
            Err(ProofError::SameSizeDifferentRoots)
        );
        assert_eq!(
            verify_consistency(8, 8, &r8, &r8, &[r8]),
            Err(ProofError::WrongProofLength { got: 1, want: 0 })
        );
        assert_eq!(
            verify_consistency(2, 1, &r8, &r1, &[]),
            Err(ProofError::SizesOutOfOrder { first: 2, second: 1 })
        );
        assert_eq!(
            verify_consistency(1, 8, &r1, &r8, &[]),
            Err(ProofError::WrongProofLength { got: 0, want: 3 })
        );
    }

    #[test]
    fn inclusion_proof_does_not_bind_tree_size() {
        // transparency-logs.md §8: a proof for leaf 1 of the 1,026-leaf tree verifies as a proof for leaf 1
        // of a 1,025-leaf tree under the same root.
        let (leaves, tree) = big();
        let root_1026 = root(1026, tree).unwrap();
        let proof = inclusion_proof(1, 1026, tree).unwrap();
        verify_inclusion(1, 1026, &leaves[1], &proof, &root_1026).unwrap();
        verify_inclusion(1, 1025, &leaves[1], &proof, &root_1026).unwrap();
        assert_ne!(root(1025, tree).unwrap(), root_1026);
    }

    #[test]
    fn generation_errors() {
        let (_, tree) = vector_tree();
        assert_eq!(
            inclusion_proof(8, 8, &tree),
            Err(ProveError::IndexNotBelowSize {
                leaf_index: 8,
                tree_size: 8
            })
        );
        assert_eq!(
            inclusion_proof(0, 0, &tree),
            Err(ProveError::IndexNotBelowSize {
                leaf_index: 0,
                tree_size: 0
            })
        );
        assert_eq!(
            consistency_proof(3, 2, &tree),
            Err(ProveError::SizesOutOfOrder { first: 3, second: 2 })
        );
        // A size beyond what the store holds surfaces the source error.
        assert_eq!(
            inclusion_proof(0, 9, &tree),
            Err(ProveError::Source(MissingNode { level: 0, index: 8 }))
        );
        assert!(consistency_proof(3, 12, &tree).is_err());
        assert!(root(9, &tree).is_err());
        assert!(CompactRange::from_source(9, &tree).is_err());
        assert_eq!(
            verify_inclusion(3, 3, &EMPTY_ROOT, &[], &EMPTY_ROOT),
            Err(ProofError::IndexNotBelowSize {
                leaf_index: 3,
                tree_size: 3
            })
        );
    }

    #[test]
    fn exhaustive_small_trees() {
        let (leaves, tree) = big();
        for n in 1..=64u64 {
            let d = &leaves[..n as usize];
            let root_n = root_from_leaf_hashes(d);
            assert_eq!(root(n, tree).unwrap(), root_n);
            for m in 0..n {
                let proof = inclusion_proof(m, n, tree).unwrap();
                assert_eq!(proof, naive_path(m as usize, d), "PATH({m}, D[{n}])");
                assert_eq!(proof.len(), inclusion_path_len(m, n));
                verify_inclusion(m, n, &d[m as usize], &proof, &root_n).unwrap();
                // Every other index at this size fails.
                for other in (0..n).filter(|_| n <= 32) {
                    if other != m {
                        assert!(verify_inclusion(other, n, &d[m as usize], &proof, &root_n).is_err());
                    }
                }
            }
            for m in 0..=n {
                let proof = consistency_proof(m, n, tree).unwrap();
                if 0 < m && m < n {
                    assert_eq!(proof, naive_subproof(m as usize, d, true), "PROOF({m}, D[{n}])");
                }
                assert_eq!(proof.len(), consistency_path_len(m, n));
                let root_m = root_from_leaf_hashes(&d[..m as usize]);
                verify_consistency(m, n, &root_m, &root_n, &proof).unwrap();
                if 0 < m && m < n {
                    // Wrong first root, wrong second root, swapped roots.
                    assert!(verify_consistency(m, n, &root_n, &root_n, &proof).is_err());
                    assert!(verify_consistency(m, n, &root_m, &root_m, &proof).is_err());
                    assert!(verify_consistency(m, n, &root_n, &root_m, &proof).is_err());
                }
            }
        }
    }

    #[test]
    fn proof_node_reads_are_logarithmic() {
        let (_, tree) = big();
        let counting = Counting {
            inner: tree,
            reads: Cell::new(0),
        };
        let mut worst = (0, 0);
        for n in 1..=300u64 {
            for m in 0..=n {
                let bound = 2 * ceil_log2(n);
                if m < n {
                    counting.reads.set(0);
                    inclusion_proof(m, n, &counting).unwrap();
                    assert!(
                        counting.reads.get() <= bound,
                        "PATH({m}, D[{n}]): {}",
                        counting.reads.get()
                    );
                    worst = worst.max((counting.reads.get(), n));
                }
                counting.reads.set(0);
                consistency_proof(m, n, &counting).unwrap();
                assert!(
                    counting.reads.get() <= bound,
                    "PROOF({m}, D[{n}]): {}",
                    counting.reads.get()
                );
            }
        }
        assert!(worst.0 >= 14, "{worst:?}");
    }

    #[test]
    fn compact_range_root_matches_naive_at_every_size() {
        let (leaves, tree) = big();
        let mut memo = HashMap::new();
        let mut range = CompactRange::new();
        for n in 0..=BIG {
            assert_eq!(range.size(), n);
            assert_eq!(range.hashes().len(), n.count_ones() as usize);
            assert_eq!(
                range.root(),
                memo_mth(leaves, 0, n as usize, &mut memo),
                "size {n}"
            );
            if n % 97 == 0 {
                assert_eq!(
                    range.root(),
                    root_from_leaf_hashes(&leaves[..n as usize]),
                    "size {n}"
                );
            }
            let restored = CompactRange::from_source(n, tree).unwrap();
            assert_eq!(restored, range);
            assert_eq!(CompactRange::from_bytes(&range.to_bytes()).unwrap(), range);
            for ((level, index), hash) in range.node_ids().into_iter().zip(range.hashes()) {
                assert_eq!(tree.node(level, index).unwrap(), *hash);
            }
            if n < BIG {
                range.push(&leaves[n as usize]).unwrap();
            }
        }
        assert_eq!(tree.root(), range.root());
        assert_eq!(tree.compact_range(), &range);
    }

    #[test]
    fn append_reports_each_complete_node_once() {
        let (leaves, _) = big();
        let mut range = CompactRange::new();
        let mut reported: BTreeMap<(u8, u64), Hash> = BTreeMap::new();
        for n in 1..=300u64 {
            let new_nodes = range.append(&leaves[n as usize - 1]).unwrap();
            assert_eq!(new_nodes.len(), 1 + (n - 1).trailing_ones() as usize);
            assert_eq!(new_nodes[0], (0, n - 1, leaves[n as usize - 1]));
            for (level, index, hash) in new_nodes {
                assert!(
                    reported.insert((level, index), hash).is_none(),
                    "({level}, {index}) twice"
                );
            }
            // Reported so far = every complete subtree of D[n], with its MTH.
            let mut want = 0;
            for level in 0..9u8 {
                let w = 1u64 << level;
                for index in 0..n / w {
                    let got = reported.get(&(level, index)).copied();
                    let range_leaves = &leaves[(index * w) as usize..((index + 1) * w) as usize];
                    assert_eq!(got, Some(root_from_leaf_hashes(range_leaves)));
                    want += 1;
                }
            }
            assert_eq!(reported.len(), want);
            assert_eq!(want as u64, 2 * n - u64::from(n.count_ones()));
        }
    }

    #[test]
    fn compact_range_encoding() {
        let (leaves, _) = big();
        let mut range = CompactRange::new();
        assert_eq!(range.to_bytes(), 0u64.to_be_bytes());
        for l in &leaves[..13] {
            range.push(l).unwrap();
        }
        let bytes = range.to_bytes();
        assert_eq!(bytes.len(), 8 + 3 * 32);
        assert_eq!(bytes[..8], 13u64.to_be_bytes());
        assert_eq!(CompactRange::from_bytes(&bytes).unwrap(), range);
        assert_eq!(
            CompactRange::from_bytes(&bytes[..7]),
            Err(CompactRangeError::Truncated)
        );
        assert_eq!(
            CompactRange::from_bytes(&bytes[..bytes.len() - 1]),
            Err(CompactRangeError::BadLength { len: bytes.len() - 1 })
        );
        assert_eq!(
            CompactRange::from_bytes(&bytes[..bytes.len() - 32]),
            Err(CompactRangeError::WrongHashCount {
                size: 13,
                got: 2,
                want: 3
            })
        );
        assert_eq!(
            CompactRange::from_parts(2, vec![]),
            Err(CompactRangeError::WrongHashCount {
                size: 2,
                got: 0,
                want: 1
            })
        );
        // A full range refuses further appends instead of wrapping.
        let mut full = CompactRange::from_parts(u64::MAX, vec![EMPTY_ROOT; 64]).unwrap();
        assert_eq!(full.push(&EMPTY_ROOT), Err(TreeFull));
        assert_eq!(full.size(), u64::MAX);
        assert_eq!(full.node_ids().len(), 64);
        assert_eq!(full.node_ids()[63], (0, u64::MAX - 1));
    }

    #[test]
    fn streaming_audit() {
        let (leaves, tree) = big();
        let r = root(1234, tree).unwrap();
        verify_leaf_hashes_root(&leaves[..1234], 1234, &r).unwrap();
        verify_leaf_hashes_root(leaves[..1234].iter().copied(), 1234, &r).unwrap();
        assert_eq!(
            verify_leaf_hashes_root(&leaves[..1233], 1234, &r),
            Err(ProofError::TooFewLeaves {
                tree_size: 1234,
                counted: 1233
            })
        );
        assert_eq!(
            verify_leaf_hashes_root(&leaves[..1235], 1234, &r),
            Err(ProofError::TooManyLeaves { tree_size: 1234 })
        );
        let mut swapped = leaves[..1234].to_vec();
        swapped.swap(10, 11);
        assert_eq!(
            verify_leaf_hashes_root(&swapped, 1234, &r),
            Err(ProofError::RootMismatch)
        );
        verify_leaf_hashes_root(std::iter::empty::<Hash>(), 0, &EMPTY_ROOT).unwrap();
    }

    #[test]
    fn path_lengths_at_extremes() {
        assert_eq!(inclusion_path_len(0, 1), 0);
        assert_eq!(inclusion_path_len(u64::MAX - 1, u64::MAX), 63);
        assert_eq!(inclusion_path_len(0, u64::MAX), 64);
        assert_eq!(inclusion_path_len(5, 5), 0);
        assert_eq!(consistency_path_len(1, u64::MAX), 64);
        assert_eq!(consistency_path_len(u64::MAX - 1, u64::MAX), 64);
        assert_eq!(consistency_path_len(1u64 << 63, u64::MAX), 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn inclusion_proofs_verify_and_resist_bit_flips(
            (n, m) in (1..=BIG).prop_flat_map(|n| (Just(n), 0..n)),
            random_bit in 0usize..256,
        ) {
            let (leaves, tree) = big();
            let d = &leaves[..n as usize];
            let root_n = root_from_leaf_hashes(d);
            let counting = Counting { inner: tree, reads: Cell::new(0) };
            let proof = inclusion_proof(m, n, &counting).unwrap();
            prop_assert!(counting.reads.get() <= 2 * ceil_log2(n) + 2, "{} reads", counting.reads.get());
            prop_assert_eq!(&proof, &naive_path(m as usize, d));
            prop_assert_eq!(proof.len(), inclusion_path_len(m, n));
            let leaf = d[m as usize];
            prop_assert!(verify_inclusion(m, n, &leaf, &proof, &root_n).is_ok());
            // A single bit flip anywhere (first, last and one random bit of every hash) breaks the proof.
            for i in 0..proof.len() {
                for bit in [0, 255, random_bit] {
                    let mut bad = proof.clone();
                    bad[i] = flip(bad[i], bit);
                    prop_assert_eq!(verify_inclusion(m, n, &leaf, &bad, &root_n), Err(ProofError::RootMismatch));
                }
            }
            for bit in [0, 255, random_bit] {
                prop_assert!(verify_inclusion(m, n, &flip(leaf, bit), &proof, &root_n).is_err());
                prop_assert!(verify_inclusion(m, n, &leaf, &proof, &flip(root_n, bit)).is_err());
            }
            // Truncated or extended proofs fail.
            if !proof.is_empty() {
                prop_assert!(verify_inclusion(m, n, &leaf, &proof[1..], &root_n).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root_n);
            prop_assert!(verify_inclusion(m, n, &leaf, &longer, &root_n).is_err());
        }

        #[test]
        fn consistency_proofs_verify_and_resist_bit_flips(
            (n, m) in (1..=BIG).prop_flat_map(|n| (Just(n), 0..=n)),
            random_bit in 0usize..256,
        ) {
            let (leaves, tree) = big();
            let d = &leaves[..n as usize];
            let root_m = root_from_leaf_hashes(&d[..m as usize]);
            let root_n = root_from_leaf_hashes(d);
            let counting = Counting { inner: tree, reads: Cell::new(0) };
            let proof = consistency_proof(m, n, &counting).unwrap();
            prop_assert!(counting.reads.get() <= 2 * ceil_log2(n) + 2, "{} reads", counting.reads.get());
            if 0 < m && m < n {
                prop_assert_eq!(&proof, &naive_subproof(m as usize, d, true));
            } else {
                prop_assert!(proof.is_empty());
            }
            prop_assert_eq!(proof.len(), consistency_path_len(m, n));
            prop_assert!(verify_consistency(m, n, &root_m, &root_n, &proof).is_ok());
            for i in 0..proof.len() {
                for bit in [0, 255, random_bit] {
                    let mut bad = proof.clone();
                    bad[i] = flip(bad[i], bit);
                    prop_assert!(verify_consistency(m, n, &root_m, &root_n, &bad).is_err());
                }
            }
            for bit in [0, 255, random_bit] {
                prop_assert!(verify_consistency(m, n, &flip(root_m, bit), &root_n, &proof).is_err());
                let second = verify_consistency(m, n, &root_m, &flip(root_n, bit), &proof);
                // From the empty tree every second tree head is accepted (module policy); otherwise not.
                prop_assert_eq!(second.is_ok(), m == 0);
            }
            if !proof.is_empty() {
                prop_assert!(verify_consistency(m, n, &root_m, &root_n, &proof[1..]).is_err());
            }
            let mut longer = proof.clone();
            longer.push(root_n);
            prop_assert!(verify_consistency(m, n, &root_m, &root_n, &longer).is_err());
        }

        #[test]
        fn root_and_frontier_from_source_match_naive(n in 0..=BIG) {
            let (leaves, tree) = big();
            let counting = Counting { inner: tree, reads: Cell::new(0) };
            let naive = root_from_leaf_hashes(&leaves[..n as usize]);
            prop_assert_eq!(root(n, &counting).unwrap(), naive);
            prop_assert_eq!(counting.reads.get(), u64::from(n.count_ones()));
            prop_assert_eq!(CompactRange::from_source(n, tree).unwrap().root(), naive);
        }
    }
}
