//! The platform's client for the node's API: every request carries a fresh client assertion signed
//! with the platform's key and addressed to the node's DID (fetched once from `/v1/node`).

use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::identity::KeyFile;

/// A blocking client for the node (call it from blocking threads).
#[derive(Clone)]
pub struct NodeClient {
    /// The node's base URL.
    pub base: String,
    key: KeyFile,
    node_did: Arc<OnceLock<String>>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for NodeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

fn answer(r: std::result::Result<ureq::Response, ureq::Error>) -> Result<(u16, String)> {
    match r {
        Ok(r) => {
            let s = r.status();
            Ok((s, r.into_string().map_err(|e| Error::Upstream(e.to_string()))?))
        }
        Err(ureq::Error::Status(s, r)) => Ok((s, r.into_string().unwrap_or_default())),
        Err(e) => Err(Error::Upstream(format!("the node is unreachable: {e}"))),
    }
}

impl NodeClient {
    /// A client for the node at `base`, signing with `key`.
    pub fn new(base: &str, key: KeyFile) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(30))
            .build();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            key,
            node_did: Arc::new(OnceLock::new()),
            agent,
        }
    }

    /// The node's DID (the audience of assertions), fetched once.
    pub fn node_did(&self) -> Result<String> {
        if let Some(d) = self.node_did.get() {
            return Ok(d.clone());
        }
        let (status, body) = answer(self.agent.get(&format!("{}/v1/node", self.base)).call())?;
        let v: Value = serde_json::from_str(&body).map_err(|e| Error::Upstream(e.to_string()))?;
        let did = v["did"]
            .as_str()
            .filter(|_| status == 200)
            .ok_or_else(|| Error::Upstream("the node did not say its DID".into()))?;
        crate::identity::DidKey::parse(did).map_err(|e| Error::Upstream(e.to_string()))?;
        Ok(self.node_did.get_or_init(|| did.to_owned()).clone())
    }

    fn assertion(&self, method: &str, path: &str) -> Result<String> {
        crate::node::auth::make(&self.key, &self.node_did()?, method, path, SystemClock.now())
    }

    /// An authenticated GET; returns the status and body.
    pub fn get(&self, path: &str) -> Result<(u16, String)> {
        let token = self.assertion("GET", path)?;
        answer(
            self.agent
                .get(&format!("{}{path}", self.base))
                .set("Authorization", &format!("Bearer {token}"))
                .call(),
        )
    }

    /// An authenticated JSON POST; returns the status and body.
    pub fn post(&self, path: &str, body: &Value) -> Result<(u16, String)> {
        let token = self.assertion("POST", path)?;
        answer(
            self.agent
                .post(&format!("{}{path}", self.base))
                .set("Authorization", &format!("Bearer {token}"))
                .set("Content-Type", "application/json")
                .send_string(&body.to_string()),
        )
    }

    /// An unauthenticated GET of a full URL (status lists).
    pub fn fetch(&self, url: &str) -> Result<(u16, String)> {
        answer(self.agent.get(url).call())
    }
}
