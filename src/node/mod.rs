//! The node service: the registry of participants, the grant lifecycle, status lists, per-request
//! authorization and release, all written through the access log's group committer.
//!
//! Request path for a release (see [`release`]): authenticate the caller ([`auth`]) → load the grant
//! and verify it (cached by digest, [`GrantCache`]) → [`crate::policy::decide`] → fetch from the
//! [`data::DataSource`] → one job in the group commit that re-checks status, rate and admission under
//! the log lock, counts the use, consumes the assertion id and appends the entry → answer with the
//! data and a receipt.

pub mod alerts;
pub mod answers;
pub mod audit;
pub mod auth;
pub mod background;
pub mod bulletins;
pub mod checkpoints;
pub mod consent;
pub mod data;
pub mod display;
pub mod evaluations;
pub mod feed;
pub mod grants;
pub mod health;
pub mod identity;
pub mod intake;
pub mod keys;
pub mod letters;
pub mod loans;
pub mod metrics;
pub mod notify;
pub mod objections;
pub mod receipts;
pub mod registry;
pub mod release;
pub mod sessions;
pub mod start;
pub mod stats;
pub mod status;
pub mod tiles;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::grant::VerifiedGrant;
use crate::identity::{KeyFile, KeyResolver};
use crate::storage::Store;

/// The access log's group committer (every write of the node runs as one of its jobs).
pub use crate::storage::log_store::Committer;
/// A participant's registry row, as the node's operations and the portal see it.
pub use crate::storage::participants::{Participant, ParticipantKey};

/// Verified grants by the SHA-256 of their signed bytes. A hit skips the proof and rule checks,
/// never the time window or the status (the policy checks those on every request).
#[derive(Debug, Default)]
pub struct GrantCache {
    map: Mutex<HashMap<Sha256Digest, VerifiedGrant>>,
}

impl GrantCache {
    /// Upper bound on cached grants; the cache starts afresh when it is reached.
    pub const CAPACITY: usize = 200_000;

    /// The cached grant for these bytes, or verifies them with `verify` and caches the result.
    pub fn get_or_verify(
        &self,
        digest: Sha256Digest,
        verify: impl FnOnce() -> std::result::Result<VerifiedGrant, crate::grant::GrantError>,
    ) -> std::result::Result<VerifiedGrant, crate::grant::GrantError> {
        if let Some(g) = self.map.lock().ok().and_then(|m| m.get(&digest).cloned()) {
            return Ok(g);
        }
        let g = verify()?;
        if let Ok(mut m) = self.map.lock() {
            if m.len() >= Self::CAPACITY {
                m.clear();
            }
            m.insert(digest, g.clone());
        }
        Ok(g)
    }
}

/// Everything the node's operations share. Built once at start and passed in.
pub struct Node {
    /// The database.
    pub store: Store,
    /// The access log's group committer.
    pub committer: Committer,
    /// The catalog (letters can be published at run time).
    pub catalog: RwLock<Arc<Catalog>>,
    /// The node's signing key.
    pub key: KeyFile,
    /// The data folder (its key, and the newest checkpoint it published:
    /// [`checkpoints::PUBLISHED_FILE`]).
    pub data_dir: std::path::PathBuf,
    /// Base URL others reach the node at.
    pub public_url: String,
    /// The access log's origin (checkpoint name).
    pub origin: String,
    /// Key of the enterprise tags in the log.
    pub tag_key: [u8; 32],
    /// The log's key history and the keys this process signs checkpoints with ([`keys`]).
    pub log_keys: keys::LogKeys,
    /// did:key resolution with memory.
    pub keys: KeyResolver,
    /// Verified grants by digest.
    pub grants: GrantCache,
    /// Assertion ids seen by this process.
    pub jti: auth::JtiGuard,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// The data behind releases.
    pub data: Arc<dyn data::DataSource>,
    /// Signed status-list credentials by (list, purpose, version).
    pub status_cache: status::StatusCache,
    /// The witnesses whose cosignatures the checkpoints collect (empty: none).
    pub witnesses: crate::witness::client::Witnesses,
    /// The working-day calendar (objection deadlines).
    pub calendar: crate::calendar::SharedCalendar,
    /// The industry table the operator supplied (GB/T 4754, `crate::industry`); `None`: no
    /// enterprise is classified by industry.
    pub industries: Option<Arc<crate::industry::Industries>>,
    /// Webhook settings, this process's delivery lease identity and subscriptions (spec/notifications.md).
    pub notify: notify::Notifier,
    /// What readiness keeps between probes ([`health`]).
    pub health: health::Health,
    /// Who vouches for keys this service's own registry does not hold: unset at the node; at a
    /// platform, the node ([`Self::authenticate`] asks it; spec/access-log.md §1.1).
    pub foreign_callers: std::sync::OnceLock<Arc<dyn ForeignCallers>>,
    /// The process's metrics ([`crate::metrics`]; served by `GET /metrics`, [`metrics`]).
    pub metrics: Arc<crate::metrics::Metrics>,
}

/// The participant and key another registry holds for a did:key, as [`ForeignCallers`] answers.
pub type ForeignCaller = (Participant, ParticipantKey);

/// A registry beyond this service's own database that may know a caller's key: a platform asks the
/// node who holds a key its database does not know. An implementation answers `Ok(None)` for a key
/// it does not vouch for (unknown there, or a role this service does not admit from it), an error
/// for a holder it must refuse (not active, key not current) or when it cannot be asked; it never
/// takes a role or a code from the caller itself.
pub trait ForeignCallers: Send + Sync {
    /// The holder of `did`, as the other registry says now (or as it said within its cache time).
    fn resolve(
        &self,
        did: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Option<ForeignCaller>>> + Send + '_>>;
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("did", &self.key.did.as_str())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// Checks an industry code given with a registration, an import line or a subscription
    /// against the node's table: `400 invalid-industry` when the code is not in it, or when the
    /// node has no table (`crate::industry`: the official table is not shipped).
    pub fn classify_industry(&self, code: &str) -> Result<crate::industry::Industry> {
        let table = self.industries.as_deref().ok_or_else(|| {
            Error::invalid(
                "invalid-industry",
                format!(
                    "industry {code:?}: this node has no industry table (GB/T 4754); its operator \
                     supplies one with --industries FILE (spec/industries.md)"
                ),
            )
        })?;
        table
            .classify(code)
            .map_err(|m| Error::invalid("invalid-industry", m))
    }

    /// The node's DID (the audience of client assertions, the issuer of what it signs).
    pub fn did(&self) -> &str {
        self.key.did.as_str()
    }

    /// Who assertions and signed requests to this service may be addressed to: its DID, and the
    /// DIDs of its earlier keys that no emergency rotation cut ([`auth::ServiceAudience`]).
    pub fn audience(&self) -> auth::ServiceAudience<'_> {
        auth::ServiceAudience {
            current: self.did(),
            ring: self.log_keys.ring(),
        }
    }

    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .map(|c| Arc::clone(&c))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Now, in milliseconds.
    pub fn now_ms(&self) -> i64 {
        crate::storage::millis(self.clock.now())
    }

    /// Verifies a signed request (compact JWS) for `action`, addressed to this service
    /// ([`Node::audience`]) and issued within the last 10 minutes, by this node's clock and key
    /// memory ([`auth::verify_request`]).
    pub fn verify_request(&self, token: &str, action: &str) -> Result<auth::SignedRequest> {
        auth::verify_request(token, action, &self.audience(), self.clock.now(), &self.keys)
    }

    /// Verifies an assertion for this request and finds its participant (whatever its state; each
    /// operation decides which states it serves). Replays within this process are refused here; the
    /// durable check is [`crate::storage::log_store::Tx::consume_assertion`] in the operation's own
    /// transaction.
    pub async fn authenticate(&self, token: &str, method: &str, path: &str) -> Result<Caller> {
        let now = self.clock.now();
        let a = auth::verify(token, method, path, &self.audience(), now, &self.keys)?;
        if !self
            .jti
            .first_use(&a.jti, a.expires_ms, crate::storage::millis(now))
        {
            return Err(Error::Unauthenticated(format!(
                "assertion id {} was already used",
                a.jti
            )));
        }
        let did = a.signer.as_str().to_owned();
        let now_ms = crate::storage::millis(now);
        let found = {
            let did = did.clone();
            self.store
                .quick(move |c| crate::storage::participants::find_by_did(c, &did))
                .await?
        };
        let found = match (found, self.foreign_callers.get()) {
            (Some(f), _) => Some(f),
            (None, Some(foreign)) => foreign.resolve(did).await?,
            (None, None) => None,
        };
        let (participant, key) =
            found.ok_or_else(|| Error::Unauthenticated(format!("{} is not a registered key", a.signer)))?;
        if key.valid_from > now_ms || key.valid_until.is_some_and(|u| u <= now_ms) {
            return Err(Error::Unauthenticated(format!(
                "{} is not the participant's current key",
                a.signer
            )));
        }
        let role = participant.role;
        Ok(Caller {
            participant,
            role,
            assertion: a,
        })
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Its registry row.
    pub participant: Participant,
    /// Its role.
    pub role: crate::policy::Role,
    /// The assertion it presented (its id is consumed by the operation's transaction).
    pub assertion: auth::Assertion,
}

impl Caller {
    /// Whether the caller is admitted now.
    pub fn active(&self) -> bool {
        self.participant.state == crate::policy::ParticipantState::Active
    }

    /// The durable half of "never accepted twice" for operations that write nothing else: records the
    /// assertion id in the next group commit (any other process sharing the database will refuse it).
    pub async fn consume(&self, node: &Node) -> Result<()> {
        let a = self.assertion.clone();
        node.committer.run(move |tx| tx.consume_assertion(&a)).await
    }

    /// Refuses unless the caller has one of `roles` and is active.
    pub fn require(&self, roles: &[crate::policy::Role]) -> Result<()> {
        if !roles.contains(&self.role) {
            return Err(Error::Forbidden(format!(
                "a {} may not do this (needs {})",
                self.role.as_str(),
                roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
            )));
        }
        if !self.active() {
            return Err(Error::Forbidden(format!(
                "{} is {}",
                self.participant.uscc, self.participant.state
            )));
        }
        Ok(())
    }

    /// The caller's USCC.
    pub fn uscc(&self) -> &str {
        &self.participant.uscc
    }
}
