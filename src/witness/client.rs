//! The log's side of tlog-witness: the witnesses a node collects cosignatures from.
//!
//! Each configured entry is `URL` or `URL#VKEY`: the witness's submission prefix (the node POSTs to
//! `URL/add-checkpoint`) and, after `#`, its cosigner vkey (type `0x04`). A URL fragment is never sent
//! to the server, so the entry stays a plain URL. With the vkey pinned, the node accepts only
//! cosignatures by that key (tlog-witness: "The client MUST ignore any cosignatures from unknown
//! keys"); without it, the node asks a consentry witness for its vkey once (`GET URL/`, trust on first
//! use) and pins what it got for the life of the process.
//!
//! Per witness the client keeps the size it last saw the witness cosign (`old` of the next request),
//! learns the right one from a `409` and retries once, and backs off after a failure (2, 4, … up to
//! 300 seconds) so that a witness that is down costs one failed connection now and then, never a
//! checkpoint.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::config_error;
use super::protocol::{
    ADD_CHECKPOINT_PATH, AddCheckpoint, LOG_KEYS_PATH, parse_cosignature_lines, parse_size_body,
};
use crate::error::Result;
use crate::log::checkpoint::verify_cosignatures;
use crate::log::merkle::Hash;
use crate::log::note::{Note, Signature, SignatureType, VerifierKey};

/// Longest wait between attempts at a failing witness.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What one `add-checkpoint` call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// 200 with these signature lines.
    Cosigned(Vec<Signature>),
    /// 409: the witness's latest cosigned size.
    Conflict(u64),
    /// Any other status, with the body's text.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The witness's reason.
        reason: String,
    },
}

/// Why no cosignature was collected from a witness this time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CollectError {
    /// Unreachable, timed out, or an unreadable answer.
    #[error("witness {url}: {message}")]
    Transport {
        /// The witness.
        url: String,
        /// What failed.
        message: String,
    },
    /// The witness refused the checkpoint. A `422` means it holds a checkpoint this log's history is
    /// not consistent with: a fork, to be investigated.
    #[error("witness {url} refused the checkpoint of size {size} ({status}): {reason}")]
    Refused {
        /// The witness.
        url: String,
        /// The checkpoint's size.
        size: u64,
        /// The HTTP status.
        status: u16,
        /// The witness's reason.
        reason: String,
    },
    /// The consistency proof could not be computed.
    #[error("witness {url}: no consistency proof from {old} to {size}: {message}")]
    Proof {
        /// The witness.
        url: String,
        /// The witness's size.
        old: u64,
        /// The checkpoint's size.
        size: u64,
        /// What failed.
        message: String,
    },
}

#[derive(Debug, Default)]
struct ClientState {
    key: Option<VerifierKey>,
    size: u64,
    failures: u32,
    retry_at: Option<Instant>,
}

/// One witness as the node sees it.
#[derive(Debug)]
pub struct WitnessClient {
    url: String,
    pinned: Option<VerifierKey>,
    state: Mutex<ClientState>,
}

/// The witnesses a node is configured with, and the HTTP agent to reach them.
pub struct Witnesses {
    list: Vec<Arc<WitnessClient>>,
    agent: ureq::Agent,
}

impl std::fmt::Debug for Witnesses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list.iter().map(|w| &w.url)).finish()
    }
}

impl Default for Witnesses {
    fn default() -> Self {
        Self {
            list: Vec::new(),
            agent: agent(),
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(3))
        .timeout(Duration::from_secs(10))
        .build()
}

impl Witnesses {
    /// Reads the configured entries (`URL` or `URL#VKEY`, see the module documentation).
    pub fn from_config(entries: &[String]) -> Result<Self> {
        let mut list = Vec::with_capacity(entries.len());
        for entry in entries {
            let (url, vkey) = match entry.split_once('#') {
                Some((u, k)) => (u, Some(k)),
                None => (entry.as_str(), None),
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(config_error(format!(
                    "witness {entry:?}: expected an http(s) URL, optionally followed by #VKEY"
                )));
            }
            let pinned = vkey
                .map(|k| {
                    let key = VerifierKey::parse(k)
                        .map_err(|e| config_error(format!("witness {url}: vkey: {e}")))?;
                    if key.sig_type() != SignatureType::CosignatureV1 {
                        return Err(config_error(format!(
                            "witness {url}: a witness key is a cosignature/v1 key (type 0x04)"
                        )));
                    }
                    Ok(key)
                })
                .transpose()?;
            list.push(Arc::new(WitnessClient {
                url: url.trim_end_matches('/').to_owned(),
                state: Mutex::new(ClientState {
                    key: pinned.clone(),
                    ..ClientState::default()
                }),
                pinned,
            }));
        }
        Ok(Self { list, agent: agent() })
    }

    /// Whether no witness is configured.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The witnesses.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<WitnessClient>> {
        self.list.iter()
    }

    /// The HTTP agent (cheap to clone, shares its connection pool).
    pub fn agent(&self) -> &ureq::Agent {
        &self.agent
    }

    /// The witness keys known so far (pinned, or learned from the witnesses).
    pub fn keys(&self) -> Vec<VerifierKey> {
        self.list.iter().filter_map(|w| w.key()).collect()
    }
}

fn status_reply(
    r: std::result::Result<ureq::Response, ureq::Error>,
) -> std::result::Result<(u16, String), String> {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = resp.status();
    let body = resp.into_string().map_err(|e| e.to_string())?;
    Ok((status, body))
}

impl WitnessClient {
    /// The submission prefix.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The witness's key, if pinned or already learned.
    pub fn key(&self) -> Option<VerifierKey> {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.key.clone())
            .or_else(|| self.pinned.clone())
    }

    /// Asks a consentry witness for its vkey (`GET URL/`, field `vkey`).
    pub fn discover_key(&self, agent: &ureq::Agent) -> std::result::Result<VerifierKey, String> {
        let (status, body) = status_reply(agent.get(&format!("{}/", self.url)).call())?;
        if status != 200 {
            return Err(format!("GET / answered {status}; pin its key with URL#VKEY"));
        }
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|_| "GET / is not a consentry witness; pin its key with URL#VKEY")?;
        let key = v["vkey"]
            .as_str()
            .ok_or("GET / has no vkey; pin its key with URL#VKEY")
            .map(VerifierKey::parse)?
            .map_err(|e| format!("its vkey: {e}"))?;
        if key.sig_type() != SignatureType::CosignatureV1 {
            return Err("its vkey is not a cosignature/v1 key".into());
        }
        Ok(key)
    }

    /// One `POST URL/add-checkpoint`.
    pub fn add_checkpoint(
        &self,
        agent: &ureq::Agent,
        req: &AddCheckpoint,
    ) -> std::result::Result<Reply, String> {
        let (status, body) = status_reply(
            agent
                .post(&format!("{}{ADD_CHECKPOINT_PATH}", self.url))
                .set("Content-Type", "text/plain; charset=utf-8")
                .send_bytes(&req.to_body()),
        )?;
        match status {
            200 => parse_cosignature_lines(&body)
                .map(Reply::Cosigned)
                .map_err(|e| format!("unreadable cosignatures: {e}")),
            409 => parse_size_body(&body)
                .map(Reply::Conflict)
                .ok_or_else(|| format!("409 with an unreadable size {body:?}")),
            _ => Ok(Reply::Refused {
                status,
                reason: body.trim_end().chars().take(500).collect(),
            }),
        }
    }

    /// Sends the log's key history (`POST <url>/log-keys`, spec/witness.md §3); `Err` with the
    /// witness's reason unless it answers `200`.
    pub fn send_key_history(&self, agent: &ureq::Agent, body: &[u8]) -> std::result::Result<(), String> {
        let (status, reply) = status_reply(
            agent
                .post(&format!("{}{LOG_KEYS_PATH}", self.url))
                .set("Content-Type", "application/json")
                .send_bytes(body),
        )?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!(
                "it refused the key history ({status}): {}",
                reply.trim_end().chars().take(500).collect::<String>()
            ))
        }
    }

    /// Obtains this witness's cosignature on `note`, the log's checkpoint of size `size`, unless it
    /// is already there or the witness is in back-off. `proof(old)` gives the consistency proof from
    /// `old` to `size` in the log's own tree. Returns the verified cosignature(s) by the witness's key
    /// (empty when there is nothing to add). Blocking: network and database.
    pub fn collect(
        &self,
        agent: &ureq::Agent,
        size: u64,
        note: &Note,
        proof: impl Fn(u64) -> std::result::Result<Vec<Hash>, String>,
    ) -> std::result::Result<Vec<Signature>, CollectError> {
        self.collect_with_keys(agent, size, note, None, proof)
    }

    /// [`Self::collect`], and when the witness refuses the checkpoint's signature (`403`: it does
    /// not know the key yet) and `key_history` (the JSON of `GET /v1/log/keys`) is given, sends the
    /// log's key history (`POST /log-keys`, spec/witness.md §3) and tries once more.
    pub fn collect_with_keys(
        &self,
        agent: &ureq::Agent,
        size: u64,
        note: &Note,
        key_history: Option<&[u8]>,
        proof: impl Fn(u64) -> std::result::Result<Vec<Hash>, String>,
    ) -> std::result::Result<Vec<Signature>, CollectError> {
        // One attempt at a time per witness; a concurrent caller simply skips it this round.
        let Ok(mut st) = self.state.try_lock() else {
            return Ok(Vec::new());
        };
        let now = Instant::now();
        if st.retry_at.is_some_and(|t| t > now) {
            return Ok(Vec::new());
        }
        let result = self.collect_locked(&mut st, agent, size, note, key_history, proof);
        match &result {
            Err(_) => {
                st.failures = st.failures.saturating_add(1);
                let secs = 1u64 << st.failures.min(9);
                st.retry_at = Some(now + Duration::from_secs(secs).min(MAX_BACKOFF));
            }
            Ok(_) => {
                st.failures = 0;
                st.retry_at = None;
            }
        }
        result
    }

    fn collect_locked(
        &self,
        st: &mut ClientState,
        agent: &ureq::Agent,
        size: u64,
        note: &Note,
        mut key_history: Option<&[u8]>,
        proof: impl Fn(u64) -> std::result::Result<Vec<Hash>, String>,
    ) -> std::result::Result<Vec<Signature>, CollectError> {
        let transport = |message: String| CollectError::Transport {
            url: self.url.clone(),
            message,
        };
        let key = match &st.key {
            Some(k) => k.clone(),
            None => {
                let k = self.discover_key(agent).map_err(transport)?;
                st.key = Some(k.clone());
                k
            }
        };
        if note
            .signatures()
            .iter()
            .any(|s| s.name() == key.name() && s.key_id() == key.key_id())
        {
            return Ok(Vec::new());
        }
        let checkpoint = note.to_text().map_err(|e| transport(e.to_string()))?;
        for attempt in 0..2 {
            let old = st.size;
            if old > size {
                // The witness already cosigned a larger tree of this log (another process of the
                // node got there first): the next checkpoint will catch up.
                return Ok(Vec::new());
            }
            let path = proof(old).map_err(|message| CollectError::Proof {
                url: self.url.clone(),
                old,
                size,
                message,
            })?;
            let req = AddCheckpoint {
                old,
                proof: path,
                checkpoint: checkpoint.clone().into_bytes(),
            };
            match self.add_checkpoint(agent, &req).map_err(transport)? {
                Reply::Cosigned(lines) => {
                    st.size = size;
                    return verified_cosignatures(note, &key, lines).map_err(transport);
                }
                Reply::Conflict(theirs) => {
                    st.size = theirs;
                    if attempt == 1 || theirs > size {
                        if theirs > size {
                            return Ok(Vec::new());
                        }
                        return Err(transport(format!(
                            "409 twice (it reports size {theirs}); will try again"
                        )));
                    }
                }
                Reply::Refused { status: 403, .. } if key_history.is_some() => {
                    // The witness may not follow the key yet: send the key history, once.
                    let body = key_history.take().unwrap_or_default();
                    self.send_key_history(agent, body).map_err(transport)?;
                    return self.collect_locked(st, agent, size, note, None, proof);
                }
                Reply::Refused { status, reason } => {
                    return Err(CollectError::Refused {
                        url: self.url.clone(),
                        size,
                        status,
                        reason,
                    });
                }
            }
        }
        Ok(Vec::new())
    }
}

/// Keeps the lines by `key` (ignoring any other key, as the spec asks) and checks that they verify
/// over the checkpoint: a bad cosignature by a configured witness would make every verifier that
/// trusts it reject the whole note.
fn verified_cosignatures(
    note: &Note,
    key: &VerifierKey,
    lines: Vec<Signature>,
) -> std::result::Result<Vec<Signature>, String> {
    let mine: Vec<Signature> = lines
        .into_iter()
        .filter(|s| s.name() == key.name() && s.key_id() == key.key_id())
        .collect();
    if mine.is_empty() {
        return Err(format!("its answer holds no cosignature by {}", key.to_vkey()));
    }
    let mut check = Note::new(note.text()).map_err(|e| e.to_string())?;
    for s in &mine {
        check.set_signature(s.clone()).map_err(|e| e.to_string())?;
    }
    verify_cosignatures(&check, std::slice::from_ref(key)).map_err(|e| format!("bad cosignature: {e}"))?;
    Ok(mine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_entries() {
        let key = crate::crypto::SecretKey::from_seed(&[7; 32]);
        let vk = VerifierKey::cosignature_v1("w.example", key.public_key()).unwrap();
        let log_vk = VerifierKey::ed25519("w.example", key.public_key()).unwrap();
        let ws = Witnesses::from_config(&[
            "http://127.0.0.1:1/".into(),
            format!("https://w.example/prefix#{}", vk.to_vkey()),
        ])
        .unwrap();
        let urls: Vec<_> = ws.iter().map(|w| w.url().to_owned()).collect();
        assert_eq!(urls, ["http://127.0.0.1:1", "https://w.example/prefix"]);
        assert_eq!(ws.keys(), vec![vk]);
        assert!(Witnesses::from_config(&["ftp://x".into()]).is_err());
        assert!(Witnesses::from_config(&["http://x#nope".into()]).is_err());
        assert!(Witnesses::from_config(&[format!("http://x#{}", log_vk.to_vkey())]).is_err());
    }

    #[test]
    fn unreachable_witness_backs_off() {
        let ws = Witnesses::from_config(&["http://127.0.0.1:9".into()]).unwrap();
        let w = ws.iter().next().unwrap();
        let note = Note::new("o\n1\nAAAA\n").unwrap();
        let err = w.collect(ws.agent(), 1, &note, |_| Ok(vec![])).unwrap_err();
        assert!(matches!(err, CollectError::Transport { .. }), "{err}");
        // In back-off: nothing is attempted, nothing fails.
        assert_eq!(w.collect(ws.agent(), 1, &note, |_| Ok(vec![])), Ok(vec![]));
    }
}
