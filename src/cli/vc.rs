//! `consentry vc sign` and `consentry vc verify`: any credential, proof only.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use serde_json::json;

use super::{CliError, CliResult, clock_at, print_json, read_input};
use crate::credential::datetime::{format_utc_seconds, parse_datetime_stamp};
use crate::credential::{self, data_integrity, jwt};
use crate::crypto::json;
use crate::identity::KeyFile;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(super) enum Format {
    /// Embedded Data Integrity proof, cryptosuite eddsa-jcs-2022.
    Di,
    /// VC-JWT (application/vc+jwt), EdDSA.
    Jwt,
}

#[derive(Debug, Subcommand)]
pub(super) enum VcCommand {
    /// Secure a JSON credential with the key in KEYFILE; prints the secured credential.
    Sign {
        /// Key file made by `consentry key new`.
        #[arg(long, value_name = "KEYFILE")]
        key: PathBuf,
        /// Envelope.
        #[arg(long, value_enum, default_value = "di")]
        format: Format,
        /// Signing time (proof `created` / JWT `iat`), RFC 3339; default now. Written in UTC with
        /// whole seconds (YYYY-MM-DDTHH:MM:SSZ).
        #[arg(long, value_name = "RFC3339")]
        created: Option<String>,
        /// The unsigned credential, or - for stdin.
        file: String,
    },
    /// Verify the proof of an eddsa-jcs-2022 document or a VC-JWT.
    Verify {
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Check the proof as of this instant instead of now (RFC 3339): proof `created`/`expires`,
        /// JWT `exp`/`nbf`/`iat`. A credential's own validFrom/validUntil are not checked here.
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// The secured credential, or - for stdin.
        file: String,
    },
}

pub(super) fn run(cmd: VcCommand) -> CliResult {
    match cmd {
        VcCommand::Sign {
            key,
            format,
            created,
            file,
        } => sign(&key, format, created.as_deref(), &file),
        VcCommand::Verify { json, at, file } => verify(json, at.as_deref(), &file),
    }
}

fn sign(key: &std::path::Path, format: Format, created: Option<&str>, file: &str) -> CliResult {
    let key = KeyFile::read(key).map_err(|e| CliError::usage(e.to_string()))?;
    let input = read_input(file)?;
    let doc = json::parse_strict(&input).map_err(|e| CliError::usage(format!("{file}: {e}")))?;
    let created = match created {
        Some(t) => parse_datetime_stamp(t).map_err(|e| CliError::usage(format!("--created: {e}")))?,
        None => crate::clock::Clock::now(&crate::clock::SystemClock),
    };
    match format {
        Format::Di => {
            let signed = data_integrity::create_proof(&doc, &key, created)
                .map_err(|e| CliError::usage(e.to_string()))?;
            print_json(&signed)?;
        }
        Format::Jwt => {
            let token = jwt::sign(&doc, &key, created).map_err(|e| CliError::usage(e.to_string()))?;
            outln!("{token}");
        }
    }
    Ok(())
}

fn verify(as_json: bool, at: Option<&str>, file: &str) -> CliResult {
    let now = clock_at(at)?.now();
    let input = read_input(file)?;
    match credential::verify(&input, now) {
        Ok(v) => {
            let issuer_note = if v.issuer_bound {
                "the issuer's own did:key signed"
            } else {
                "issuer is not a did:key: that the signer speaks for it is not established"
            };
            if as_json {
                print_json(&json!({
                    "valid": true,
                    "envelope": v.envelope.short_name(),
                    "signer": v.signer.as_str(),
                    "issuer": v.issuer,
                    "issuerBound": v.issuer_bound,
                    "signedAt": v.signed_at.map(format_utc_seconds),
                    "sha256": v.digest.to_hex(),
                }))?;
            } else {
                outln!(
                    "valid: {} proof by {} ({issuer_note})",
                    match v.envelope {
                        credential::Envelope::DataIntegrity => "eddsa-jcs-2022",
                        credential::Envelope::Jwt => "VC-JWT EdDSA",
                    },
                    v.signer
                );
            }
            Ok(())
        }
        Err(e) => {
            let reasons = vec![(e.code().to_owned(), e.to_string())];
            if as_json {
                print_json(&json!({"valid": false, "reasons": reasons_json(&reasons)}))?;
            }
            Err(CliError::Invalid(reasons))
        }
    }
}

/// `[{"code", "message"}]`.
pub(super) fn reasons_json(reasons: &[(String, String)]) -> serde_json::Value {
    reasons
        .iter()
        .map(|(c, m)| json!({"code": c, "message": m}))
        .collect()
}
