//! The witness proper: C2SP tlog-witness `add-checkpoint` over the logs it is configured with, and its
//! HTTP routes.
//!
//! For a request, in the order of the spec (tlog-witness §"add-checkpoint"):
//!
//! | check                                                                 | answer            |
//! |-----------------------------------------------------------------------|-------------------|
//! | body is not `old N`, ≤ 63 proof lines, empty line, signed note        | 400               |
//! | origin (first line of the checkpoint) is not configured               | 404               |
//! | no signature verifies under the origin's trusted keys (or one fails)  | 403               |
//! | checkpoint text is not a checkpoint                                   | 400               |
//! | `old` > checkpoint size                                               | 400               |
//! | `old` ≠ size of the latest checkpoint cosigned for this origin (or 0) | 409 `<size>\n`    |
//! | size 0 with a root other than `SHA-256("")`                           | 422               |
//! | consistency proof from the cosigned checkpoint does not verify        | 422               |
//! | same size as the cosigned checkpoint, different root                  | 422               |
//! | otherwise: record durably, then answer                                | 200 cosignature   |
//!
//! The last three are [`crate::log::merkle::verify_consistency`] with its size-0 semantics. The check
//! against the latest cosigned checkpoint and the durable write of the new one happen under one
//! per-origin lock ([`Witness::add_checkpoint`]), so two concurrent requests can never roll the
//! record back (the race the spec spells out). The older revision of the spec answered the
//! same-size fork with 409; this witness follows the current text (422), since a 409 asks the client
//! to retry with another `old` and there is nothing to retry.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use super::config_error;
use super::protocol::{AddCheckpoint, MAX_REQUEST_BYTES, SIZE_CONTENT_TYPE};
use super::state::{Cosigned, Identity, StateDir};
use crate::clock::Clock;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::identity::KeyFile;
use crate::log::checkpoint::{Checkpoint, CheckpointError, Cosigner};
use crate::log::keys::KeyHistory;
use crate::log::merkle::{EMPTY_ROOT, verify_consistency};
use crate::log::note::{Note, Signature, SignatureType, VerifierKey, is_valid_key_name};

/// File name of the witness's Ed25519 key in its data folder.
pub const WITNESS_KEY_FILE: &str = "witness.key.json";

/// What a witness is started with.
#[derive(Debug, Clone)]
pub struct WitnessConfig {
    /// Folder of the key, the identity file and the per-log records.
    pub data_dir: PathBuf,
    /// The witness's name; `None` keeps the recorded one (or, on first start, derives
    /// `consentry-witness/<8 hex digits of SHA-256(public key)>`).
    pub name: Option<String>,
    /// The logs it witnesses: origin and a trusted Ed25519 note key (repeat an origin for several
    /// keys, e.g. during a rotation).
    pub logs: Vec<(String, VerifierKey)>,
}

/// Parses a `--log ORIGIN=VKEY` value: the origin up to the first `=`, then the log's Ed25519 (type
/// `0x01`) vkey.
pub fn parse_log_arg(arg: &str) -> Result<(String, VerifierKey)> {
    let (origin, vkey) = arg
        .split_once('=')
        .ok_or_else(|| config_error(format!("--log {arg:?}: expected ORIGIN=VKEY")))?;
    if origin.is_empty() {
        return Err(config_error(format!("--log {arg:?}: empty origin")));
    }
    let key = VerifierKey::parse(vkey).map_err(|e| config_error(format!("--log {origin}: vkey: {e}")))?;
    if key.sig_type() != SignatureType::Ed25519 {
        return Err(config_error(format!(
            "--log {origin}: a log key must be an Ed25519 note key (type 0x01)"
        )));
    }
    Ok((origin.to_owned(), key))
}

/// The outcome of one `add-checkpoint` request, one variant per status of the spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// 200: the cosignature(s), to be appended to the checkpoint.
    Cosigned(Vec<Signature>),
    /// 400: malformed request, or `old` above the checkpoint size.
    BadRequest(String),
    /// 403: no signature by a trusted key of the origin verifies.
    Forbidden(String),
    /// 404: the origin is not one this witness witnesses.
    UnknownOrigin(String),
    /// 409: `old` is not the size the witness last cosigned; carries that size.
    Conflict(u64),
    /// 422: not consistent with what the witness cosigned before.
    Inconsistent(String),
    /// 500: the new state could not be recorded; nothing was cosigned.
    Failed(String),
    /// 200 to `POST /log-keys`: the key history verified and is recorded; how many records.
    KeysRecorded(usize),
}

impl Outcome {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Cosigned(_) | Self::KeysRecorded(_) => 200,
            Self::BadRequest(_) => 400,
            Self::Forbidden(_) => 403,
            Self::UnknownOrigin(_) => 404,
            Self::Conflict(_) => 409,
            Self::Inconsistent(_) => 422,
            Self::Failed(_) => 500,
        }
    }

    /// The HTTP response: signature lines (`text/plain`), `<size>\n` (`text/x.tlog.size`), or a
    /// one-line reason (`text/plain`).
    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let text = |body: String| {
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(body)
        };
        match self {
            Self::Cosigned(sigs) => text(sigs.iter().map(Signature::to_line).collect()),
            Self::KeysRecorded(n) => text(format!("{n}\n")),
            Self::Conflict(size) => HttpResponse::build(status)
                .content_type(SIZE_CONTENT_TYPE)
                .body(format!("{size}\n")),
            Self::BadRequest(m)
            | Self::Forbidden(m)
            | Self::UnknownOrigin(m)
            | Self::Inconsistent(m)
            | Self::Failed(m) => text(format!("{m}\n")),
        }
    }
}

struct LogSlot {
    keys: Vec<VerifierKey>,
    /// The log's key history, verified from one of `keys` (spec/access-log.md §5.5), once the log
    /// sent it.
    history: Mutex<Option<KeyHistory>>,
    latest: Mutex<Option<Cosigned>>,
}

impl LogSlot {
    /// Verifies `records` from one of the pinned keys.
    fn verify_history(&self, origin: &str, records: &[String]) -> std::result::Result<KeyHistory, String> {
        let mut first_error = None;
        for k in &self.keys {
            match KeyHistory::verify(origin, k, records) {
                Ok(h) => return Ok(h),
                Err(e) => {
                    first_error.get_or_insert(e.to_string());
                }
            }
        }
        Err(first_error.unwrap_or_else(|| "no key is configured".into()))
    }

    fn history(&self) -> Option<KeyHistory> {
        self.history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl LogSlot {
    fn lock(&self) -> MutexGuard<'_, Option<Cosigned>> {
        // A panic while holding the lock happens before the in-memory record is replaced (the write
        // to disk comes first), so the value behind a poisoned lock is still the durable one.
        self.latest
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A witness: its cosigning key, the logs it trusts, and their latest cosigned checkpoints.
pub struct Witness {
    cosigner: Cosigner,
    state: StateDir,
    logs: BTreeMap<String, LogSlot>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Witness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Witness")
            .field("vkey", &self.vkey().to_vkey())
            .field("logs", &self.logs.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Witness {
    /// Opens the witness in `config.data_dir`: loads or creates its key (`witness.key.json`, mode
    /// 0600) and its name, and reads the latest cosigned checkpoint of every configured log. The
    /// flag in the result says whether the key was created now. Refuses a `name` other than the
    /// recorded one (it would change the vkey every node is configured with) and an unreadable
    /// record (starting afresh would let a log roll back what the witness cosigned).
    pub fn open(config: &WitnessConfig, clock: Arc<dyn Clock>) -> Result<(Self, bool)> {
        let state = StateDir::open(&config.data_dir)?;
        let (key, created) = KeyFile::load_or_create(&config.data_dir, WITNESS_KEY_FILE)
            .map_err(|e| Error::Internal(e.to_string()))?;
        let name = match (state.identity()?, &config.name) {
            (Some(id), Some(n)) if &id.name != n => {
                return Err(Error::Conflict(format!(
                    "this witness is named {:?} (in {}); a new name would change its vkey, so start it \
                     without --name or with that name",
                    id.name,
                    config.data_dir.join("witness.json").display()
                )));
            }
            (Some(id), _) => id.name,
            (None, given) => {
                let name = given.clone().unwrap_or_else(|| {
                    let digest = Sha256Digest::of(&key.secret.public_key().to_bytes()).0;
                    format!("consentry-witness/{}", hex::encode(&digest[..4]))
                });
                if !is_valid_key_name(&name) {
                    return Err(config_error(format!(
                        "witness name {name:?}: no spaces or '+', not empty"
                    )));
                }
                state.set_identity(&Identity { name: name.clone() })?;
                name
            }
        };
        let cosigner = Cosigner::new(name, key.secret.clone()).map_err(|e| Error::Internal(e.to_string()))?;
        let mut logs: BTreeMap<String, LogSlot> = BTreeMap::new();
        for (origin, key) in &config.logs {
            if let Some(slot) = logs.get_mut(origin) {
                if !slot.keys.contains(key) {
                    slot.keys.push(key.clone());
                }
                continue;
            }
            let latest = state.load(origin)?;
            logs.insert(
                origin.clone(),
                LogSlot {
                    keys: vec![key.clone()],
                    history: Mutex::new(None),
                    latest: Mutex::new(latest),
                },
            );
        }
        for (origin, slot) in &logs {
            let records = state.load_keys(origin)?;
            if !records.is_empty() {
                let h = slot.verify_history(origin, &records).map_err(|e| {
                    config_error(format!(
                        "{}: the recorded key history of {origin} does not verify from the \
                         configured keys: {e}",
                        state.keys_path(origin).display()
                    ))
                })?;
                *slot
                    .history
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(h);
            }
        }
        Ok((
            Self {
                cosigner,
                state,
                logs,
                clock,
            },
            created,
        ))
    }

    /// The witness's cosigner key (type `0x04`, `cosignature/v1`): what nodes and verifiers configure.
    pub fn vkey(&self) -> VerifierKey {
        self.cosigner.verifier_key()
    }

    /// The witness's name.
    pub fn name(&self) -> &str {
        self.cosigner.name()
    }

    /// The origins it witnesses.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.logs.keys().map(String::as_str)
    }

    /// The latest cosigned size of `origin` (0 if none), `None` for an unknown origin.
    pub fn cosigned_size(&self, origin: &str) -> Option<u64> {
        self.logs
            .get(origin)
            .map(|s| s.lock().as_ref().map_or(0, |c| c.size))
    }

    /// Handles one `add-checkpoint` request body (tlog-witness §"add-checkpoint"). Blocking: the new
    /// record is on disk before this returns [`Outcome::Cosigned`].
    pub fn add_checkpoint(&self, body: &[u8]) -> Outcome {
        let req = match AddCheckpoint::parse(body) {
            Ok(r) => r,
            Err(e) => return Outcome::BadRequest(e.to_string()),
        };
        let note = match Note::parse(&req.checkpoint) {
            Ok(n) => n,
            Err(e) => return Outcome::BadRequest(format!("checkpoint: {e}")),
        };
        let origin = note.text().split('\n').next().unwrap_or_default().to_owned();
        let Some(slot) = self.logs.get(&origin) else {
            return Outcome::UnknownOrigin(format!("this witness does not witness {origin:?}"));
        };
        match slot.history() {
            // With the log's key history, a key valid at the checkpoint's size must have signed it.
            Some(h) => {
                if let Err(e) = h.verify_checkpoint(&req.checkpoint, &[], 0, self.clock.now()) {
                    return Outcome::Forbidden(format!("checkpoint of {origin}: {e}"));
                }
            }
            None => {
                if let Err(e) = note.clone().verify(&slot.keys) {
                    return Outcome::Forbidden(format!("checkpoint of {origin}: {e}"));
                }
            }
        }
        // `None`: size 0 with a root other than SHA-256(""), refused with 422 once the sizes match.
        let head = match Checkpoint::parse_body(note.text()) {
            Ok(cp) => Some((cp.size(), *cp.root())),
            Err(CheckpointError::EmptyTreeRoot) => None,
            Err(e) => return Outcome::BadRequest(format!("checkpoint: {e}")),
        };
        let size = head.map_or(0, |(s, _)| s);
        if req.old > size {
            return Outcome::BadRequest(format!(
                "old size {} is above the checkpoint size {size}",
                req.old
            ));
        }

        let mut latest = slot.lock();
        let (cur_size, cur_root) = latest.as_ref().map_or((0, EMPTY_ROOT), |c| (c.size, c.root));
        if req.old != cur_size {
            return Outcome::Conflict(cur_size);
        }
        let Some((size, root)) = head else {
            return Outcome::Inconsistent("a checkpoint of size 0 must have the root SHA-256(\"\")".into());
        };
        if let Err(e) = verify_consistency(cur_size, size, &cur_root, &root, &req.proof) {
            tracing::warn!(origin = %origin, old = cur_size, size, error = %e, "refused an inconsistent checkpoint");
            return Outcome::Inconsistent(format!(
                "not consistent with the checkpoint of size {cur_size} this witness cosigned: {e}"
            ));
        }
        let now = u64::try_from(self.clock.now().unix_timestamp()).unwrap_or(0);
        let sig = match self.cosigner.cosign_text(note.text(), now) {
            Ok(s) => s,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        let mut cosigned = note;
        let record = match cosigned
            .set_signature(sig.clone())
            .and_then(|()| cosigned.to_text())
        {
            Ok(text) => Cosigned {
                size,
                root,
                note: text,
                cosigned_at: now,
            },
            Err(e) => return Outcome::BadRequest(format!("checkpoint: {e}")),
        };
        if let Err(e) = self.state.store(&origin, &record) {
            tracing::error!(origin = %origin, error = %e, "cannot record the cosigned checkpoint");
            return Outcome::Failed(
                "the witness could not record the checkpoint; nothing was cosigned".into(),
            );
        }
        *latest = Some(record);
        drop(latest);
        tracing::info!(origin = %origin, old = cur_size, size, "cosigned");
        Outcome::Cosigned(vec![sig])
    }

    /// Handles `POST /log-keys` (spec/witness.md §3): a log's key history, as `GET /v1/log/keys`
    /// answers it (`origin`, `records[].note`). It must verify from a configured key of the origin
    /// and extend the history recorded before (403 otherwise; 404 for an unknown origin); it is
    /// recorded durably before the answer.
    pub fn add_key_records(&self, body: &[u8]) -> Outcome {
        #[derive(serde::Deserialize)]
        struct Rec {
            note: String,
        }
        #[derive(serde::Deserialize)]
        struct Body {
            origin: String,
            records: Vec<Rec>,
        }
        let body: Body = match serde_json::from_slice(body) {
            Ok(b) => b,
            Err(e) => return Outcome::BadRequest(format!("not a key history: {e}")),
        };
        let Some(slot) = self.logs.get(&body.origin) else {
            return Outcome::UnknownOrigin(format!("this witness does not witness {:?}", body.origin));
        };
        let records: Vec<String> = body.records.into_iter().map(|r| r.note).collect();
        let history = match slot.verify_history(&body.origin, &records) {
            Ok(h) => h,
            Err(e) => return Outcome::Forbidden(format!("key history of {}: {e}", body.origin)),
        };
        let mut held = slot
            .history
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(old) = held.as_ref() {
            let known: Vec<&String> = old.records().iter().map(|(_, t)| t).collect();
            if known.len() > records.len() || known.iter().zip(&records).any(|(a, b)| *a != b) {
                return Outcome::Forbidden(format!(
                    "key history of {}: it does not extend the {} records this witness holds",
                    body.origin,
                    known.len()
                ));
            }
        }
        if let Err(e) = self.state.store_keys(&body.origin, &records) {
            tracing::error!(origin = %body.origin, error = %e, "cannot record the key history");
            return Outcome::Failed("the witness could not record the key history".into());
        }
        tracing::info!(origin = %body.origin, records = records.len(), current = %history.current(), "key history recorded");
        *held = Some(history);
        Outcome::KeysRecorded(records.len())
    }

    /// What `GET /` answers: name, vkey and the latest cosigned checkpoint of every log.
    pub fn info(&self) -> serde_json::Value {
        let logs: Vec<_> = self
            .logs
            .iter()
            .map(|(origin, slot)| {
                let latest = slot.lock();
                json!({
                    "origin": origin,
                    "logKeys": slot.keys.iter().map(VerifierKey::to_vkey).collect::<Vec<_>>(),
                    "keyHistory": slot.history().map(|h| h.records().len()),
                    "size": latest.as_ref().map_or(0, |c| c.size),
                    "root": STANDARD.encode(latest.as_ref().map_or(EMPTY_ROOT, |c| c.root)),
                    "cosignedAt": latest.as_ref().map(|c| c.cosigned_at),
                })
            })
            .collect();
        json!({
            "status": "ok",
            "name": self.name(),
            "vkey": self.vkey().to_vkey(),
            "logs": logs,
        })
    }
}

/// The witness's routes: `POST /add-checkpoint`, `GET /` and `GET /healthz`. Needs a
/// `web::Data<Witness>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_REQUEST_BYTES))
        .route(
            super::protocol::ADD_CHECKPOINT_PATH,
            web::post().to(add_checkpoint),
        )
        .route(super::protocol::LOG_KEYS_PATH, web::post().to(add_key_records))
        .route("/", web::get().to(info))
        .route("/healthz", web::get().to(info))
        .default_service(web::to(|| async {
            HttpResponse::NotFound()
                .content_type("text/plain; charset=utf-8")
                .body("no such endpoint\n")
        }));
}

async fn add_checkpoint(w: web::Data<Witness>, body: web::Bytes) -> HttpResponse {
    let w = w.into_inner();
    match web::block(move || w.add_checkpoint(&body)).await {
        Ok(outcome) => outcome.into_response(),
        Err(e) => Outcome::Failed(e.to_string()).into_response(),
    }
}

async fn add_key_records(w: web::Data<Witness>, body: web::Bytes) -> HttpResponse {
    let w = w.into_inner();
    match web::block(move || w.add_key_records(&body)).await {
        Ok(outcome) => outcome.into_response(),
        Err(e) => Outcome::Failed(e.to_string()).into_response(),
    }
}

async fn info(w: web::Data<Witness>) -> HttpResponse {
    let w = w.into_inner();
    match web::block(move || w.info()).await {
        Ok(v) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(v),
        Err(e) => Outcome::Failed(e.to_string()).into_response(),
    }
}
