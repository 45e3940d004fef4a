//! The `consentry` command line.
//!
//! Exit codes: 0 = valid / done, 1 = invalid (one reason per line on stderr), 2 = usage or I/O error.

/// `println!` to stdout that ends the command quietly when the reader has gone (`… | head`).
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_out(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// `print!` counterpart of [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_out(&format!($($arg)*))?
    };
}

mod admin;
mod audit;
mod calendar;
mod catalog_cmd;
mod demo;
#[cfg(test)]
mod deploy_tests;
mod did;
mod grant;
mod key;
mod serve;
mod vc;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::catalog::Catalog;
use crate::clock::{Clock, FixedClock, SystemClock};
use crate::credential::datetime::parse_datetime_stamp;

/// Consentry: enterprise-signed authorization grants for credit-data sharing.
#[derive(Debug, Parser)]
#[command(name = "consentry", version, about, long_about = None)]
pub struct Cli {
    /// Read the catalog from DIR/catalog.json and DIR/letters.json instead of the built-in copy.
    #[arg(long, global = true, env = "CONSENTRY_CATALOG_DIR", value_name = "DIR")]
    catalog_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Ed25519 keys.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// did:key identifiers.
    #[command(subcommand)]
    Did(did::DidCommand),
    /// Secure and verify any Verifiable Credential (eddsa-jcs-2022 or VC-JWT).
    #[command(subcommand)]
    Vc(vc::VcCommand),
    /// Build and verify authorization grants.
    #[command(subcommand)]
    Grant(grant::GrantCommand),
    /// Show the data catalog: categories, purposes, providers, authorization letters.
    #[command(subcommand)]
    Catalog(catalog_cmd::CatalogCommand),
    /// Run the service: the node (default, SQLite in ./consentry-data, no set-up) or a platform.
    Serve(Box<crate::config::ServeArgs>),
    /// The node operator's commands (admit platforms, approve registrations, import data…).
    Admin(Box<admin::AdminArgs>),
    /// Play the whole story on this machine (node and platform as two processes), step by step.
    Demo(demo::DemoArgs),
    /// Chinese working days: check a calendar file, list days, compute deadlines.
    Calendar(calendar::CalendarArgs),
    /// Run a witness that cosigns the node's checkpoints (C2SP tlog-witness).
    Witness(crate::witness::WitnessArgs),
    /// Audit the access log: verify an evidence bundle or a live node's log, download a bundle.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// How a command failed.
#[derive(Debug)]
pub enum CliError {
    /// Bad arguments or unreadable input: exit 2.
    Usage(String),
    /// The input was understood and is invalid: exit 1, one `code: reason` per line.
    Invalid(Vec<(String, String)>),
    /// Standard output was closed by its reader: stop quietly, exit 0.
    ClosedOutput,
}

impl CliError {
    fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into())
    }
}

type CliResult = Result<(), CliError>;

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Invalid(reasons)) => {
            for (code, msg) in reasons {
                eprintln!("invalid: {code}: {msg}");
            }
            ExitCode::from(1)
        }
        Err(CliError::Usage(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
        Err(CliError::ClosedOutput) => ExitCode::SUCCESS,
    }
}

fn dispatch(cli: Cli) -> CliResult {
    let catalog = || load_catalog(cli.catalog_dir.as_deref());
    match cli.command {
        Command::Key(c) => key::run(c),
        Command::Did(c) => did::run(c),
        Command::Vc(c) => vc::run(c),
        Command::Grant(c) => grant::run(c, &catalog()?),
        Command::Catalog(c) => catalog_cmd::run(c, &catalog()?),
        Command::Admin(args) => admin::run(*args),
        Command::Demo(args) => demo::run(args),
        Command::Audit(c) => audit::run(c),
        Command::Calendar(args) => calendar::run(args),
        Command::Witness(args) => crate::witness::serve(args).map_err(|e| CliError::usage(e.to_string())),
        Command::Serve(mut args) => {
            args.catalog_dir = args.catalog_dir.or(cli.catalog_dir.clone());
            serve::run(*args)
        }
    }
}

fn load_catalog(dir: Option<&Path>) -> Result<Catalog, CliError> {
    let Some(dir) = dir else {
        return Ok(Catalog::builtin());
    };
    Catalog::from_dir(dir).map_err(|e| CliError::usage(e.to_string()))
}

/// Reads a file, or standard input for `-`.
fn read_input(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| CliError::usage(format!("stdin: {e}")))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| CliError::usage(format!("{path}: {e}")))
    }
}

/// The clock for `--at`: fixed at that instant, or the system clock.
fn clock_at(at: Option<&str>) -> Result<Box<dyn Clock>, CliError> {
    match at {
        Some(text) => Ok(Box::new(FixedClock(
            parse_datetime_stamp(text).map_err(|e| CliError::usage(format!("--at: {e}")))?,
        ))),
        None => Ok(Box::new(SystemClock)),
    }
}

/// Writes `text` to standard output.
fn write_out(text: &str) -> CliResult {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::ClosedOutput),
        Err(e) => Err(CliError::usage(format!("standard output: {e}"))),
    }
}

fn print_json(value: &serde_json::Value) -> CliResult {
    write_out(&format!(
        "{}\n",
        serde_json::to_string_pretty(value).unwrap_or_default()
    ))
}
