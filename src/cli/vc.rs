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
        /// Also check the credential's status entries against this BitstringStatusListCredential
        /// (downloaded from the entry's statusListCredential URL): the list must verify, be signed
        /// by the credential's own signer (or --status-issuer) and be the list the entry names; a set bit (revoked,
        /// suspended, an evaluation withdrawn) makes the credential invalid. Repeatable.
        #[arg(long, value_name = "FILE")]
        status_list: Vec<PathBuf>,
        /// Who must have signed the status lists (a did:key), when it is not the credential's own
        /// signer: for a grant, signed by the enterprise, it is the node's DID.
        #[arg(long, value_name = "DID")]
        status_issuer: Option<String>,
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
        VcCommand::Verify {
            json,
            at,
            status_list,
            status_issuer,
            file,
        } => verify(json, at.as_deref(), &status_list, status_issuer.as_deref(), &file),
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

/// Checks every status entry of `doc` that one of `lists` answers for: `(code, message)` for each
/// set bit or unusable list. An entry no list answers for is a usage error (the caller asked for a
/// status check and gave the wrong list).
fn status_problems(
    doc: &serde_json::Map<String, serde_json::Value>,
    signer: &str,
    lists: &[PathBuf],
    now: time::OffsetDateTime,
) -> Result<Vec<(String, String)>, CliError> {
    let entries: Vec<crate::status::StatusEntry> = match doc.get("credentialStatus") {
        None => vec![],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|e| serde_json::from_value(e.clone()))
            .collect::<Result<_, _>>()
            .map_err(|e| CliError::usage(format!("credentialStatus: {e}")))?,
        Some(e) => vec![
            serde_json::from_value(e.clone())
                .map_err(|e| CliError::usage(format!("credentialStatus: {e}")))?,
        ],
    };
    let mut problems = Vec::new();
    let mut answered = vec![false; entries.len()];
    for path in lists {
        let bytes = std::fs::read(path).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))?;
        let list = match credential::verify(&bytes, now) {
            Ok(l) => l,
            Err(e) => {
                problems.push(("status-list".to_owned(), format!("{}: {e}", path.display())));
                continue;
            }
        };
        if list.signer.as_str() != signer {
            problems.push((
                "status-list".to_owned(),
                format!(
                    "{} is signed by {}, not by the credential's signer",
                    path.display(),
                    list.signer
                ),
            ));
            continue;
        }
        let id = list
            .document
            .get("id")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("");
        let subject = list
            .document
            .get("credentialSubject")
            .cloned()
            .unwrap_or_default();
        for (i, entry) in entries.iter().enumerate() {
            if entry.status_list_credential != id
                || subject["statusPurpose"].as_str() != Some(entry.status_purpose.as_str())
            {
                continue;
            }
            answered[i] = true;
            let bit = entry.index().map_err(|e| e.to_string()).and_then(|index| {
                let encoded = subject["encodedList"].as_str().unwrap_or("");
                crate::status::Bitstring::decode(encoded, 1)
                    .and_then(|b| b.get(index))
                    .map_err(|e| e.to_string())
            });
            match bit {
                Ok(0) => {}
                Ok(_) => problems.push((
                    format!("status-{}", entry.status_purpose.as_str()),
                    format!(
                        "the {} bit at {} of {} is set",
                        entry.status_purpose.as_str(),
                        entry.status_list_index,
                        entry.status_list_credential
                    ),
                )),
                Err(e) => problems.push(("status-list".to_owned(), format!("{}: {e}", path.display()))),
            }
        }
    }
    if !lists.is_empty() {
        if let Some(i) = answered.iter().position(|a| !a) {
            return Err(CliError::usage(format!(
                "no --status-list given is the {} list {}",
                entries[i].status_purpose.as_str(),
                entries[i].status_list_credential
            )));
        }
    }
    Ok(problems)
}

fn verify(as_json: bool, at: Option<&str>, lists: &[PathBuf], issuer: Option<&str>, file: &str) -> CliResult {
    let now = clock_at(at)?.now();
    let input = read_input(file)?;
    let checked = credential::verify(&input, now).map_err(|e| (e.code().to_owned(), e.to_string()));
    let checked = match checked {
        Ok(v) => match status_problems(&v.document, issuer.unwrap_or(v.signer.as_str()), lists, now)? {
            p if p.is_empty() => Ok(v),
            p => Err(p),
        },
        Err(one) => Err(vec![one]),
    };
    match checked {
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
        Err(reasons) => {
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
