//! `consentry audit verify --tiles URL_OR_DIR` and `consentry audit export-tiles`: the access log as
//! a static C2SP tlog-tiles layout (spec/access-log.md §7.4, §8.6), verified from a node or from a
//! folder mirrored with `export-tiles`.
//!
//! Exit codes as `audit verify`: 0 = the log verifies, 1 = it does not (the first failure first on
//! stderr, naming the entry or the tile), 2 = usage, I/O or network error.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::Value;

use super::{Progress, VerifyArgs, agent, body, get, usage};
use crate::cli::{CliError, CliResult, print_json};
use crate::log::audit::{AuditOptions, BUNDLE_FORMAT, BundleHeader, LogAuditor};
use crate::log::checkpoint::{Checkpoint, CheckpointPolicy};
use crate::log::note::Note;
use crate::log::tiles::{self, Tile, TileKind, TileReport};

/// Where the node serves its tiles, below its base URL (spec/access-log.md §7.4).
pub(super) const NODE_PREFIX: &str = "/v1/log";

#[derive(Debug, Args)]
pub(in crate::cli) struct ExportTilesArgs {
    /// The node's base URL (its tiles are under <URL>/v1/log), or a tile prefix that serves
    /// <prefix>/checkpoint.
    #[arg(long, value_name = "URL")]
    node: String,
    /// The folder to mirror the layout into (created if needed): <DIR>/checkpoint, <DIR>/tile/….
    /// Tiles already there and complete are kept (tiles never change); the checkpoint is written
    /// last.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// A tile layout: a URL prefix, or a folder.
enum Layout {
    Http { agent: ureq::Agent, prefix: String },
    Dir(PathBuf),
}

impl Layout {
    fn describe(&self) -> String {
        match self {
            Layout::Http { prefix, .. } => prefix.clone(),
            Layout::Dir(d) => d.display().to_string(),
        }
    }

    /// A resource under the prefix; `None` if it is not there (404, no such file).
    fn get(&self, rel: &str) -> Result<Option<Vec<u8>>, CliError> {
        match self {
            Layout::Http { agent, prefix } => {
                let url = format!("{prefix}/{rel}");
                match get(agent, &url, None) {
                    Ok(r) => body(r, &url).map(Some),
                    Err((404, _)) => Ok(None),
                    Err((_, msg)) => Err(usage(msg)),
                }
            }
            Layout::Dir(dir) => {
                let path = dir.join(rel);
                match std::fs::read(&path) {
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(usage(format!("{}: {e}", path.display()))),
                }
            }
        }
    }

    /// Opens `arg` (an `http(s)://` URL or a folder) and reads its checkpoint. A URL whose
    /// `/checkpoint` is not found but whose `/v1/log/checkpoint` is, is a node's base URL.
    fn open(arg: &str) -> Result<(Self, String), CliError> {
        let layout = if arg.starts_with("http://") || arg.starts_with("https://") {
            Layout::Http {
                agent: agent(),
                prefix: arg.trim_end_matches('/').to_owned(),
            }
        } else {
            let dir = PathBuf::from(arg);
            if !dir.is_dir() {
                return Err(usage(format!("{arg}: not a folder (nor an http(s):// URL)")));
            }
            Layout::Dir(dir)
        };
        let mut layout = layout;
        let mut note = layout.get("checkpoint")?;
        if note.is_none() {
            if let Layout::Http { agent, prefix } = &layout {
                if !prefix.ends_with(NODE_PREFIX) {
                    let node = Layout::Http {
                        agent: agent.clone(),
                        prefix: format!("{prefix}{NODE_PREFIX}"),
                    };
                    note = node.get("checkpoint")?;
                    if note.is_some() {
                        layout = node;
                    }
                }
            }
        }
        let Some(note) = note else {
            return Err(usage(format!(
                "{}/checkpoint: not found (an empty log has no checkpoint yet)",
                layout.describe()
            )));
        };
        let note = String::from_utf8(note)
            .map_err(|_| usage(format!("{}/checkpoint is not UTF-8 text", layout.describe())))?;
        Ok((layout, note))
    }
}

/// `audit verify --tiles`: the checkpoint under the pinned key (and witness policy), then every
/// entry bundle and hash tile of its size ([`tiles::verify_tiles`]), with the entries also run
/// through the leaf checks and the trusted checkpoint of [`LogAuditor`].
pub(super) fn verify(
    source: &str,
    args: &VerifyArgs,
    opts: AuditOptions,
    progress: &mut Progress,
) -> CliResult {
    let log_key = opts
        .log_key
        .clone()
        .ok_or_else(|| usage("--tiles needs --log-key (a tile layout does not state its key)"))?;
    let (layout, note) = Layout::open(source)?;
    let at = layout.describe();
    let policy = CheckpointPolicy::new(
        log_key.name(),
        log_key.clone(),
        opts.witnesses.clone(),
        opts.quorum,
    )
    .map_err(|e| usage(format!("--log-key, --witness, --quorum: {e}")))?;
    let verified = policy.verify(note.as_bytes(), opts.now).map_err(|e| {
        CliError::Invalid(vec![(
            "signature".into(),
            format!(
                "{at}/checkpoint does not verify under the log key {}: {e}",
                log_key.to_vkey()
            ),
        )])
    })?;
    let size = verified.checkpoint().size();
    let root = *verified.checkpoint().root();

    let mut auditor = LogAuditor::new(opts).map_err(usage)?;
    auditor.push_header(BundleHeader {
        format: BUNDLE_FORMAT.to_owned(),
        origin: log_key.name().to_owned(),
        log_key: log_key.to_vkey(),
        from: 0,
        to: size,
    });
    auditor.push_checkpoint(&note);
    progress.note(&format!("verifying the tiles of {size} entries…"));
    let mut fetch = |t: &Tile| layout.get(&t.path());
    let tiles = tiles::verify_tiles(size, &root, &mut fetch, |i, entry| {
        auditor.push_leaf(entry);
        progress.tick(i + 1, Some(size));
    })?;
    let mut report = auditor.finish();
    progress.clear();
    if tiles.entries < size {
        // The walk stopped at a bundle it could not read (reported): what the auditor says about the
        // entries it did not get is a consequence, not a finding.
        report
            .failures
            .retain(|f| f.index.is_some_and(|i| i < tiles.entries));
        report.valid = false;
    }
    let valid = report.valid && tiles.valid;
    if args.json {
        let mut v = serde_json::to_value(&report).unwrap_or(Value::Null);
        v["valid"] = Value::Bool(valid);
        v["tiles"] = serde_json::to_value(&tiles).unwrap_or(Value::Null);
        v["tiles"]["source"] = Value::String(at.clone());
        print_json(&v)?;
    } else if valid {
        outln!("valid: {}", report.origin.as_deref().unwrap_or("(no origin)"));
        outln!("  entries: {} (root {})", report.entries, report.root);
        outln!(
            "  tiles: {at}: checkpoint of size {size}, {} entry bundles and {} hash tiles",
            tiles.entry_bundles,
            tiles.hash_tiles
        );
        if let Some(t) = report.trusted_checkpoint {
            outln!("  trusted checkpoint: size {t}, extended by this log");
        }
    }
    if valid {
        return Ok(());
    }
    Err(CliError::Invalid(reasons(&tiles, &report)))
}

/// The tile failures first (they name the entry or the tile), then the auditor's.
fn reasons(tiles: &TileReport, report: &crate::log::audit::AuditReport) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = tiles
        .failures
        .iter()
        .map(|f| (f.check.as_str().to_owned(), f.message.clone()))
        .collect();
    out.extend(
        report
            .failures
            .iter()
            .map(|f| (f.check.as_str().to_owned(), f.message.clone())),
    );
    let omitted = tiles.failures_omitted + report.failures_omitted;
    if omitted > 0 {
        out.push(("more".into(), format!("{omitted} further failures not listed")));
    }
    if out.is_empty() {
        out.push(("more".into(), "the log does not verify".into()));
    }
    out
}

/// Whether a file already in the mirror is complete for `tile` (files are renamed into place once
/// written, but may have been cut short by a crash or by hand).
fn complete(path: &Path, tile: &Tile) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    match tile.kind() {
        TileKind::Hashes(_) => bytes.len() == usize::from(tile.width()) * tiles::HASH_LEN,
        TileKind::Entries => tiles::parse_bundle(&bytes).is_ok_and(|e| e.len() == usize::from(tile.width())),
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place.
fn write_atomically(path: &Path, bytes: &[u8], sync: bool) -> Result<(), CliError> {
    let err = |e: std::io::Error| usage(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    let tmp = path.with_file_name(name);
    let mut f = std::fs::File::create(&tmp).map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    if sync {
        f.sync_all().map_err(err)?;
    }
    drop(f);
    std::fs::rename(&tmp, path).map_err(err)
}

/// `audit export-tiles`: mirrors the layout of the node's newest checkpoint into a folder.
pub(super) fn export(args: ExportTilesArgs) -> CliResult {
    let (layout, note) = Layout::open(&args.node)?;
    let at = layout.describe();
    let checkpoint = Note::parse(note.as_bytes())
        .ok()
        .and_then(|n| Checkpoint::parse_body(n.text()).ok())
        .ok_or_else(|| usage(format!("{at}/checkpoint is not a checkpoint note")))?;
    let size = checkpoint.size();
    let mut progress = Progress::new();
    let (mut fetched, mut kept, mut bytes_written, mut done) = (0u64, 0u64, 0u64, 0u64);
    for tile in tiles::tiles_of(size) {
        let path = tile.path();
        let dest = args.out.join(&path);
        if tile.kind() == TileKind::Entries {
            done += u64::from(tile.width());
            progress.tick(done, Some(size));
        }
        if complete(&dest, &tile) {
            kept += 1;
            continue;
        }
        let bytes = layout.get(&path)?.ok_or_else(|| {
            usage(format!(
                "{at}/{path}: not found, though the checkpoint of size {size} needs it"
            ))
        })?;
        write_atomically(&dest, &bytes, false)?;
        fetched += 1;
        bytes_written += bytes.len() as u64;
    }
    write_atomically(&args.out.join("checkpoint"), note.as_bytes(), true)?;
    progress.clear();
    outln!(
        "exported the tiles of {} at size {size} to {}: {fetched} fetched ({bytes_written} bytes), {kept} \
         already there",
        checkpoint.origin(),
        args.out.display()
    );
    Ok(())
}
