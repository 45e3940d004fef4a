//! `consentry grant new` and `consentry grant verify`.

use clap::{Args, Subcommand};
use serde_json::json;
use time::Duration;

use super::vc::reasons_json;
use super::{CliError, CliResult, clock_at, print_json, read_input};
use crate::catalog::Catalog;
use crate::credential::datetime::{format_utc_seconds, parse_datetime_stamp};
use crate::grant::model::{
    CategoryGrant, DataPeriod, Enterprise, Grantee, GranteeRole, Granularity, LetterRef, OnwardRecipient,
    RatePeriod, RecipientRole, Usage,
};
use crate::grant::summary::summarize;
use crate::grant::{self, GrantDraft, GrantTerms, StatusSlot};
use crate::ids::GrantId;

#[derive(Debug, Subcommand)]
pub(super) enum GrantCommand {
    /// Build an unsigned grant from flags, check every rule, print it as JSON.
    New(Box<NewArgs>),
    /// Verify a signed grant (either envelope): proof and every grant rule; prints a bilingual summary.
    Verify {
        /// Verify as of this instant instead of now (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        at: Option<String>,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// The signed grant, or - for stdin.
        file: String,
    },
}

#[derive(Debug, Args)]
pub(super) struct NewArgs {
    /// The enterprise's Unified Social Credit Code.
    #[arg(long, value_name = "USCC")]
    enterprise: String,
    /// The enterprise's registered name.
    #[arg(long, value_name = "NAME")]
    enterprise_name: String,
    /// The enterprise's did:key (the issuer, whose key will sign).
    #[arg(long, value_name = "DID")]
    issuer: String,
    /// The grantee's Unified Social Credit Code.
    #[arg(long, value_name = "USCC")]
    grantee: String,
    /// The grantee's name.
    #[arg(long, value_name = "NAME")]
    grantee_name: String,
    /// The grantee's role.
    #[arg(long, value_name = "ROLE", default_value = "platform", value_parser = ["platform", "node"])]
    grantee_role: String,
    /// A category for the grantee, CODE or CODE=raw|derived (default derived). Repeat for more.
    #[arg(long = "category", value_name = "CODE[=GRANULARITY]", required = true)]
    categories: Vec<String>,
    /// An onward bank: USCC:NAME:CODE=GRANULARITY[,CODE=GRANULARITY…]. Repeat for more.
    #[arg(long = "bank", value_name = "USCC:NAME:CATEGORIES")]
    banks: Vec<String>,
    /// A financing purpose code (see `consentry catalog purposes`). Repeat for more.
    #[arg(long = "purpose", value_name = "CODE", required = true)]
    purposes: Vec<String>,
    /// First day of the records covered, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    data_from: String,
    /// Last day of the records covered, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    data_until: String,
    /// Start of validity (RFC 3339); default now.
    #[arg(long, value_name = "RFC3339")]
    valid_from: Option<String>,
    /// End of validity (RFC 3339); default --valid-days after the start.
    #[arg(long, value_name = "RFC3339", conflicts_with = "valid_days")]
    valid_until: Option<String>,
    /// Days of validity when --valid-until is not given.
    #[arg(long, value_name = "DAYS", default_value_t = 365)]
    valid_days: i64,
    /// Periodic use, N/PERIOD with PERIOD day, week or month (e.g. 4/month); default one-off.
    #[arg(long, value_name = "N/PERIOD")]
    periodic: Option<String>,
    /// Cite this letter (ID like STA/1) instead of the provider's current one. Repeat for more.
    #[arg(long = "letter", value_name = "ID")]
    letters: Vec<String>,
    /// The status-list pair the node allocated: base URL (…/status/N).
    #[arg(long, value_name = "URL")]
    status_list: String,
    /// The index the node allocated in that list pair.
    #[arg(long, value_name = "N")]
    status_index: u64,
    /// Credential id (urn:uuid:…); default a fresh random one.
    #[arg(long, value_name = "URN")]
    id: Option<String>,
}

pub(super) fn run(cmd: GrantCommand, catalog: &Catalog) -> CliResult {
    match cmd {
        GrantCommand::New(args) => new(*args, catalog),
        GrantCommand::Verify { at, json, file } => verify(at.as_deref(), json, &file, catalog),
    }
}

fn category(spec: &str) -> Result<CategoryGrant, CliError> {
    let (code, gran) = spec.split_once('=').unwrap_or((spec, "derived"));
    let granularity = match gran {
        "raw" => Granularity::Raw,
        "derived" => Granularity::Derived,
        other => {
            return Err(CliError::usage(format!(
                "granularity {other:?} in {spec:?}: use raw or derived"
            )));
        }
    };
    Ok(CategoryGrant {
        code: code.to_owned(),
        granularity,
    })
}

fn bank(spec: &str) -> Result<OnwardRecipient, CliError> {
    let mut parts = spec.splitn(3, ':');
    let (Some(uscc), Some(name), Some(cats)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(CliError::usage(format!(
            "--bank {spec:?}: expected USCC:NAME:CODE=GRANULARITY[,…]"
        )));
    };
    let categories = cats
        .split(',')
        .filter(|s| !s.is_empty())
        .map(category)
        .collect::<Result<_, _>>()?;
    Ok(OnwardRecipient {
        uscc: uscc.to_owned(),
        name: name.to_owned(),
        role: RecipientRole::Bank,
        categories,
    })
}

fn usage(periodic: Option<&str>) -> Result<Usage, CliError> {
    let Some(spec) = periodic else {
        return Ok(Usage::OneOff {});
    };
    let err = || CliError::usage(format!("--periodic {spec:?}: expected N/day, N/week or N/month"));
    let (n, per) = spec.split_once('/').ok_or_else(err)?;
    let per = match per {
        "day" => RatePeriod::Day,
        "week" => RatePeriod::Week,
        "month" => RatePeriod::Month,
        _ => return Err(err()),
    };
    Ok(Usage::Periodic {
        max_releases: n.parse().map_err(|_| err())?,
        per,
    })
}

fn new(a: NewArgs, catalog: &Catalog) -> CliResult {
    let id = match a.id {
        Some(s) => GrantId::parse(&s).map_err(|e| CliError::usage(e.to_string()))?,
        None => GrantId::random(),
    };
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let valid_from = match &a.valid_from {
        Some(t) => parse_datetime_stamp(t).map_err(|e| CliError::usage(format!("--valid-from: {e}")))?,
        None => now.replace_nanosecond(0).unwrap_or(now),
    };
    let valid_until = match &a.valid_until {
        Some(t) => parse_datetime_stamp(t).map_err(|e| CliError::usage(format!("--valid-until: {e}")))?,
        None => valid_from + Duration::days(a.valid_days),
    };
    let letters = a
        .letters
        .iter()
        .map(|id| {
            catalog
                .letter(id)
                .map(|(_, d)| LetterRef {
                    id: id.clone(),
                    sha256: d.to_hex(),
                })
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--letter {id}: no such letter (see `consentry catalog letters`)"
                    ))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let terms = GrantTerms {
        enterprise: Enterprise {
            uscc: a.enterprise,
            name: a.enterprise_name,
        },
        grantee: Grantee {
            uscc: a.grantee,
            name: a.grantee_name,
            role: if a.grantee_role == "node" {
                GranteeRole::Node
            } else {
                GranteeRole::Platform
            },
        },
        onward_recipients: a.banks.iter().map(|b| bank(b)).collect::<Result<_, _>>()?,
        categories: a
            .categories
            .iter()
            .map(|c| category(c))
            .collect::<Result<_, _>>()?,
        purposes: a.purposes,
        data_period: DataPeriod {
            from: a.data_from,
            until: a.data_until,
        },
        usage: usage(a.periodic.as_deref())?,
        letters,
        catalog_version: None,
    };
    let mut draft = GrantDraft {
        id,
        issuer: a.issuer,
        terms,
        valid_from,
        valid_until,
        status: StatusSlot {
            base: a.status_list,
            index: a.status_index,
        },
    };
    let added = draft.attach_current_letters(catalog);
    let credential = draft.to_credential();
    grant::check_unsigned(&credential, catalog).map_err(|e| CliError::Invalid(e.reasons()))?;
    for id in &added {
        eprintln!(
            "attached authorization letter {id}: read it with `consentry catalog letter {id}` before signing"
        );
    }
    print_json(&credential)?;
    Ok(())
}

fn verify(at: Option<&str>, as_json: bool, file: &str, catalog: &Catalog) -> CliResult {
    let now = clock_at(at)?.now();
    let input = read_input(file)?;
    match grant::verify(&input, catalog, now) {
        Ok(g) => {
            let summary = summarize(g.terms(), g.valid_from(), g.valid_until(), catalog);
            if as_json {
                print_json(&json!({
                    "valid": true,
                    "id": g.id().as_str(),
                    "sha256": g.digest().to_hex(),
                    "envelope": g.envelope().short_name(),
                    "signer": g.signer().as_str(),
                    "enterprise": g.enterprise().as_str(),
                    "validFrom": format_utc_seconds(g.valid_from()),
                    "validUntil": format_utc_seconds(g.valid_until()),
                    "terms": g.terms(),
                    "summary": summary,
                }))?;
            } else {
                outln!("valid grant {} signed by {}", g.id(), g.signer());
                outln!("sha256 {}", g.digest());
                outln!("(revocation and suspension are checked by the node on every request)\n");
                out!("{summary}");
            }
            Ok(())
        }
        Err(e) => {
            let reasons = e.reasons();
            if as_json {
                print_json(&json!({"valid": false, "reasons": reasons_json(&reasons)}))?;
            }
            Err(CliError::Invalid(reasons))
        }
    }
}
