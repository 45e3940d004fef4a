//! Publishing the Bitstring Status List credentials (W3C Bitstring Status List v1.0 §2.2): one
//! `BitstringStatusListCredential` per list and purpose at `<public>/status/<n>/<purpose>`, signed by
//! the node (eddsa-jcs-2022), cached per list version and served with cache headers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;

use super::Node;
use crate::credential::data_integrity;
use crate::credential::datetime::format_utc_seconds;
use crate::error::{Error, Result};
use crate::status::StatusPurpose;
use crate::storage::{from_millis, status_lists};

/// How long (ms) verifiers may cache a list (the credential's `ttl`, and `Cache-Control: max-age`).
pub const TTL_MS: u64 = 60_000;

/// A signed list as served.
#[derive(Debug, Clone)]
pub struct PublishedList {
    /// The signed credential (JSON text).
    pub body: Arc<String>,
    /// The list's version (the `ETag`).
    pub version: i64,
}

/// Signed lists by (list, purpose), for the latest version seen.
#[derive(Debug, Default)]
pub struct StatusCache {
    map: Mutex<HashMap<(i64, StatusPurpose), PublishedList>>,
}

/// The signed status-list credential for list `n` and `purpose`.
pub async fn list_credential(node: &Node, n: i64, purpose: StatusPurpose) -> Result<PublishedList> {
    let (bits, version, updated) = node
        .store
        .call(move |c| status_lists::get_list(c, n, purpose))
        .await?
        .ok_or_else(|| Error::NotFound(format!("status list {n}/{}", purpose.as_str())))?;
    if let Some(hit) = node
        .status_cache
        .map
        .lock()
        .ok()
        .and_then(|m| m.get(&(n, purpose)).cloned())
    {
        if hit.version == version {
            return Ok(hit);
        }
    }
    let url = format!("{}/status/{n}/{}", node.public_url, purpose.as_str());
    let at = from_millis(updated);
    let unsigned = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": node.did(),
        "validFrom": format_utc_seconds(at),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose.as_str(),
            "encodedList": bits.encode(),
            "ttl": TTL_MS,
        },
    });
    let signed =
        data_integrity::create_proof(&unsigned, &node.key, at).map_err(|e| Error::Internal(e.to_string()))?;
    let published = PublishedList {
        body: Arc::new(serde_json::to_string_pretty(&signed).unwrap_or_default()),
        version,
    };
    if let Ok(mut m) = node.status_cache.map.lock() {
        m.insert((n, purpose), published.clone());
    }
    Ok(published)
}
