//! `consentry audit verify` and `consentry audit export`: auditing the access log (spec/access-log.md
//! §8) from an evidence bundle, a live node, or its C2SP tlog-tiles layout ([`tiles`]:
//! `verify --tiles`, `export-tiles`).
//!
//! Exit codes: 0 = the log verifies, 1 = it does not (the first failure first on stderr), 2 = usage,
//! I/O or network error.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{CliError, CliResult, print_json, read_input};
use crate::clock::{Clock, SystemClock};
use crate::identity::{DidKey, KeyFile};
use crate::log::audit::{AuditOptions, AuditReport, BUNDLE_FORMAT, BundleHeader, LogAuditor, PROGRESS_EVERY};
use crate::log::entry::LEAF_LEN;
use crate::log::note::VerifierKey;

mod chain;
mod tiles;

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Verify an evidence bundle, or a live node's log (--node): every leaf, record, chain,
    /// checkpoint and consistency proof, and optionally that the log extends a checkpoint saved
    /// earlier.
    Verify(Box<VerifyArgs>),
    /// Download the evidence bundle of a node's log (needs a regulator's or the node's key).
    Export(ExportArgs),
    /// Mirror a node's log as a static C2SP tlog-tiles folder (checkpoint, hash tiles, entry
    /// bundles), to archive and verify offline with `audit verify --tiles DIR`. Public: no key.
    ExportTiles(tiles::ExportTilesArgs),
    /// Walk and verify the two-hop chain of a platform's onward releases for one enterprise or one
    /// grant: each platform entry included in a signed platform checkpoint, the node entry it cites
    /// (`upstream`) included in a signed node checkpoint, and the two agreeing. Needs a
    /// regulator's key.
    Chain(Box<chain::ChainArgs>),
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The evidence bundle (JSON Lines), or - for stdin.
    #[arg(
        value_name = "BUNDLE",
        required_unless_present_any = ["node", "tiles"],
        conflicts_with_all = ["node", "tiles"]
    )]
    bundle: Option<String>,
    /// Verify the log of the node at this URL instead: its checkpoints and leaves (and, with the
    /// --key of a regulator or of the node, its records, through the evidence bundle).
    #[arg(long, value_name = "URL", conflicts_with = "tiles")]
    node: Option<String>,
    /// Verify the log's static C2SP tlog-tiles layout instead: a URL prefix serving
    /// <prefix>/checkpoint and <prefix>/tile/… (a node's base URL works: its prefix is /v1/log), or
    /// a folder mirrored with `audit export-tiles`. Needs --log-key.
    #[arg(long, value_name = "URL_OR_DIR", requires = "log_key")]
    tiles: Option<String>,
    /// The key file to fetch records with (a regulator's or the node's); without it, or if the key
    /// may not export, leaves only are verified.
    #[arg(long, value_name = "KEYFILE", requires = "node")]
    key: Option<PathBuf>,
    /// A checkpoint note saved earlier: the log must reach its size with its root (catches a
    /// rollback, a truncated and regrown tail, a fork).
    #[arg(long, value_name = "FILE")]
    trusted_checkpoint: Option<PathBuf>,
    /// The log's note verifier key (vkey) to pin. Without it the key the bundle (or node) states is
    /// used, which proves nothing about who signed: a warning says so.
    #[arg(long, value_name = "VKEY")]
    log_key: Option<String>,
    /// A witness's cosigner vkey (type 0x04). Repeat for more.
    #[arg(long = "witness", value_name = "VKEY")]
    witnesses: Vec<String>,
    /// Distinct witnesses that must have cosigned the newest checkpoint and the trusted one.
    #[arg(long, value_name = "N", default_value_t = 0)]
    quorum: usize,
    /// Require the witness quorum on every checkpoint, not only the newest.
    #[arg(long)]
    quorum_every_checkpoint: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    /// The node's base URL.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The key file of a regulator or of the node (the caller's client assertion is signed with it).
    #[arg(long, value_name = "KEYFILE")]
    key: PathBuf,
    /// Where to write the bundle.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Export entries 0..N only (default: the whole log).
    #[arg(long, value_name = "N")]
    to: Option<u64>,
}

pub(super) fn run(cmd: AuditCommand) -> CliResult {
    match cmd {
        AuditCommand::Verify(args) => verify(*args),
        AuditCommand::Export(args) => export(args),
        AuditCommand::ExportTiles(args) => tiles::export(args),
        AuditCommand::Chain(args) => chain::run(*args),
    }
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

fn verify(args: VerifyArgs) -> CliResult {
    if args.quorum > 0 && args.witnesses.is_empty() {
        return Err(usage("--quorum needs --witness keys"));
    }
    let mut opts = AuditOptions::new(SystemClock.now());
    if let Some(k) = &args.log_key {
        opts.log_key = Some(VerifierKey::parse(k.trim()).map_err(|e| usage(format!("--log-key: {e}")))?);
    }
    for w in &args.witnesses {
        opts.witnesses
            .push(VerifierKey::parse(w.trim()).map_err(|e| usage(format!("--witness {w}: {e}")))?);
    }
    opts.quorum = args.quorum;
    opts.quorum_on_every_checkpoint = args.quorum_every_checkpoint;
    if let Some(path) = &args.trusted_checkpoint {
        opts.trusted_checkpoint = Some(
            std::fs::read_to_string(path)
                .map_err(|e| usage(format!("--trusted-checkpoint {}: {e}", path.display())))?,
        );
    }
    let mut progress = Progress::new();
    if let Some(source) = &args.tiles {
        return tiles::verify(source, &args, opts, &mut progress);
    }
    let report = match (&args.bundle, &args.node) {
        (Some(b), _) if b == "-" => {
            let bytes = read_input("-")?;
            audit_source(&bytes, opts, &mut progress)?
        }
        (Some(b), _) => audit_file(Path::new(b), opts, &mut progress)?,
        (None, Some(url)) => {
            let key = match &args.key {
                Some(p) => Some(KeyFile::read(p).map_err(|e| usage(format!("{}: {e}", p.display())))?),
                None => None,
            };
            live(url.trim_end_matches('/'), key.as_ref(), opts, &mut progress)?
        }
        (None, None) => return Err(usage("give a BUNDLE file or --node URL")),
    };
    progress.clear();
    report_result(&report, args.json)
}

pub(super) fn report_result(report: &AuditReport, json: bool) -> CliResult {
    if !report.key_pinned {
        eprintln!(
            "warning: the log key is not pinned: checkpoints were verified with the key the log itself \
             states ({}); pass --log-key with the node's published key to know who signed them",
            report.log_key.as_deref().unwrap_or("none")
        );
    }
    if json {
        print_json(&serde_json::to_value(report).unwrap_or(Value::Null))?;
    } else if report.valid {
        outln!("valid: {}", report.origin.as_deref().unwrap_or("(no origin)"));
        outln!("  entries: {} (root {})", report.entries, report.root);
        outln!(
            "  checkpoints: {} verified{}; consistency proofs: {}",
            report.checkpoints,
            report
                .newest_checkpoint
                .map(|s| format!(", newest of size {s}"))
                .unwrap_or_default(),
            report.consistency_proofs
        );
        outln!(
            "  records: {} opened, {} erased{}",
            report.records_opened,
            report.records_erased,
            if report.records_not_supplied > 0 {
                format!(", {} not supplied (leaves only)", report.records_not_supplied)
            } else {
                String::new()
            }
        );
        if let Some(t) = report.trusted_checkpoint {
            outln!("  trusted checkpoint: size {t}, extended by this log");
        }
    }
    if report.valid {
        return Ok(());
    }
    let mut reasons: Vec<(String, String)> = report
        .failures
        .iter()
        .map(|f| (f.check.as_str().to_owned(), f.message.clone()))
        .collect();
    if report.failures_omitted > 0 {
        reasons.push((
            "more".into(),
            format!("{} further failures not listed", report.failures_omitted),
        ));
    }
    Err(CliError::Invalid(reasons))
}

/// A bundle file, streamed (never held in memory) through [`crate::log::audit::audit_reader`]; the
/// header's `to` sizes the progress counter.
fn audit_file(path: &Path, opts: AuditOptions, progress: &mut Progress) -> Result<AuditReport, CliError> {
    let open = || std::fs::File::open(path).map_err(|e| usage(format!("{}: {e}", path.display())));
    let mut first = Vec::new();
    BufReader::new(open()?)
        .take(1 << 16)
        .read_until(b'\n', &mut first)
        .map_err(|e| usage(format!("{}: {e}", path.display())))?;
    let total = header_total(&first);
    crate::log::audit::audit_reader(open()?, opts, &mut |n| progress.tick(n, total)).map_err(|e| match e {
        crate::log::audit::AuditReadError::Config(c) => usage(c),
        crate::log::audit::AuditReadError::Io(io) => usage(format!("{}: {io}", path.display())),
    })
}

/// The entry count a bundle's header line announces (`to`), for the progress counter only: the
/// auditor reads and checks the header itself.
fn header_total(first_line: &[u8]) -> Option<u64> {
    serde_json::from_slice::<Value>(first_line)
        .ok()
        .and_then(|h| h.get("to").and_then(Value::as_u64))
}

/// A bundle held in memory (standard input, or fetched from a node), through
/// [`crate::log::audit::audit_bundle`].
fn audit_source(bytes: &[u8], opts: AuditOptions, progress: &mut Progress) -> Result<AuditReport, CliError> {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let total = header_total(first);
    crate::log::audit::audit_bundle(bytes, opts, &mut |n| progress.tick(n, total)).map_err(usage)
}

/// A `\r` counter on stderr, when it is a terminal.
struct Progress {
    on: bool,
    shown: bool,
    last: u64,
}

impl Progress {
    fn new() -> Self {
        Self {
            on: std::io::stderr().is_terminal(),
            shown: false,
            last: 0,
        }
    }

    fn tick(&mut self, n: u64, total: Option<u64>) {
        if !self.on || n == self.last || n % PROGRESS_EVERY != 0 {
            return;
        }
        self.last = n;
        self.shown = true;
        let mut err = std::io::stderr().lock();
        let _ = match total {
            Some(t) if t > 0 => write!(err, "\rverifying: {n} / {t} entries ({}%)", n * 100 / t),
            _ => write!(err, "\rverifying: {n} entries"),
        };
        let _ = err.flush();
    }

    fn note(&mut self, text: &str) {
        if self.on {
            self.shown = true;
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{text:<60}");
            let _ = err.flush();
        }
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r{:60}\r", "");
            self.shown = false;
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(10))
        .timeout_read(Duration::from_secs(600))
        .build()
}

/// A GET that must succeed; 4xx/5xx answers become usage errors with the problem's detail.
fn get(agent: &ureq::Agent, url: &str, bearer: Option<&str>) -> Result<ureq::Response, (u16, String)> {
    let mut req = agent.get(url);
    if let Some(token) = bearer {
        req = req.set("Authorization", &format!("Bearer {token}"));
    }
    match req.call() {
        Ok(r) => Ok(r),
        Err(ureq::Error::Status(status, r)) => {
            let text = r.into_string().unwrap_or_default();
            let detail = serde_json::from_str::<Value>(&text)
                .ok()
                .and_then(|v| v["detail"].as_str().map(str::to_owned))
                .unwrap_or(text);
            Err((status, format!("{url}: {status} {detail}")))
        }
        Err(e) => Err((0, format!("{url}: {e}"))),
    }
}

fn body(r: ureq::Response, url: &str) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::new();
    r.into_reader()
        .read_to_end(&mut out)
        .map_err(|e| usage(format!("{url}: {e}")))?;
    Ok(out)
}

fn get_json(agent: &ureq::Agent, url: &str) -> Result<Value, CliError> {
    let r = get(agent, url, None).map_err(|(_, m)| usage(m))?;
    let bytes = body(r, url)?;
    serde_json::from_slice(&bytes).map_err(|e| usage(format!("{url}: {e}")))
}

/// The service's description: its DID (the audience of assertions, its log key) and its log's
/// origin — the node's (`/v1/node`), or a platform's (`/v1/platform`), which serves its own log.
fn node_info(agent: &ureq::Agent, base: &str) -> Result<(String, String), CliError> {
    let mut url = format!("{base}/v1/node");
    if let Err((404, _)) = get(agent, &url, None) {
        url = format!("{base}/v1/platform");
    }
    let info = get_json(agent, &url)?;
    match (info["did"].as_str(), info["logOrigin"].as_str()) {
        (Some(did), Some(origin)) => Ok((did.to_owned(), origin.to_owned())),
        _ => Err(usage(format!("{url}: no did or logOrigin in the answer"))),
    }
}

/// Fetches the evidence bundle with a client assertion.
fn fetch_export(
    agent: &ureq::Agent,
    base: &str,
    did: &str,
    key: &KeyFile,
    to: Option<u64>,
) -> Result<Result<ureq::Response, (u16, String)>, CliError> {
    let path = match to {
        Some(n) => format!("/v1/log/export?to={n}"),
        None => "/v1/log/export".to_owned(),
    };
    let token = crate::node::auth::make(key, did, "GET", &path, SystemClock.now())
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(get(agent, &format!("{base}{path}"), Some(&token)))
}

fn live(
    base: &str,
    key: Option<&KeyFile>,
    opts: AuditOptions,
    progress: &mut Progress,
) -> Result<AuditReport, CliError> {
    let agent = agent();
    let (did, origin) = node_info(&agent, base)?;
    if let Some(key) = key {
        progress.note("downloading the evidence bundle…");
        match fetch_export(&agent, base, &did, key, None)? {
            Ok(r) => {
                let bytes = body(r, &format!("{base}/v1/log/export"))?;
                return audit_source(&bytes, opts, progress);
            }
            Err((401 | 403, msg)) => {
                progress.clear();
                eprintln!("note: this key may not export records ({msg}); verifying leaves only");
            }
            Err((_, msg)) => return Err(usage(msg)),
        }
    }
    // Leaves only: the node's key is its log key (key name = origin) — with a key history
    // (`GET /v1/log/keys`, spec/access-log.md §5.5), its genesis key, the records following it.
    let key_records: Vec<String> = match get(&agent, &format!("{base}/v1/log/keys"), None) {
        Ok(r) => {
            let url = format!("{base}/v1/log/keys");
            let v: Value =
                serde_json::from_slice(&body(r, &url)?).map_err(|e| usage(format!("{url}: {e}")))?;
            v["records"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r["note"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        }
        Err((404, _)) => Vec::new(),
        Err((_, m)) => return Err(usage(m)),
    };
    let genesis = key_records
        .first()
        .and_then(|n| crate::log::note::Note::parse(n.as_bytes()).ok())
        .and_then(|n| crate::log::keys::KeyRecord::parse_body(n.text(), 0).ok())
        .map(|r| r.key);
    let stated = match genesis {
        Some(k) => k,
        None => DidKey::parse(&did)
            .map_err(|e| usage(format!("{base}/v1/node: did: {e}")))
            .and_then(|d| {
                VerifierKey::ed25519(origin.clone(), *d.public_key())
                    .map_err(|e| usage(format!("{base}/v1/node: log key: {e}")))
            })?,
    };
    let mut notes: Vec<(u64, String)> = Vec::new();
    let mut after = 0u64;
    loop {
        let url = format!("{base}/v1/log/checkpoints?after={after}&limit=1000");
        let page = get_json(&agent, &url)?;
        let list = page["checkpoints"]
            .as_array()
            .ok_or_else(|| usage(format!("{url}: no checkpoints list")))?;
        if list.is_empty() {
            break;
        }
        for c in list {
            match (c["size"].as_u64(), c["note"].as_str()) {
                (Some(size), Some(note)) if size > after => {
                    notes.push((size, note.to_owned()));
                    after = size;
                }
                _ => return Err(usage(format!("{url}: malformed checkpoint entry {c}"))),
            }
        }
    }
    let to = notes.last().map_or(0, |(s, _)| *s);
    let mut auditor = LogAuditor::new(opts).map_err(usage)?;
    auditor.push_header(BundleHeader {
        format: BUNDLE_FORMAT.to_owned(),
        origin,
        log_key: stated.to_vkey(),
        from: 0,
        to,
    });
    for note in &key_records {
        auditor.push_key_record(note);
    }
    for (_, note) in &notes {
        auditor.push_checkpoint(note);
    }
    let mut from = 0u64;
    while from < to {
        let limit = (to - from).min(10_000);
        let url = format!("{base}/v1/log/leaves?from={from}&limit={limit}");
        let r = get(&agent, &url, None).map_err(|(_, m)| usage(m))?;
        let bytes = body(r, &url)?;
        if bytes.is_empty() {
            // The node serves fewer leaves than its own checkpoints cover (a truncated log): not an
            // I/O error but a failed audit, which the auditor reports (checkpoint beyond the
            // entries, fewer entries than announced).
            break;
        }
        if bytes.len() % LEAF_LEN != 0 {
            return Err(usage(format!(
                "{url}: {} bytes is not a whole number of {LEAF_LEN}-byte leaves",
                bytes.len()
            )));
        }
        for leaf in bytes.chunks_exact(LEAF_LEN) {
            auditor.push_leaf(leaf);
            progress.tick(auditor.entries(), Some(to));
        }
        from += (bytes.len() / LEAF_LEN) as u64;
    }
    Ok(auditor.finish())
}

fn export(args: ExportArgs) -> CliResult {
    let key = KeyFile::read(&args.key).map_err(|e| usage(format!("{}: {e}", args.key.display())))?;
    let base = args.node.trim_end_matches('/');
    let agent = agent();
    let (did, _) = node_info(&agent, base)?;
    let r = fetch_export(&agent, base, &did, &key, args.to)?.map_err(|(_, m)| usage(m))?;
    let tmp = args.out.with_extension("partial");
    let mut file = std::fs::File::create(&tmp).map_err(|e| usage(format!("{}: {e}", tmp.display())))?;
    let mut reader = r.into_reader();
    let written = std::io::copy(&mut reader, &mut file)
        .and_then(|n| file.sync_all().map(|()| n))
        .map_err(|e| usage(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, &args.out).map_err(|e| usage(format!("{}: {e}", args.out.display())))?;
    // Say what was written, from its header line.
    let first = std::fs::File::open(&args.out)
        .ok()
        .and_then(|f| BufReader::new(f).lines().next())
        .and_then(Result::ok)
        .and_then(|l| serde_json::from_str::<BundleHeader>(&l).ok());
    match first {
        Some(h) => outln!(
            "exported entries {}..{} of {} to {} ({written} bytes)",
            h.from,
            h.to,
            h.origin,
            args.out.display()
        ),
        None => outln!("exported {written} bytes to {}", args.out.display()),
    }
    Ok(())
}
