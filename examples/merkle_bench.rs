//! Merkle tree micro-benchmark (BENCHMARKS.md, "Access log"): builds an in-memory tree of 10 million
//! leaves, then times 100,000 inclusion and consistency proofs (generation and verification), the
//! root over a million leaf hashes (the auditor's path), and one node hash and one leaf hash.
//!
//! ```text
//! cargo run --release --example merkle_bench
//! ```
//!
//! Formerly the ignored unit test `log::merkle::tests::bench`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use consentry::log::merkle::{
    EMPTY_ROOT, Hash, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, node_hash, root,
    verify_consistency, verify_inclusion, verify_leaf_hashes_root,
};

/// The leaf hash of entry `i`: the hash of its 8 big-endian bytes.
fn test_leaf(i: u64) -> Hash {
    leaf_hash(&i.to_be_bytes())
}

fn main() {
    use std::time::Instant;
    const N: u64 = 10_000_000;
    let t = Instant::now();
    let mut tree = MemoryTree::new();
    for i in 0..N {
        tree.push(&test_leaf(i)).unwrap();
    }
    let build = t.elapsed();
    let root_n = tree.root();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    const P: u32 = 100_000;
    let indices: Vec<u64> = (0..P).map(|_| next() % N).collect();
    let t = Instant::now();
    let proofs: Vec<Vec<Hash>> = indices
        .iter()
        .map(|&m| inclusion_proof(m, N, &tree).unwrap())
        .collect();
    let gen_incl = t.elapsed();
    let t = Instant::now();
    for (&m, proof) in indices.iter().zip(&proofs) {
        verify_inclusion(m, N, &test_leaf(m), proof, &root_n).unwrap();
    }
    let ver_incl = t.elapsed();
    let firsts: Vec<u64> = (0..P).map(|_| 1 + next() % (N - 1)).collect();
    let t = Instant::now();
    let cproofs: Vec<Vec<Hash>> = firsts
        .iter()
        .map(|&f| consistency_proof(f, N, &tree).unwrap())
        .collect();
    let gen_cons = t.elapsed();
    let first_roots: Vec<Hash> = firsts.iter().map(|&f| root(f, &tree).unwrap()).collect();
    let t = Instant::now();
    for ((&f, proof), r1) in firsts.iter().zip(&cproofs).zip(&first_roots) {
        verify_consistency(f, N, r1, &root_n, proof).unwrap();
    }
    let ver_cons = t.elapsed();
    const A: u64 = 1_000_000;
    let audit_leaves: Vec<Hash> = (0..A).map(test_leaf).collect();
    let audit_root = root(A, &tree).unwrap();
    let t = Instant::now();
    verify_leaf_hashes_root(&audit_leaves, A, &audit_root).unwrap();
    let audit = t.elapsed();
    let t = Instant::now();
    for i in 0..A {
        std::hint::black_box(test_leaf(i));
    }
    let leafhash = t.elapsed();
    let t = Instant::now();
    let mut acc = EMPTY_ROOT;
    for _ in 0..A {
        acc = node_hash(&acc, &root_n);
    }
    std::hint::black_box(acc);
    let nodehash = t.elapsed();
    let per = |d: std::time::Duration, k: u32| d.as_secs_f64() * 1e6 / f64::from(k);
    eprintln!("build MemoryTree {N} leaves: {:.2} s", build.as_secs_f64());
    eprintln!(
        "n={N}: inclusion gen {:.2} µs + verify {:.2} µs; consistency gen {:.2} µs + verify {:.2} µs",
        per(gen_incl, P),
        per(ver_incl, P),
        per(gen_cons, P),
        per(ver_cons, P)
    );
    eprintln!(
        "audit root over {A} leaf hashes: {:.1} ms = {:.2} M leaves/s (leaf hashing of 8-byte entries alone: {:.2} M/s)",
        audit.as_secs_f64() * 1e3,
        A as f64 / audit.as_secs_f64() / 1e6,
        A as f64 / leafhash.as_secs_f64() / 1e6
    );
    eprintln!(
        "node_hash {:.3} µs, leaf_hash(8 B) {:.3} µs",
        nodehash.as_secs_f64() * 1e6 / A as f64,
        leafhash.as_secs_f64() * 1e6 / A as f64
    );
}
