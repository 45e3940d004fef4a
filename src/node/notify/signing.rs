//! How a delivery is signed (spec/notifications.md §3): the HTTP request [`signed_delivery`] builds,
//! with `Content-Digest` (RFC 9530) and an RFC 9421 HTTP Message Signature by the node's Ed25519 key
//! over [`COVERED`], labelled [`SIGNATURE_LABEL`] and tagged [`SIGNATURE_TAG`].
//!
//! Guarantees: every delivery is signed afresh at each attempt (its own `created`, `expires` and
//! random nonce); the event id, type and sequence number are covered, so a receiver can
//! de-duplicate and order on signed values; a random-number failure is an error, never a fixed nonce.

use crate::crypto::httpsig;
use crate::error::{Error, Result};
use crate::node::Node;

/// The label of the node's signature in `Signature-Input` / `Signature`.
pub const SIGNATURE_LABEL: &str = "consentry";
/// The `tag` parameter of the node's webhook signatures (RFC 9421 §2.3).
pub const SIGNATURE_TAG: &str = "consentry-webhook";
/// Seconds between a signature's `created` and `expires`.
pub const SIGNATURE_LIFETIME_SECS: i64 = 300;
/// The components every delivery signature covers, in order.
pub const COVERED: [&str; 7] = [
    "@method",
    "@target-uri",
    "content-type",
    "content-digest",
    "consentry-event-id",
    "consentry-event-type",
    "consentry-sequence",
];

/// The signed HTTP request that delivers `body` to `url` (RFC 9421 signature by `node`'s key, created
/// at `now_s`; spec/notifications.md §3).
pub fn signed_delivery(
    node: &Node,
    url: &str,
    event_id: &str,
    event_type: &str,
    seq: i64,
    body: &[u8],
    now_s: i64,
) -> Result<httpsig::Request> {
    let mut req = httpsig::Request {
        method: "POST".into(),
        target_uri: url.to_owned(),
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Content-Digest".into(), httpsig::content_digest(body)),
            ("Consentry-Event-Id".into(), event_id.to_owned()),
            ("Consentry-Event-Type".into(), event_type.to_owned()),
            ("Consentry-Sequence".into(), seq.to_string()),
        ],
        body: body.to_vec(),
    };
    let mut nonce = [0u8; 16];
    crate::crypto::ed25519::random_bytes(&mut nonce).map_err(|e| Error::Internal(e.to_string()))?;
    let params = httpsig::SignatureParams {
        created: Some(now_s),
        expires: Some(now_s + SIGNATURE_LIFETIME_SECS),
        nonce: Some(hex::encode(nonce)),
        keyid: Some(node.key.did.verification_method_id()),
        alg: Some(httpsig::ALG_ED25519.into()),
        tag: Some(SIGNATURE_TAG.into()),
    };
    httpsig::sign(&mut req, SIGNATURE_LABEL, &COVERED, &params, &node.key.secret)
        .map_err(|e| Error::Internal(format!("signing a delivery: {e}")))?;
    Ok(req)
}
