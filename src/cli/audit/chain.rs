//! `consentry audit chain`: the two-hop chain of a platform's onward releases, verified end to end
//! (spec/access-log.md §8.7). For every `onward-release` entry the platform holds about one
//! enterprise or one grant (read with a regulator's key from the platform's `GET /v1/log/entries`):
//!
//! 1. the platform's hop — the record opens its leaf's commitment, and the leaf is included in a
//!    checkpoint signed by the platform's log key (and the witness policy), through the platform's
//!    receipt ([`crate::log::tlog_proof::verify_receipt`]);
//! 2. the node's hop — the entry its `upstream` cites, read from the node's `GET /v1/log/entries`,
//!    has the cited leaf hash, its record opens its leaf, and it is included in a checkpoint signed
//!    by the node's log key, through the node's receipt;
//! 3. the two agree — the node's entry is a `release` about the same enterprise under the same grant
//!    (id and digest), naming this platform and the platform entry's bank as the recipient it
//!    released for; the platform passed on no category the node did not release; and the node's
//!    entry is not later than the platform's.
//!
//! One line per hop and a summary on stdout — or, with `--json`, one machine-readable report of the
//! same checks (every chain with its entries, checkpoints and failures); every failure names the
//! entry and the check on stderr, and the exit code is 1 (0 when everything verifies, 2 for usage,
//! I/O or network errors).

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::Args;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{agent, body, get, get_json, node_info, usage};
use crate::cli::{CliError, CliResult};
use crate::clock::{Clock, SystemClock};
use crate::identity::{DidKey, KeyFile};
use crate::log::checkpoint::CheckpointPolicy;
use crate::log::entry::{AccessRecord, EntryKind, Leaf, record_commitment};
use crate::log::merkle;
use crate::log::note::VerifierKey;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["enterprise", "grant"])))]
pub(in crate::cli) struct ChainArgs {
    /// The platform's base URL.
    #[arg(long, value_name = "URL")]
    platform: String,
    /// The node's base URL.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The regulator's key file (its assertions are addressed to the platform and to the node).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Walk the onward releases about this enterprise (USCC).
    #[arg(long, value_name = "USCC")]
    enterprise: Option<String>,
    /// Walk the onward releases under this grant (its urn:uuid id).
    #[arg(long, value_name = "ID")]
    grant: Option<String>,
    /// The platform log's note verifier key (vkey) to pin; without it the key the platform states
    /// is used, with a warning.
    #[arg(long, value_name = "VKEY")]
    platform_log_key: Option<String>,
    /// The node log's note verifier key (vkey) to pin; without it the key the node states is used,
    /// with a warning.
    #[arg(long, value_name = "VKEY")]
    node_log_key: Option<String>,
    /// A witness's cosigner vkey (type 0x04), for both logs' checkpoints. Repeat for more.
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
    /// Distinct witnesses that must have cosigned each checkpoint a receipt cites.
    #[arg(long, value_name = "N", default_value_t = 0)]
    quorum: usize,
    /// Print the report as JSON on stdout (failures are still listed on stderr, same exit code).
    #[arg(long)]
    json: bool,
}

/// One log as the chain reads it: where, who signs, and a regulator's way in.
struct LogSide<'a> {
    name: &'static str,
    base: String,
    did: String,
    policy: CheckpointPolicy,
    /// The log key used (vkey), and whether it was pinned on the command line.
    log_key: (String, bool),
    key: &'a KeyFile,
    agent: &'a ureq::Agent,
}

/// One entry read from a log's `GET /v1/log/entries`, verified to be included in a signed
/// checkpoint, with its record opened.
struct Verified {
    index: u64,
    leaf: Leaf,
    record: AccessRecord,
    leaf_hash: [u8; 32],
    checkpoint_size: u64,
}

/// A failed check: which, and the message naming the entry.
type Failure = (String, String);

fn fail(check: &str, message: String) -> Failure {
    (check.to_owned(), message)
}

impl LogSide<'_> {
    fn get_authenticated(&self, path: &str) -> Result<Value, CliError> {
        let token = crate::node::auth::make(self.key, &self.did, "GET", path, SystemClock.now())
            .map_err(|e| usage(e.to_string()))?;
        let url = format!("{}{path}", self.base);
        let r = get(self.agent, &url, Some(&token)).map_err(|(_, m)| usage(m))?;
        let bytes = body(r, &url)?;
        serde_json::from_slice(&bytes).map_err(|e| usage(format!("{url}: {e}")))
    }

    /// The receipt of `index`, waiting a few seconds for a checkpoint to cover a fresh entry.
    fn receipt(&self, index: u64) -> Result<Result<String, Failure>, CliError> {
        let url = format!("{}/v1/log/receipts/{index}", self.base);
        for attempt in 0..10 {
            match get(self.agent, &url, None) {
                Ok(r) => {
                    let bytes = body(r, &url)?;
                    return Ok(Ok(String::from_utf8_lossy(&bytes).into_owned()));
                }
                Err((404, m)) if m.contains("no checkpoint covers it yet") && attempt < 9 => {
                    std::thread::sleep(Duration::from_millis(500));
                }
                Err((404, m)) => {
                    return Ok(Err(fail(
                        "receipt",
                        format!("{} entry {index}: no receipt ({m})", self.name),
                    )));
                }
                Err((_, m)) => return Err(usage(m)),
            }
        }
        Ok(Err(fail(
            "receipt",
            format!("{} entry {index}: no receipt", self.name),
        )))
    }

    /// Verifies one entry as `GET /v1/log/entries` answered it: its leaf hash, its record against
    /// the leaf's commitment, and its inclusion in a signed checkpoint through its receipt.
    fn verify(&self, e: &Value, now: OffsetDateTime) -> Result<Result<Verified, Failure>, CliError> {
        let name = self.name;
        let Some(index) = e["index"].as_u64() else {
            return Ok(Err(fail(
                "entry",
                format!("{name}: an entry without an index: {e}"),
            )));
        };
        let at = |what: &str| format!("{name} entry {index}: {what}");
        let Some(leaf_bytes) = e["leaf"].as_str().and_then(|l| STANDARD.decode(l).ok()) else {
            return Ok(Err(fail("leaf", at("no readable leaf"))));
        };
        let leaf = match Leaf::from_bytes(&leaf_bytes) {
            Ok(l) => l,
            Err(err) => return Ok(Err(fail("leaf", at(&err.to_string())))),
        };
        if leaf.seq != index {
            return Ok(Err(fail(
                "sequence",
                at(&format!("the leaf says seq {}", leaf.seq)),
            )));
        }
        let leaf_hash = merkle::leaf_hash(&leaf_bytes);
        let salt: Option<[u8; 32]> = e["salt"]
            .as_str()
            .and_then(|s| hex::decode(s).ok())
            .and_then(|b| b.try_into().ok());
        let (Some(salt), Some(record_value)) = (salt, e.get("record").filter(|r| r.is_object())) else {
            return Ok(Err(fail("record", at("no record and salt (erased?)"))));
        };
        let opens = crate::crypto::jcs::canonicalize(record_value)
            .map(|c| record_commitment(&salt, &c) == leaf.record_commitment)
            .unwrap_or(false);
        if !opens {
            return Ok(Err(fail(
                "record",
                at(
                    "the record and its salt do not open the leaf's commitment (the record or the leaf was changed)",
                ),
            )));
        }
        let record: AccessRecord = match serde_json::from_value(record_value.clone()) {
            Ok(r) => r,
            Err(err) => return Ok(Err(fail("record", at(&format!("unreadable record: {err}"))))),
        };
        let receipt = match self.receipt(index)? {
            Ok(r) => r,
            Err(f) => return Ok(Err(f)),
        };
        let verified = crate::log::tlog_proof::verify_receipt(
            receipt.as_bytes(),
            &leaf_hash,
            &self.policy,
            now,
            merkle::verify_inclusion,
        );
        let checkpoint_size = match verified {
            Ok(v) if v.index() == index => v.checkpoint().checkpoint().size(),
            Ok(v) => {
                return Ok(Err(fail(
                    "inclusion",
                    at(&format!("the receipt is for entry {}", v.index())),
                )));
            }
            Err(err) => {
                return Ok(Err(fail(
                    "inclusion",
                    at(&format!(
                        "not included in a checkpoint signed by the {name}'s log key: {err}"
                    )),
                )));
            }
        };
        Ok(Ok(Verified {
            index,
            leaf,
            record,
            leaf_hash,
            checkpoint_size,
        }))
    }
}

/// The log key to verify `side`'s checkpoints with: the pinned one, or (with a warning) the one
/// its DID states — the service's key is its log key, named by its origin.
fn log_key(pinned: Option<&str>, did: &str, origin: &str, what: &str) -> Result<VerifierKey, CliError> {
    if let Some(k) = pinned {
        return VerifierKey::parse(k.trim()).map_err(|e| usage(format!("--{what}-log-key: {e}")));
    }
    let d = DidKey::parse(did).map_err(|e| usage(format!("the {what}'s did: {e}")))?;
    let stated = VerifierKey::ed25519(origin.to_owned(), *d.public_key())
        .map_err(|e| usage(format!("the {what}'s log key: {e}")))?;
    eprintln!(
        "warning: the {what}'s log key is not pinned: its checkpoints are verified with the key it \
         states ({}); pass --{what}-log-key to know who signed them",
        stated.to_vkey()
    );
    Ok(stated)
}

/// `consentry audit chain`.
pub(super) fn run(args: ChainArgs) -> CliResult {
    if args.quorum > 0 && args.witnesses.is_empty() {
        return Err(usage("--quorum needs --witness keys"));
    }
    let key = KeyFile::read(&args.key).map_err(|e| usage(format!("{}: {e}", args.key.display())))?;
    let mut witnesses = Vec::new();
    for w in &args.witnesses {
        witnesses.push(VerifierKey::parse(w.trim()).map_err(|e| usage(format!("--witness {w}: {e}")))?);
    }
    let agent = agent();
    let platform_base = args.platform.trim_end_matches('/').to_owned();
    let node_base = args.node.trim_end_matches('/').to_owned();
    let platform_info = get_json(&agent, &format!("{platform_base}/v1/platform"))?;
    let platform_uscc = platform_info["uscc"]
        .as_str()
        .ok_or_else(|| {
            usage(format!(
                "{platform_base}/v1/platform: no uscc (is it a platform?)"
            ))
        })?
        .to_owned();
    let (pdid, porigin) = node_info(&agent, &platform_base)?;
    let (ndid, norigin) = node_info(&agent, &node_base)?;
    let side = |name: &'static str, base: String, did: String, origin: String, pinned: Option<&str>| {
        let lk = log_key(pinned, &did, &origin, name)?;
        let used = (lk.to_vkey(), pinned.is_some());
        let policy = CheckpointPolicy::new(origin, lk, witnesses.clone(), args.quorum)
            .map_err(|e| usage(format!("the {name}'s checkpoint policy: {e}")))?;
        Ok::<_, CliError>(LogSide {
            name,
            base,
            did,
            policy,
            log_key: used,
            key: &key,
            agent: &agent,
        })
    };
    let platform = side(
        "platform",
        platform_base,
        pdid,
        porigin,
        args.platform_log_key.as_deref(),
    )?;
    let node = side(
        "node",
        node_base,
        ndid,
        norigin.clone(),
        args.node_log_key.as_deref(),
    )?;
    let now = SystemClock.now();

    // The platform's onward releases in scope, every page.
    let scope = match (&args.enterprise, &args.grant) {
        (Some(e), _) => format!("enterprise={e}"),
        (None, Some(g)) => format!("grant={g}"),
        (None, None) => return Err(usage("give --enterprise or --grant")),
    };
    let mut entries: Vec<Value> = Vec::new();
    let mut after: Option<u64> = None;
    loop {
        let cursor = after.map(|a| format!("&after={a}")).unwrap_or_default();
        let page = platform.get_authenticated(&format!(
            "/v1/log/entries?{scope}&kind=onward-release&limit=1000{cursor}"
        ))?;
        let list = page["entries"].as_array().cloned().unwrap_or_default();
        entries.extend(list);
        match page["next"].as_u64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }

    let mut failures: Vec<Failure> = Vec::new();
    let mut chains = 0usize;
    // One report item per onward release read (`--json`).
    let mut walked: Vec<Value> = Vec::new();
    for e in &entries {
        let first_failure = failures.len();
        let mut hop = json!({
            "platformEntry": e["index"].as_u64(),
            "platformCheckpoint": null,
            "nodeEntry": null,
            "nodeCheckpoint": null,
        });
        walk_one(
            e,
            &args,
            &scope,
            (&platform, &node),
            (&platform_uscc, &norigin),
            now,
            &mut hop,
            &mut failures,
            &mut chains,
        )?;
        hop["valid"] = json!(failures.len() == first_failure);
        hop["failures"] = failures_json(&failures[first_failure..]);
        walked.push(hop);
    }
    if failures.is_empty() && entries.is_empty() {
        failures.push(fail(
            "none",
            format!("the platform holds no onward release for {scope}"),
        ));
    }
    if args.json {
        let side = |s: &LogSide<'_>| json!({"origin": s.policy.origin(), "logKey": s.log_key.0, "keyPinned": s.log_key.1});
        let mut platform_side = side(&platform);
        platform_side["uscc"] = json!(platform_uscc);
        let report = json!({
            "valid": failures.is_empty(),
            "scope": match (&args.enterprise, &args.grant) {
                (Some(e), _) => json!({"enterprise": e}),
                (None, g) => json!({"grant": g}),
            },
            "platform": platform_side,
            "node": side(&node),
            "onwardReleases": entries.len(),
            "verified": chains,
            "chains": walked,
            "failures": failures_json(&failures),
        });
        crate::cli::print_json(&report)?;
        return if failures.is_empty() {
            Ok(())
        } else {
            Err(CliError::Invalid(failures))
        };
    }
    if failures.is_empty() {
        outln!(
            "valid: {chains} onward release{} of {scope} verified at the platform ({}) and at the node ({})",
            if chains == 1 { "" } else { "s" },
            platform.policy.origin(),
            node.policy.origin()
        );
        return Ok(());
    }
    outln!(
        "invalid: {} of {} onward releases of {scope} verified; {} failure{}",
        chains,
        entries.len(),
        failures.len(),
        if failures.len() == 1 { "" } else { "s" }
    );
    Err(CliError::Invalid(failures))
}

/// Failures as the JSON report lists them.
fn failures_json(failures: &[Failure]) -> Value {
    Value::Array(
        failures
            .iter()
            .map(|(check, message)| json!({"check": check, "message": message}))
            .collect(),
    )
}

/// Walks and checks one onward release `e` (both hops and their agreement): failures go to
/// `failures`, a chain that holds counts in `chains`, and what was verified into `hop` (the JSON
/// report's item); the text lines are printed unless `--json`.
#[allow(clippy::too_many_arguments)]
fn walk_one(
    e: &Value,
    args: &ChainArgs,
    scope: &str,
    (platform, node): (&LogSide<'_>, &LogSide<'_>),
    (platform_uscc, norigin): (&str, &str),
    now: OffsetDateTime,
    hop: &mut Value,
    failures: &mut Vec<Failure>,
    chains: &mut usize,
) -> CliResult {
    let text = !args.json;
    let p = match platform.verify(e, now)? {
        Ok(v) => v,
        Err(f) => {
            failures.push(f);
            return Ok(());
        }
    };
    // The platform answers what was asked: an entry outside the scope is not evidence for it.
    let in_scope = match (&args.enterprise, &args.grant) {
        (Some(e), _) => p.record.enterprise.as_deref() == Some(e.as_str()),
        (None, Some(g)) => p.record.grant.as_ref().is_some_and(|r| r.id == *g),
        (None, None) => false,
    };
    if !in_scope {
        failures.push(fail(
            "scope",
            format!("platform entry {}: not an entry of {scope}", p.index),
        ));
        return Ok(());
    }
    hop["platformCheckpoint"] = json!(p.checkpoint_size);
    if text {
        outln!(
            "platform entry {}: onward release, record opens its leaf, included in the platform's checkpoint of size {}",
            p.index,
            p.checkpoint_size
        );
    }
    let Some(up) = p.record.upstream.clone() else {
        failures.push(fail(
            "upstream",
            format!(
                "platform entry {}: an onward release without an upstream entry",
                p.index
            ),
        ));
        return Ok(());
    };
    if up.origin != norigin {
        failures.push(fail(
            "upstream",
            format!(
                "platform entry {}: its upstream is in the log {:?}, not the node's {:?}",
                p.index, up.origin, norigin
            ),
        ));
        return Ok(());
    }
    let path = match up.index.checked_sub(1) {
        Some(a) => format!("/v1/log/entries?after={a}&limit=1"),
        None => "/v1/log/entries?limit=1".to_owned(),
    };
    let page = node.get_authenticated(&path)?;
    let found = page["entries"]
        .as_array()
        .and_then(|l| l.first())
        .filter(|x| x["index"].as_u64() == Some(up.index))
        .cloned();
    let Some(ne) = found else {
        failures.push(fail(
            "upstream",
            format!(
                "platform entry {}: the node has no entry {} (its upstream)",
                p.index, up.index
            ),
        ));
        return Ok(());
    };
    hop["nodeEntry"] = json!(up.index);
    let n = match node.verify(&ne, now)? {
        Ok(v) => v,
        Err((check, m)) => {
            failures.push((check, format!("{m} (upstream of platform entry {})", p.index)));
            return Ok(());
        }
    };
    let mut agree = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            agree.push(format!(
                "platform entry {} and node entry {}: {what}",
                p.index, n.index
            ));
        }
    };
    check(
        hex::encode(n.leaf_hash) == up.leaf_hash,
        "the node's leaf hash is not the one the platform's upstream cites",
    );
    check(
        n.leaf.kind == EntryKind::Release,
        "the node's entry is not a release",
    );
    check(
        p.leaf.kind == EntryKind::OnwardRelease,
        "the platform's entry is not an onward release",
    );
    check(
        p.record.enterprise.is_some() && n.record.enterprise == p.record.enterprise,
        "not about the same enterprise",
    );
    check(
        p.record.grant.is_some() && n.record.grant == p.record.grant,
        "not under the same grant (id and digest)",
    );
    check(
        n.record.platform.as_deref() == Some(platform_uscc)
            && p.record.platform.as_deref() == Some(platform_uscc),
        "the node did not release to this platform",
    );
    check(
        p.record.bank.is_some() && n.record.bank == p.record.bank,
        "the bank the platform passed the data to is not the recipient the node released for",
    );
    let released: Vec<&str> = n.record.categories.iter().map(|c| c.code.as_str()).collect();
    let extra: Vec<&str> = p
        .record
        .categories
        .iter()
        .map(|c| c.code.as_str())
        .filter(|c| !released.contains(c))
        .collect();
    check(
        extra.is_empty(),
        &format!("the platform passed on categories the node did not release: {extra:?}"),
    );
    check(
        n.leaf.time_ms <= p.leaf.time_ms,
        "the node's entry is later than the platform's",
    );
    hop["nodeCheckpoint"] = json!(n.checkpoint_size);
    if agree.is_empty() {
        *chains += 1;
        if text {
            outln!(
                "  node entry {}: release, record opens its leaf, included in the node's checkpoint of size {}; agrees on enterprise, grant, platform, bank, categories and time",
                n.index,
                n.checkpoint_size
            );
        }
    } else {
        failures.extend(agree.into_iter().map(|m| fail("agreement", m)));
    }
    Ok(())
}
