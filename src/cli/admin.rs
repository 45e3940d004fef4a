//! `consentry admin …`: the node operator's commands, run against the node's database directly
//! (the same data folder / database URL as `serve`, which may be running).

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use serde_json::json;

use super::{CliError, CliResult, print_json};
use crate::clock::SystemClock;
use crate::config::{Config, ServeArgs};
use crate::node::Node;
use crate::node::registry::{self, Actor, NewMember, RegistrationDecision};
use crate::policy::{ParticipantState, Role};

#[derive(Debug, Args)]
pub(super) struct AdminArgs {
    #[command(flatten)]
    serve: ServeArgs,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Set up a node's data folder and database without serving: its key (made if missing), the
    /// schema, its entry in its own registry — what `serve` does on its first start. Every other
    /// admin command refuses a folder or database that no node has set up, so a mistyped
    /// `--data-dir` or `--database-url` is an error rather than a second, empty node.
    Init,
    /// Import data records (JSON Lines: uscc, category, date, provider, fields) into the node, as
    /// batches signed by the node's key (one per provider; spec/intake.md §8). Importing the same
    /// file again writes nothing.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Financing platforms.
    #[command(subcommand)]
    Platform(PlatformCommand),
    /// Register a providing department (spec/intake.md §2), bound to one catalog provider, which
    /// then submits signed data batches with its key.
    Department {
        #[command(flatten)]
        member: MemberArgs,
        /// The catalog provider code it submits for (e.g. STA; spec/catalog.json `providers`).
        #[arg(long)]
        provider: String,
    },
    /// Register a regulator.
    Regulator {
        #[command(flatten)]
        member: MemberArgs,
    },
    /// List enterprise registrations (default: pending).
    Registrations {
        /// pending, active, rejected…
        #[arg(long, default_value = ParticipantState::Pending.as_str())]
        state: String,
    },
    /// Approve a pending enterprise registration (issues its identity credential).
    Approve {
        /// The enterprise's USCC.
        uscc: String,
    },
    /// Reject a pending enterprise registration.
    Reject {
        /// The enterprise's USCC.
        uscc: String,
    },
    /// List participants.
    Participants {
        /// Only this role.
        #[arg(long)]
        role: Option<String>,
    },
    /// Bind a new key to a participant who lost theirs (after checking their identity offline):
    /// FILE holds the new key's signed `accept-key` request.
    RecoverKey {
        /// The participant's role.
        #[arg(long)]
        role: String,
        /// The participant's USCC.
        #[arg(long)]
        uscc: String,
        /// The signed accept-key request.
        file: PathBuf,
    },
    /// Publish a new authorization-letter version (JSON: id, provider, version, titles, texts).
    PublishLetter {
        /// The letter file.
        file: PathBuf,
    },
    /// Print the subject-tag key (hex) to give to regulators, who verify enterprise chains with it.
    TagKey,
    /// Sign a checkpoint of the access log now and print it.
    Checkpoint,
    /// Roll the log's key over (spec/access-log.md §5.5.4). Planned (default): the pre-committed
    /// next key joins the current one and both sign checkpoints (the overlap) until `--complete`.
    /// `--emergency`: the pre-committed key alone takes over, and every earlier key is no longer
    /// trusted from `--from SIZE`. Restart every process afterwards.
    RotateKey {
        /// The pre-committed next key's file (default: node.next.key.json in the data folder).
        #[arg(long)]
        next_key: Option<PathBuf>,
        /// End the overlap of a planned rollover: only the new key signs from now on.
        #[arg(long, conflicts_with_all = ["emergency", "next_key", "from"])]
        complete: bool,
        /// The current key is compromised or lost (needs --next-key and --from).
        #[arg(long, requires_all = ["next_key", "from"])]
        emergency: bool,
        /// With --emergency: the log size from which the old keys are no longer trusted.
        #[arg(long, requires = "emergency")]
        from: Option<u64>,
    },
    /// Back up the node's database while it serves, into DEST (which must not exist): SQLite through
    /// `VACUUM INTO` (a consistent snapshot; sqlite.org/lang_vacuum.html), PostgreSQL through
    /// `pg_dump --format=custom` (one consistent snapshot; PostgreSQL's pg_dump manual). The node's
    /// key file is not in it: keep a copy of the data folder's key separately.
    Backup {
        /// The backup file to write.
        dest: PathBuf,
    },
    /// Restore a backup made by `backup` into this data folder's database — a SQLite file that does
    /// not exist yet, or an empty PostgreSQL database — then verify it as `verify` does. The folder
    /// must hold the node's key.
    Restore {
        /// The backup file.
        src: PathBuf,
    },
    /// Verify the node's own log offline, as an auditor would: every entry, record, chain,
    /// checkpoint signature and consistency proof with the node's key pinned, and that the log
    /// extends the newest checkpoint this node published (the data folder's
    /// `published-checkpoint`). Exit 1 when anything fails.
    Verify {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Monitoring statistics (spec/statistics.md): print the figures, or rebuild the rollups.
    Stats(StatsArgs),
    /// Objections (spec/objections.md): list them, open a review, resolve. Statements are signed
    /// with the node's key.
    #[command(subcommand)]
    Objection(ObjectionCommand),
}

#[derive(Debug, Subcommand)]
enum ObjectionCommand {
    /// List objections (newest first).
    List {
        /// Only this state (received, forwarded, under-review, corrected, rejected).
        #[arg(long)]
        state: Option<String>,
        /// Only those whose forwarding deadline was missed.
        #[arg(long)]
        overdue: bool,
        /// Only those whose deadline cannot be computed (calendar missing a year).
        #[arg(long)]
        deadline_unknown: bool,
    },
    /// Show one objection with its signed steps.
    Show {
        /// The objection id.
        id: String,
    },
    /// Open the review of a forwarded objection.
    Review {
        /// The objection id.
        id: String,
        /// A note for the record.
        #[arg(long)]
        note: Option<String>,
    },
    /// Resolve an objection under review.
    Resolve {
        /// The objection id.
        id: String,
        /// corrected or rejected.
        #[arg(long)]
        outcome: String,
        /// The explanation the enterprise receives.
        #[arg(long)]
        explanation: String,
        /// For a data objection upheld: a JSON file with the record's corrected fields.
        #[arg(long, value_name = "FILE")]
        fields: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct StatsArgs {
    #[command(subcommand)]
    command: Option<StatsCommand>,
    /// First CST day of the access figures (YYYY-MM-DD; default 29 days before --until).
    #[arg(long)]
    from: Option<String>,
    /// Last CST day of the access figures (YYYY-MM-DD; default today).
    #[arg(long)]
    until: Option<String>,
    /// Print CSV (RFC 4180) instead of JSON.
    #[arg(long)]
    csv: bool,
}

#[derive(Debug, Subcommand)]
enum StatsCommand {
    /// Recompute every rollup from the access log, grants and participants in one transaction
    /// under the log lock, print what differed, and replace them (appends wait meanwhile).
    Rebuild {
        /// Only compare; change nothing. Exit code 1 if the rollups differ from the source.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Debug, Args)]
struct MemberArgs {
    /// Unified Social Credit Code.
    #[arg(long)]
    uscc: String,
    /// Name.
    #[arg(long)]
    name: String,
    /// The participant's did:key.
    #[arg(long)]
    did: String,
}

#[derive(Debug, Subcommand)]
enum PlatformCommand {
    /// Admit a platform.
    Add {
        #[command(flatten)]
        member: MemberArgs,
        /// The platform's base URL.
        #[arg(long)]
        endpoint: String,
        /// A 设区市 it covers (repeatable; codes of spec/regions/jiangsu.json, e.g. 320100).
        #[arg(long = "region", value_name = "CODE")]
        regions: Vec<String>,
    },
    /// Suspend a platform (refused from now on; reversible).
    Suspend {
        /// Its USCC.
        uscc: String,
    },
    /// Lift a suspension.
    Resume {
        /// Its USCC.
        uscc: String,
    },
    /// Remove a platform for good: every grant naming it is suspended and its enterprises told.
    Remove {
        /// Its USCC.
        uscc: String,
    },
}

fn fail(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

pub(super) fn run(args: AdminArgs) -> CliResult {
    let config = Config::resolve(&args.serve).map_err(fail)?;
    if let AdminCommand::Init = args.command {
        let (node, created) = crate::node::start::open(&config, Arc::new(SystemClock)).map_err(fail)?;
        return print_json(&json!({
            "did": node.did(),
            "keyCreated": created,
            "dataDir": config.data_dir.display().to_string(),
            "database": crate::storage::redact(&config.database_url),
        }));
    }
    if let AdminCommand::Restore { src } = &args.command {
        return restore(&config, src);
    }
    if let AdminCommand::RotateKey {
        next_key: Some(next_key),
        emergency: true,
        from: Some(from),
        ..
    } = &args.command
    {
        let key_file = match config.role {
            crate::config::ServiceRole::Platform => crate::node::identity::PLATFORM_KEY_FILE,
            crate::config::ServiceRole::Node => crate::node::identity::NODE_KEY_FILE,
        };
        if !config.data_dir.join(key_file).is_file() {
            // The key is lost: an emergency rollover on the database alone (spec/access-log.md §5.5.4).
            if !matches!(
                crate::storage::probe(&config.database_url).map_err(fail)?,
                crate::storage::Found::Service { .. }
            ) {
                return Err(CliError::usage(format!(
                    "{} is not a Consentry node's database: check --database-url",
                    crate::storage::redact(&config.database_url)
                )));
            }
            let store = crate::storage::Store::open_with(
                &config.database_url,
                2,
                std::time::Duration::from_millis(config.database_wait_ms),
            )
            .map_err(fail)?;
            let rotation = crate::node::keys::Rotation::Emergency {
                next_key: next_key.clone(),
                from: *from,
            };
            let now = crate::storage::millis(crate::clock::Clock::now(&SystemClock));
            let r = crate::node::keys::rotate_lost(&store, &config.data_dir, now, &rotation).map_err(fail)?;
            return print_rotated(&r);
        }
    }
    let node = crate::node::start::open_existing(&config, Arc::new(SystemClock)).map_err(fail)?;
    let actor = Actor::operator(&node, crate::node::start::DEFAULT_NODE_USCC);
    let system = actix_web::rt::System::new();
    match args.command {
        AdminCommand::Init | AdminCommand::Restore { .. } => unreachable!("handled above"),
        AdminCommand::Backup { dest } => backup(&node, &config, &dest),
        AdminCommand::Verify { json } => verify(&node, json),
        AdminCommand::Import { file } => import(&node, &file),
        AdminCommand::Platform(p) => {
            let v = system.block_on(async {
                match p {
                    PlatformCommand::Add {
                        member,
                        endpoint,
                        regions,
                    } => registry::admit_platform(
                        &node,
                        NewMember {
                            uscc: member.uscc,
                            name: member.name,
                            did: member.did,
                            endpoint: Some(endpoint),
                            regions,
                            industry: None,
                        },
                        actor,
                    )
                    .await
                    .map(|p| json!(p)),
                    PlatformCommand::Suspend { uscc } => {
                        registry::set_state(&node, uscc, Role::Platform, ParticipantState::Suspended, actor)
                            .await
                            .map(|v| json!(v))
                    }
                    PlatformCommand::Resume { uscc } => {
                        registry::set_state(&node, uscc, Role::Platform, ParticipantState::Active, actor)
                            .await
                            .map(|v| json!(v))
                    }
                    PlatformCommand::Remove { uscc } => {
                        registry::set_state(&node, uscc, Role::Platform, ParticipantState::Removed, actor)
                            .await
                            .map(|v| json!(v))
                    }
                }
            });
            print_json(&v.map_err(fail)?)
        }
        AdminCommand::Department { member, provider } => {
            let m = NewMember {
                uscc: member.uscc,
                name: member.name,
                did: member.did,
                endpoint: None,
                regions: vec![],
                industry: None,
            };
            let d = system
                .block_on(registry::add_department(&node, m, provider, actor))
                .map_err(fail)?;
            print_json(&json!(d))
        }
        AdminCommand::Regulator { member } => {
            let m = NewMember {
                uscc: member.uscc,
                name: member.name,
                did: member.did,
                endpoint: None,
                regions: vec![],
                industry: None,
            };
            let p = system
                .block_on(registry::add_regulator(&node, m, actor))
                .map_err(fail)?;
            print_json(&json!(p))
        }
        AdminCommand::Registrations { state } => {
            let rows = system
                .block_on(registry::list(
                    &node,
                    Some("enterprise".into()),
                    Some(state),
                    None,
                ))
                .map_err(fail)?;
            print_json(&json!({"registrations": rows}))
        }
        AdminCommand::Approve { uscc } => print_json(
            &system
                .block_on(registry::decide_registration(
                    &node,
                    uscc,
                    RegistrationDecision::Approve,
                    actor,
                ))
                .map(|v| json!(v))
                .map_err(fail)?,
        ),
        AdminCommand::Reject { uscc } => print_json(
            &system
                .block_on(registry::decide_registration(
                    &node,
                    uscc,
                    RegistrationDecision::Reject,
                    actor,
                ))
                .map(|v| json!(v))
                .map_err(fail)?,
        ),
        AdminCommand::Participants { role } => {
            let rows = system
                .block_on(registry::list(&node, role, None, None))
                .map_err(fail)?;
            print_json(&json!({"participants": rows}))
        }
        AdminCommand::RecoverKey { role, uscc, file } => {
            let role = Role::parse(&role).ok_or_else(|| CliError::usage(format!("unknown role {role}")))?;
            let pop = std::fs::read_to_string(&file)
                .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
            print_json(
                &system
                    .block_on(registry::recover_key(&node, uscc, role, pop.trim(), actor))
                    .map(|v| json!(v))
                    .map_err(fail)?,
            )
        }
        AdminCommand::PublishLetter { file } => {
            let text =
                std::fs::read(&file).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
            let letter = crate::http::parse_body(&text).map_err(fail)?;
            print_json(
                &system
                    .block_on(crate::node::letters::publish(&node, letter))
                    .map(|v| json!(v))
                    .map_err(fail)?,
            )
        }
        AdminCommand::TagKey => {
            outln!("{}", hex::encode(node.tag_key));
            Ok(())
        }
        AdminCommand::Checkpoint
            if !crate::node::identity::origin_fixed(&mut *node.store.conn().map_err(fail)?)
                .map_err(fail)? =>
        {
            Err(CliError::usage(
                "the log's origin is not fixed yet: run `consentry serve` once, or pass --public-url",
            ))
        }
        AdminCommand::Checkpoint => match system
            .block_on(crate::node::checkpoints::publish(&node))
            .map_err(fail)?
        {
            Some(note) => {
                out!("{note}");
                Ok(())
            }
            None => Err(CliError::usage("the log is empty: nothing to checkpoint")),
        },
        AdminCommand::RotateKey {
            next_key,
            complete,
            emergency,
            from,
        } => rotate_key(&node, next_key, complete, emergency.then_some(from).flatten()),
        AdminCommand::Stats(s) => stats(&node, &system, s),
        AdminCommand::Objection(o) => objection(&node, &system, o),
    }
}

/// `consentry admin rotate-key`: records the rotation and says what to do next.
fn rotate_key(
    node: &Node,
    next_key: Option<PathBuf>,
    complete: bool,
    emergency_from: Option<u64>,
) -> CliResult {
    use crate::node::keys::{KeyFiles, Rotation, rotate};
    let files = KeyFiles::of(&node.data_dir, &node.origin);
    let rotation = match (complete, emergency_from) {
        (true, _) => Rotation::Complete,
        (false, Some(from)) => Rotation::Emergency {
            next_key: next_key.unwrap_or_else(|| files.next()),
            from,
        },
        (false, None) => Rotation::Planned {
            next_key: next_key.unwrap_or_else(|| files.next()),
        },
    };
    print_rotated(&rotate(node, &rotation).map_err(fail)?)
}

/// What `rotate-key` prints: the record, the re-signed checkpoints, what to do next.
fn print_rotated(r: &crate::node::keys::Rotated) -> CliResult {
    outln!(
        "key record {} ({}) from size {}: the current key is {}",
        r.seq,
        r.kind.as_str(),
        r.from,
        r.current
    );
    if r.resigned > 0 {
        outln!("{} stored checkpoints re-signed with the new key", r.resigned);
    }
    if let Some(next) = &r.next_file {
        outln!(
            "a new pre-committed next key is in {}: move it offline now",
            next.display()
        );
    }
    outln!("restart every process of the node so that its DID and credentials use the current key");
    Ok(())
}

fn objection(node: &Node, system: &actix_web::rt::SystemRunner, cmd: ObjectionCommand) -> CliResult {
    use crate::node::objections::{self, Actor as ObjActor, ListQuery, StepBody, action};
    let uscc = crate::node::start::DEFAULT_NODE_USCC;
    let me = node
        .store
        .run(|c| crate::storage::participants::find(c, uscc, Role::Node))
        .map_err(fail)?
        .ok_or_else(|| CliError::usage("the node is not in its own registry (start it once)"))?;
    let actor = ObjActor {
        participant_id: me.id,
        uscc: me.uscc,
        role: Role::Node,
    };
    let sign = |act: &str, claims: serde_json::Value| -> Result<StepBody, CliError> {
        Ok(StepBody {
            statement: crate::node::auth::make_request(&node.key, node.did(), act, claims, node.clock.now())
                .map_err(fail)?,
        })
    };
    let value = |r: crate::error::Result<crate::node::answers::objections::Objection>| {
        r.and_then(|o| serde_json::to_value(o).map_err(|e| crate::error::Error::Internal(e.to_string())))
    };
    let v = match cmd {
        ObjectionCommand::List {
            state,
            overdue,
            deadline_unknown,
        } => {
            // Every page: the list is complete, however many objections there are.
            let mut all = Vec::new();
            let mut before = None;
            loop {
                let page = system.block_on(objections::list(
                    node,
                    &actor,
                    ListQuery {
                        state: state.clone(),
                        overdue: Some(overdue),
                        deadline_unknown: Some(deadline_unknown),
                        before: before.take(),
                        limit: Some(objections::MAX_LIST_PAGE),
                        ..ListQuery::default()
                    },
                ));
                match page {
                    Ok(p) => {
                        all.extend(p.items);
                        match p.next {
                            Some(n) => before = Some(n),
                            None => break Ok(json!({"objections": all, "next": null})),
                        }
                    }
                    Err(e) => break Err(e),
                }
            }
        }
        ObjectionCommand::Show { id } => value(system.block_on(objections::get(node, &actor, id))),
        ObjectionCommand::Review { id, note } => {
            let body = sign(action::REVIEW, json!({"objection": id, "explanation": note}))?;
            value(system.block_on(objections::decide_as(node, actor, id, action::REVIEW, body)))
        }
        ObjectionCommand::Resolve {
            id,
            outcome,
            explanation,
            fields,
        } => {
            let mut claims = json!({"objection": id, "outcome": outcome, "explanation": explanation});
            if let Some(file) = fields {
                let text =
                    std::fs::read(&file).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
                let fields: serde_json::Value = crate::crypto::json::parse_strict(&text)
                    .map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
                claims["correction"] = json!({"fields": fields});
            }
            let body = sign(action::RESOLVE, claims)?;
            value(system.block_on(objections::decide_as(node, actor, id, action::RESOLVE, body)))
        }
    };
    print_json(&v.map_err(|e| CliError::Invalid(vec![(e.code().to_owned(), e.to_string())]))?)
}

fn stats(node: &Node, system: &actix_web::rt::SystemRunner, s: StatsArgs) -> CliResult {
    use crate::node::stats::{Period, Scope};
    match s.command {
        Some(StatsCommand::Rebuild { check }) => {
            let report = node
                .store
                .run(|c| crate::storage::stats::rebuild(c, !check))
                .map_err(fail)?;
            print_json(&json!(report))?;
            if check && !report.matched {
                return Err(CliError::Invalid(vec![(
                    "stats-differ".into(),
                    format!(
                        "{} rollup rows differ from the source tables",
                        report.difference_count
                    ),
                )]));
            }
            Ok(())
        }
        None => {
            let period = Period::parse(s.from.as_deref(), s.until.as_deref(), node.now_ms()).map_err(fail)?;
            let summary = system
                .block_on(crate::node::stats::summary(node, Scope::All, period))
                .map_err(fail)?;
            if s.csv {
                out!("{}", summary.to_csv());
                Ok(())
            } else {
                print_json(&summary.to_json())
            }
        }
    }
}

fn import(node: &Node, file: &std::path::Path) -> CliResult {
    let f = std::fs::File::open(file).map_err(|e| CliError::usage(format!("{}: {e}", file.display())))?;
    let parsed = crate::node::data::parse_import(
        std::io::BufReader::new(f),
        &node.catalog(),
        node.industries.as_deref(),
        node.now_ms(),
    )
    .map_err(|e| CliError::Invalid(vec![(e.code().to_owned(), e.to_string())]))?;
    let batches = crate::node::intake::import_as_node(node, &parsed)
        .map_err(|e| CliError::Invalid(vec![(e.code().to_owned(), e.to_string())]))?;
    let fresh = batches.iter().filter(|b| !b.resubmitted);
    let n: i64 = fresh.clone().map(|b| b.new_records + b.new_versions).sum();
    let held: i64 = batches
        .iter()
        .map(|b| if b.resubmitted { b.records } else { b.already_held })
        .sum();
    if parsed.industries.is_empty() {
        outln!("imported {n} records from {}", file.display());
    } else {
        outln!(
            "imported {n} records and {} enterprises' industries from {}",
            parsed.industries.len(),
            file.display()
        );
    }
    for b in &batches {
        outln!(
            "batch {} ({}): {} records, {} new, {} new versions, {} already held{}; log entry {}",
            b.batch,
            b.provider,
            b.records,
            b.new_records,
            b.new_versions,
            b.already_held,
            if b.resubmitted {
                ", batch already received"
            } else {
                ""
            },
            b.log_index
        );
    }
    if held > 0 && n == 0 {
        outln!("nothing new: every record was already held");
    }
    Ok(())
}

/// `admin verify`: the node's own log audited offline ([`crate::node::audit::verify_own`]).
fn verify(node: &Node, json: bool) -> CliResult {
    let report = crate::node::audit::verify_own(node).map_err(fail)?;
    super::audit::report_result(&report, json)
}

/// A PostgreSQL client program (`pg_dump`, `pg_restore`): on the PATH, else in `pg_config --bindir`,
/// else the newest `/usr/lib/postgresql/<version>/bin`.
fn pg_program(name: &str) -> Result<PathBuf, CliError> {
    let on_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|f| f.is_file())
        })
        .unwrap_or_default();
    if let Some(p) = on_path {
        return Ok(p);
    }
    if let Ok(out) = std::process::Command::new("pg_config").arg("--bindir").output() {
        let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.is_file());
    found.sort();
    found
        .pop()
        .ok_or_else(|| CliError::usage(format!("{name} not found (install PostgreSQL's client programs)")))
}

/// Runs a PostgreSQL client program against `url` (given last, after `--dbname` when `dbname`); its
/// stderr becomes the error.
fn run_pg(program: &str, args: &[&std::ffi::OsStr], url: &str, dbname: bool) -> CliResult {
    // The password goes in the environment: on a command line every local user could read it.
    let (url, password) = crate::storage::split_password(url);
    let mut cmd = std::process::Command::new(pg_program(program)?);
    cmd.args(args);
    if dbname {
        cmd.arg("--dbname");
    }
    cmd.arg(&url);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| CliError::usage(format!("{program}: {e}")))?;
    if !out.status.success() {
        return Err(CliError::usage(format!(
            "{program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// `admin backup DEST`.
fn backup(node: &Node, config: &Config, dest: &std::path::Path) -> CliResult {
    if dest.exists() {
        return Err(CliError::usage(format!(
            "{} exists: a backup never overwrites",
            dest.display()
        )));
    }
    let (size, _) = node.store.run(crate::storage::log_store::head).map_err(fail)?;
    match node.store.backend() {
        crate::storage::Backend::Sqlite => node
            .store
            .run(|c| crate::storage::sqlite_snapshot(c, dest))
            .map_err(fail)?,
        crate::storage::Backend::Postgres => run_pg(
            "pg_dump",
            &[
                "--format=custom".as_ref(),
                "--no-owner".as_ref(),
                "--file".as_ref(),
                dest.as_os_str(),
            ],
            &config.database_url,
            false,
        )?,
    }
    let (digest, bytes) = std::fs::File::open(dest)
        .and_then(crate::crypto::Sha256Digest::of_reader)
        .map_err(|e| CliError::usage(format!("{}: {e}", dest.display())))?;
    print_json(&json!({
        "backup": dest.display().to_string(),
        "backend": match node.store.backend() {
            crate::storage::Backend::Sqlite => "sqlite",
            crate::storage::Backend::Postgres => "postgres",
        },
        "bytes": bytes,
        "sha256": digest.to_hex(),
        "logSizeAtLeast": size,
    }))
}

/// `admin restore SRC`: into a database that does not exist (SQLite) or is empty (PostgreSQL), then
/// the offline audit.
fn restore(config: &Config, src: &std::path::Path) -> CliResult {
    if !src.is_file() {
        return Err(CliError::usage(format!("{}: no such backup file", src.display())));
    }
    let key = config.data_dir.join(crate::node::identity::NODE_KEY_FILE);
    if !key.is_file() {
        return Err(CliError::usage(format!(
            "{} holds no {}: put the node's key in the folder first (a backup does not hold it)",
            config.data_dir.display(),
            crate::node::identity::NODE_KEY_FILE
        )));
    }
    let url = crate::storage::redact(&config.database_url);
    match crate::storage::probe(&config.database_url).map_err(fail)? {
        crate::storage::Found::Nothing => {
            let path = PathBuf::from(config.database_url.trim_start_matches("sqlite://"));
            let tmp = path.with_extension("restoring");
            std::fs::copy(src, &tmp).map_err(|e| CliError::usage(format!("{}: {e}", tmp.display())))?;
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
        }
        crate::storage::Found::Empty
            if crate::storage::backend_of(&config.database_url).map_err(fail)?
                == crate::storage::Backend::Postgres =>
        {
            run_pg(
                "pg_restore",
                &[
                    "--single-transaction".as_ref(),
                    "--exit-on-error".as_ref(),
                    "--no-owner".as_ref(),
                    src.as_os_str(),
                ],
                &config.database_url,
                true,
            )?;
        }
        crate::storage::Found::Foreign | crate::storage::Found::Empty => {
            return Err(CliError::usage(format!(
                "{url} exists and is not an empty PostgreSQL database: restore into a new database"
            )));
        }
        crate::storage::Found::Service { .. } => {
            return Err(CliError::usage(format!(
                "{url} already holds a node's database: restore into a new database"
            )));
        }
    }
    let node = crate::node::start::open_existing(config, Arc::new(SystemClock)).map_err(fail)?;
    verify(&node, false)
}
