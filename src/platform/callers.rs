//! Callers the node registered, at the platform (spec/access-log.md §1.1): regulators, enterprises
//! and the node's operator are registered at the node only, yet query the platform's log. When an
//! assertion at the platform is signed by a key the platform's database does not hold,
//! [`crate::node::Node::authenticate`] asks [`NodeCallers`], which asks the node
//! (`GET /v1/participants/by-did/{did}`, answered to platforms only) and keeps the answer for
//! [`CACHE_SECS`]. The caller is admitted with the node's role only when the node says it is an
//! active regulator, enterprise or node operator whose key is current; nothing the caller sends
//! decides its role or code. The assertion itself is checked as for every caller (audience: the
//! platform's DID; single use, in the platform's own `seen_jti`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::client::NodeClient;
use crate::error::{Error, Result};
use crate::node::{ForeignCaller, ForeignCallers, Participant, ParticipantKey};
use crate::policy::{ParticipantState, Role};

/// How long the node's answer about a key is kept (seconds): a participant the node suspends, or a
/// key it rotates out, is refused at the platform at most this long after.
pub const CACHE_SECS: u64 = 60;

/// Keys remembered at most. Past it, expired answers go first, then answers about keys the node does
/// not know (which are then no longer kept); only a cache full of known callers starts afresh.
const CAPACITY: usize = 10_000;

/// The node's answer about one key, as [`NodeCallers`] keeps it.
#[derive(Debug, Clone)]
enum Verdict {
    /// The node vouches for the caller.
    Admit(ForeignCaller),
    /// The node does not know the key, or knows it for a role the platform does not take from it.
    Unknown,
    /// The node knows the holder, whose key is not current there (the message says so).
    Stale(String),
    /// The node knows the holder, who is not active there (the message says so).
    Refuse(String),
}

/// Resolves callers' keys at the node, with a short cache.
pub struct NodeCallers {
    node: NodeClient,
    ttl_ms: AtomicU64,
    cache: Mutex<HashMap<String, (Instant, Verdict)>>,
}

impl std::fmt::Debug for NodeCallers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeCallers")
            .field("ttl_ms", &self.ttl_ms.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// `KeyHolder` as the node answers it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Holder {
    uscc: String,
    role: String,
    state: String,
    current: bool,
}

impl NodeCallers {
    /// A resolver asking `node`, keeping answers for `ttl`.
    pub fn new(node: NodeClient, ttl: Duration) -> Self {
        Self {
            node,
            ttl_ms: AtomicU64::new(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Changes how long answers are kept from now on (answers already kept are judged by the new
    /// time); [`CACHE_SECS`] unless changed. For operators who need a shorter delay, and for tests.
    pub fn set_ttl(&self, ttl: Duration) {
        self.ttl_ms.store(
            u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    fn ttl(&self) -> Duration {
        Duration::from_millis(self.ttl_ms.load(Ordering::Relaxed))
    }

    fn cached(&self, did: &str) -> Option<Verdict> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(did)
            .filter(|(at, _)| at.elapsed() < self.ttl())
            .map(|(_, v)| v.clone())
    }

    fn remember(&self, did: String, v: Verdict) {
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CAPACITY {
                let ttl = self.ttl();
                cache.retain(|_, (at, _)| at.elapsed() < ttl);
            }
            if cache.len() >= CAPACITY {
                // A flood of made-up keys does not push out the answers about known callers.
                if matches!(v, Verdict::Unknown) {
                    return;
                }
                cache.retain(|_, (_, kept)| !matches!(kept, Verdict::Unknown));
                if cache.len() >= CAPACITY {
                    cache.clear();
                }
            }
            cache.insert(did, (Instant::now(), v));
        }
    }

    /// Asks the node (blocking).
    fn ask(node: &NodeClient, did: &str) -> Result<Verdict> {
        let (status, text) = node.get(&format!("/v1/participants/by-did/{did}"))?;
        match status {
            200 => {}
            404 => return Ok(Verdict::Unknown),
            s => {
                return Err(Error::Upstream(format!(
                    "the node answered {s} when asked who holds the caller's key"
                )));
            }
        }
        let h: Holder = serde_json::from_str(&text)
            .map_err(|e| Error::Upstream(format!("the node's answer about the caller's key: {e}")))?;
        let (Some(role), Some(state)) = (Role::parse(&h.role), ParticipantState::parse(&h.state)) else {
            return Err(Error::Upstream(format!(
                "the node named an unknown role {:?} or state {:?}",
                h.role, h.state
            )));
        };
        if !matches!(role, Role::Regulator | Role::Enterprise | Role::Node) {
            // Banks and platforms this platform serves are in its own registry.
            return Ok(Verdict::Unknown);
        }
        if !h.current {
            return Ok(Verdict::Stale(format!(
                "{did} is not the participant's current key at the node"
            )));
        }
        if state != ParticipantState::Active {
            return Ok(Verdict::Refuse(format!("{} is {state} at the node", h.uscc)));
        }
        let participant = Participant {
            // Not a row of this platform's registry.
            id: 0,
            uscc: h.uscc,
            role,
            name: String::new(),
            state,
            platform_uscc: None,
            endpoint: None,
            evidence: None,
            created_at: 0,
            updated_at: 0,
        };
        let key = ParticipantKey {
            id: 0,
            participant_id: 0,
            did: did.to_owned(),
            valid_from: 0,
            valid_until: None,
        };
        Ok(Verdict::Admit((participant, key)))
    }
}

impl ForeignCallers for NodeCallers {
    fn resolve(
        &self,
        did: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<ForeignCaller>>> + Send + '_>> {
        Box::pin(async move {
            let verdict = match self.cached(&did) {
                Some(v) => v,
                None => {
                    let (node, asked) = (self.node.clone(), did.clone());
                    let v = actix_web::rt::task::spawn_blocking(move || Self::ask(&node, &asked))
                        .await
                        .map_err(|e| Error::Internal(e.to_string()))??;
                    self.remember(did, v.clone());
                    v
                }
            };
            match verdict {
                Verdict::Admit(c) => Ok(Some(c)),
                Verdict::Unknown => Ok(None),
                Verdict::Stale(why) => Err(Error::Unauthenticated(why)),
                Verdict::Refuse(why) => Err(Error::Forbidden(why)),
            }
        })
    }
}
