//! Receipts for releases. At answer time the entry is durable but no checkpoint covers it yet, so
//! the answer carries a signed *inclusion promise* (the log's word, like a CT SCT): the node signs
//! `consentry/inclusion-promise/v1\n<origin>\n<index>\n<base64 leaf hash>\n<time ms>\n` with its key.
//! A checkpoint covering the entry follows within the checkpoint interval; the full C2SP tlog-proof
//! receipt is then served at `GET /v1/log/receipts/{index}` (spec/access-log.md §6).

use super::Node;
use super::answers::log::InclusionPromise;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The statement an inclusion promise signs.
pub fn promise_statement(origin: &str, index: u64, leaf_hash: &[u8], time_ms: u64) -> String {
    format!(
        "consentry/inclusion-promise/v1\n{origin}\n{index}\n{}\n{time_ms}\n",
        STANDARD.encode(leaf_hash)
    )
}

/// A signed inclusion promise for entry `index`.
pub fn promise(node: &Node, index: u64, leaf_hash_hex: &str, time_ms: u64) -> InclusionPromise {
    let leaf_hash = hex::decode(leaf_hash_hex).unwrap_or_default();
    let statement = promise_statement(&node.origin, index, &leaf_hash, time_ms);
    let signature = node.key.secret.sign(statement.as_bytes());
    InclusionPromise {
        kind: "inclusion-promise",
        origin: node.origin.clone(),
        index,
        leaf_hash: STANDARD.encode(&leaf_hash),
        time_ms,
        signer: node.did().to_owned(),
        signature: STANDARD.encode(signature),
        proof: format!("/v1/log/receipts/{index}"),
    }
}
