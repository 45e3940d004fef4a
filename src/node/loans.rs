//! Loan outcomes at the node (`spec/loans.md`; the measures §10): a bank's signed report, relayed
//! by its platform, is checked and recorded; loans are listed by role; the loan figures are read
//! from the monthly rollups.
//!
//! [`report`] runs the steps of `spec/loans.md` §3, each with its error, and writes nothing unless
//! every step passes:
//! 1. the caller is an active platform (`403 forbidden`);
//! 2. the body is `{"request": <consentry-request+jwt>}` and the request verifies, action
//!    `loan-report`, addressed to this node (`400 signed-request`);
//! 3. the signer is the current key of an active bank registered by the calling platform
//!    (`403 forbidden`);
//! 4. the `report` claim parses and is well formed (`400`, the first reason's code, every reason in
//!    the detail: [`crate::loan::LoanReport::check`]);
//! 5. the report id is new for this bank (`409 report-conflict`, `duplicate-report-id`);
//! 6. the grant exists and is the enterprise's (`403 report-refused`, `unknown-grant`), and every
//!    cited log index is a release under that grant to that enterprise on behalf of this bank
//!    (`403 report-refused`, `no-release-under-grant` / `release-not-under-grant`);
//! 7. the event follows the loan so far (`409 report-conflict`, `loan-event-out-of-order`);
//! 8. in one transaction: the loan and the report rows, the `loan-report` log entry (subject the
//!    enterprise, caller the bank, the grant cited), the monthly rollup, and both assertions' ids.

use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::loans::{self as answer, LoanReportAnswer, LoanReportLine};
use super::answers::stats::{EnterpriseCountRow, EnterpriseCounts, LoanFigureRow, LoanFigures};
use super::answers::{Page, Paged};
use super::{Caller, Node};
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::loan::{Loan, LoanEvent, LoanReport, LoanState, parse_day};
use crate::log::entry::{AccessRecord, EntryKind, GrantRef, PartyRef, Reason};
use crate::policy::{ParticipantState, Role};
use crate::region::Regions;
use crate::storage::loans::{self as store, LoanCounts, LoanFilter, NewLoan, NewReport, RollupKey};
use crate::storage::log_store::NewEntry;
use crate::storage::{grants, industries, participants};

/// The signed request's action.
pub const ACTION: &str = "loan-report";

/// The body of `POST /v1/loan-reports` (at the node, and at a platform).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The bank's signed request (`consentry-request+jwt`, action `loan-report`, claim `report`).
    pub request: String,
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        message: message.into(),
    }
}

fn refused(conflict: bool, code: &str, message: impl Into<String>) -> Error {
    Error::Report {
        conflict,
        reasons: vec![reason(code, message)],
    }
}

/// The calendar day (CST) of `ms`.
fn cst_date(ms: i64) -> time::Date {
    let day = crate::storage::stats::cst_day(ms);
    let julian = i32::try_from(day.saturating_add(2_440_588)).unwrap_or(i32::MAX);
    time::Date::from_julian_day(julian).unwrap_or(time::Date::MIN)
}

/// Steps 2 and 4: the verified request and its well-formed report.
fn read(node: &Node, token: &str) -> Result<(crate::node::auth::SignedRequest, LoanReport)> {
    let now = node.clock.now();
    let req = super::auth::verify_request(token, ACTION, &node.audience(), now, &node.keys)?;
    let raw = req
        .claims
        .get("report")
        .cloned()
        .ok_or_else(|| Error::invalid("signed-request", "claim report is missing"))?;
    let report: LoanReport =
        serde_json::from_value(raw).map_err(|e| Error::invalid("invalid-report", format!("report: {e}")))?;
    let problems = report.check(cst_date(node.now_ms()));
    if let Some(first) = problems.first() {
        let all: Vec<String> = problems
            .iter()
            .map(|p| format!("{} ({})", p.message, p.code))
            .collect();
        return Err(Error::invalid(first.code, all.join("; ")));
    }
    Ok((req, report))
}

fn enum_word<T: serde::Serialize>(v: &T) -> Option<String> {
    serde_json::to_value(v).ok()?.as_str().map(str::to_owned)
}

/// Records a bank's loan report relayed by the calling platform (the steps in the module doc).
pub async fn report(node: &Node, caller: &Caller, body: ReportBody) -> Result<LoanReportAnswer> {
    caller.require(&[Role::Platform])?;
    let token = body.request;
    let (req, report) = read(node, &token)?;
    let platform = caller.uscc().to_owned();
    let a = caller.assertion.clone();
    let evidence_sha = Sha256Digest::of(token.as_bytes()).to_hex();
    let region = Regions::jiangsu().key_of(&report.enterprise).to_owned();
    let recorded = node
        .committer
        .run(move |tx| -> Result<_> {
            // Step 3: the signer is the current key of an active bank of this platform.
            let signer = req.signer.as_str().to_owned();
            let bank = match participants::find_by_did(tx.conn, &signer)? {
                Some((p, k))
                    if p.role == Role::Bank
                        && p.state == ParticipantState::Active
                        && k.valid_until.is_none()
                        && p.platform_uscc.as_deref() == Some(platform.as_str()) =>
                {
                    p.uscc
                }
                _ => {
                    return Err(Error::Forbidden(format!(
                        "{signer} is not the current key of an active bank registered by {platform}"
                    )));
                }
            };
            // Step 5.
            if store::report_exists(tx.conn, &bank, &report.report_id)? {
                return Err(refused(
                    true,
                    "duplicate-report-id",
                    format!("{bank} already sent a report with id {}", report.report_id),
                ));
            }
            // Step 6.
            let grant = grants::get(tx.conn, &report.grant)?
                .filter(|g| g.enterprise_uscc == report.enterprise)
                .ok_or_else(|| {
                    refused(
                        false,
                        "unknown-grant",
                        format!("{} is not a grant of {}", report.grant, report.enterprise),
                    )
                })?;
            let cited: Vec<i64> = report
                .releases
                .iter()
                .map(|&i| i64::try_from(i).unwrap_or(i64::MAX))
                .collect();
            let found = store::releases_to_bank(tx.conn, &grant.id, &report.enterprise, &bank, &cited)?;
            if found.is_empty() {
                return Err(refused(
                    false,
                    "no-release-under-grant",
                    format!(
                        "{bank} received no data of {} under grant {} at the cited entries",
                        report.enterprise, grant.id
                    ),
                ));
            }
            let missing: Vec<Reason> = cited
                .iter()
                .filter(|i| !found.contains(i))
                .map(|i| {
                    reason(
                        "release-not-under-grant",
                        format!(
                            "log entry {i} is not a release to {bank} under grant {}",
                            grant.id
                        ),
                    )
                })
                .collect();
            if !missing.is_empty() {
                return Err(Error::Report {
                    conflict: false,
                    reasons: missing,
                });
            }
            // Step 7.
            let day =
                parse_day(report.event.on()).ok_or_else(|| Error::invalid("invalid-date", "event.on"))?;
            let existing = store::find(tx.conn, &bank, &report.loan)?;
            if let Some(l) = &existing {
                if l.enterprise_uscc != report.enterprise {
                    return Err(refused(
                        true,
                        "loan-of-another-enterprise",
                        format!(
                            "loan {} of {bank} is {}'s, not {}'s",
                            report.loan, l.enterprise_uscc, report.enterprise
                        ),
                    ));
                }
            }
            let before = existing
                .as_ref()
                .map(|l| -> Result<Loan> {
                    Ok(Loan {
                        state: LoanState::parse(&l.state)
                            .ok_or_else(|| Error::Internal(format!("stored loan state {:?}", l.state)))?,
                        approved: l.approved_amount,
                        disbursed: l.disbursed,
                        balance: l.balance,
                        last_on: parse_day(&l.last_on)
                            .ok_or_else(|| Error::Internal(format!("stored loan day {:?}", l.last_on)))?,
                    })
                })
                .transpose()?;
            let (after, delta) = LoanState::after(before.as_ref(), &report.event, day)
                .map_err(|p| refused(true, p.code, p.message))?;
            // Step 8.
            tx.consume_assertion(&a)?;
            tx.consume_assertion(&req)?;
            let now = tx.now();
            let outcome = report.event.outcome();
            let report_json = serde_json::to_value(&report).map_err(|e| Error::Internal(e.to_string()))?;
            let digest = Sha256Digest::from_hex(&grant.sha256).unwrap_or(Sha256Digest([0; 32]));
            let appended = tx.append(NewEntry {
                kind: EntryKind::LoanReport,
                enterprise: Some(report.enterprise.clone()),
                grant: Some((grant.id.clone(), digest)),
                caller: Some(bank.clone()),
                platform: Some(platform.clone()),
                bank: Some(bank.clone()),
                categories: None,
                decision: Some(outcome.into()),
                record: AccessRecord {
                    enterprise: Some(report.enterprise.clone()),
                    caller: Some(PartyRef {
                        uscc: bank.clone(),
                        role: Role::Bank.as_str().into(),
                        did: Some(signer.clone()),
                    }),
                    platform: Some(platform.clone()),
                    bank: Some(bank.clone()),
                    grant: Some(GrantRef {
                        id: grant.id.clone(),
                        sha256: grant.sha256.clone(),
                    }),
                    decision: Some(outcome.into()),
                    request_id: Some(report.report_id.clone()),
                    detail: Some(json!({
                        "report": report_json,
                        "requestSha256": evidence_sha,
                    })),
                    ..Default::default()
                },
            })?;
            let log_index =
                i64::try_from(appended.seq).map_err(|_| Error::Internal("log index beyond i64".into()))?;
            // A loan counts under the industry section its borrower had when it was first reported,
            // so that its balance stays in one row of the figures.
            let industry = match &existing {
                Some(l) => l.industry.clone(),
                None => crate::industry::key_of(industries::of(tx.conn, &report.enterprise)?.as_deref())
                    .to_owned(),
            };
            let loan_id = match &existing {
                Some(l) => {
                    store::update_loan(
                        tx.conn,
                        l.id,
                        after.state.as_str(),
                        after.disbursed,
                        after.balance,
                        report.event.on(),
                        now,
                    )?;
                    l.id
                }
                None => {
                    let (term, band, security, first) = match &report.event {
                        LoanEvent::Decision {
                            term_months,
                            rate_band,
                            security,
                            first_loan,
                            ..
                        } => (
                            *term_months,
                            rate_band.as_ref().and_then(enum_word),
                            security.as_ref().and_then(enum_word),
                            *first_loan,
                        ),
                        _ => (None, None, None, None),
                    };
                    store::insert_loan(
                        tx.conn,
                        &NewLoan {
                            bank_uscc: &bank,
                            loan_ref: &report.loan,
                            enterprise_uscc: &report.enterprise,
                            platform_uscc: &platform,
                            region: &region,
                            state: after.state.as_str(),
                            approved_amount: after.approved,
                            disbursed: after.disbursed,
                            balance: after.balance,
                            term_months: term,
                            rate_band: band.as_deref(),
                            security: security.as_deref(),
                            first_loan: first,
                            last_on: report.event.on(),
                            created_at: now,
                            updated_at: now,
                            industry: &industry,
                        },
                    )?
                }
            };
            store::insert_report(
                tx.conn,
                &NewReport {
                    bank_uscc: &bank,
                    report_id: &report.report_id,
                    loan_id,
                    outcome,
                    event_on: report.event.on(),
                    report: &report_json.to_string(),
                    evidence: &token,
                    log_index,
                    created_at: now,
                },
            )?;
            let month = &report.event.on()[..7];
            store::bump(
                tx.conn,
                &RollupKey {
                    month: month.to_owned(),
                    region: region.clone(),
                    industry,
                    platform: platform.clone(),
                    bank: bank.clone(),
                },
                &LoanCounts::of(&report.event, &delta),
            )?;
            Ok((report, bank, grant.id, grant.sha256, outcome, after, appended))
        })
        .await?;
    let (report, bank, grant, grant_sha256, outcome, after, appended) = recorded;
    let leaf_hash = hex::encode(appended.leaf_hash);
    let receipt = super::receipts::promise(node, appended.seq, &leaf_hash, appended.leaf.time_ms);
    Ok(LoanReportAnswer {
        report_id: report.report_id,
        loan: report.loan,
        enterprise: report.enterprise,
        bank,
        grant,
        grant_sha256,
        outcome: outcome.to_owned(),
        state: after.state,
        approved_amount: after.approved,
        disbursed: after.disbursed,
        balance: after.balance,
        log_index: appended.seq,
        leaf_hash,
        receipt,
    })
}

/// The query of `GET /v1/loans`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoansQuery {
    /// Only this enterprise's loans.
    pub enterprise: Option<String>,
    /// Only this bank's loans.
    pub bank: Option<String>,
    /// Loans after this cursor (from `next`).
    pub after: Option<i64>,
    /// At most this many (1–200, default 50).
    pub limit: Option<i64>,
}

/// Loans the caller may see, with their reports: a regulator or the node's operator every loan, a
/// platform those reported through it, a bank its own, an enterprise its own. A filter outside the
/// caller's own scope answers nothing rather than another participant's loans.
pub async fn list(node: &Node, caller: &Caller, q: LoansQuery) -> Result<Paged<answer::Loan>> {
    caller.require(&[
        Role::Node,
        Role::Regulator,
        Role::Platform,
        Role::Bank,
        Role::Enterprise,
    ])?;
    let page = Page::parse(q.after, q.limit)?;
    let me = caller.uscc().to_owned();
    let mut f = LoanFilter {
        enterprise: q.enterprise,
        bank: q.bank,
        platform: None,
    };
    match caller.role {
        Role::Platform => f.platform = Some(me),
        Role::Bank => {
            if f.bank.as_ref().is_some_and(|b| *b != me) {
                return Err(Error::Forbidden("a bank sees its own loans only".into()));
            }
            f.bank = Some(me);
        }
        Role::Enterprise => {
            if f.enterprise.as_ref().is_some_and(|e| *e != me) {
                return Err(Error::Forbidden("an enterprise sees its own loans only".into()));
            }
            f.enterprise = Some(me);
        }
        _ => {}
    }
    let rows = node
        .store
        .call(move |c| store::list(c, &f, page.after, page.limit))
        .await?;
    let next = Page::next(page.limit, &rows, |(l, _)| l.id);
    let items = rows
        .into_iter()
        .map(|(l, reports)| -> Result<answer::Loan> {
            Ok(answer::Loan {
                region_name: Regions::jiangsu().name_of_key(&l.region).to_owned(),
                industry_name: crate::industry::name_of_key(node.industries.as_deref(), &l.industry)
                    .to_owned(),
                state: LoanState::parse(&l.state)
                    .ok_or_else(|| Error::Internal(format!("stored loan state {:?}", l.state)))?,
                bank: l.bank_uscc,
                loan: l.loan_ref,
                enterprise: l.enterprise_uscc,
                platform: l.platform_uscc,
                region: l.region,
                industry: l.industry,
                approved_amount: l.approved_amount,
                disbursed: l.disbursed,
                balance: l.balance,
                term_months: l.term_months,
                rate_band: l.rate_band,
                security: l.security,
                first_loan: l.first_loan,
                last_event_on: l.last_on,
                reports: reports
                    .into_iter()
                    .map(|r| LoanReportLine {
                        event: serde_json::from_str::<Value>(&r.report)
                            .map(|v| v["event"].clone())
                            .unwrap_or(Value::Null),
                        report_id: r.report_id,
                        outcome: r.outcome,
                        on: r.event_on,
                        log_index: r.log_index,
                    })
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Paged { items, next })
}

/// The query of `GET /v1/stats/loans`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FiguresQuery {
    /// First month, `YYYY-MM` (default: the month 11 months before `until`).
    pub from: Option<String>,
    /// Last month, `YYYY-MM` (default: this month, CST).
    pub until: Option<String>,
    /// Comma-separated dimensions among `month`, `region`, `industry`, `platform`, `bank` (default
    /// `month,region`; empty: one total row).
    pub group_by: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// A dimension of the loan figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// The event's month (CST).
    Month,
    /// The borrower's 设区市.
    Region,
    /// The borrower's industry section (GB/T 4754, `crate::industry`; `unclassified` when not known), as when
    /// its loan was first reported.
    Industry,
    /// The platform the report came through.
    Platform,
    /// The reporting bank.
    Bank,
}

impl Dim {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "month" => Some(Self::Month),
            "region" => Some(Self::Region),
            "industry" => Some(Self::Industry),
            "platform" => Some(Self::Platform),
            "bank" => Some(Self::Bank),
            _ => None,
        }
    }

    /// The dimensions of a `groupBy` value (comma-separated, each at most once, each one of
    /// `allowed`; empty: none), else `400 invalid-stats-query` naming what is allowed.
    pub fn list(group_by: &str, allowed: &[Dim]) -> Result<Vec<Dim>> {
        let bad = |m: String| Error::invalid("invalid-stats-query", m);
        let mut dims = Vec::new();
        for d in group_by.split(',').filter(|s| !s.is_empty()) {
            let dim = Self::parse(d).filter(|x| allowed.contains(x)).ok_or_else(|| {
                let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
                bad(format!("groupBy: unknown dimension {d:?} ({})", names.join(", ")))
            })?;
            if dims.contains(&dim) {
                return Err(bad(format!("groupBy: {d} twice")));
            }
            dims.push(dim);
        }
        Ok(dims)
    }

    /// The dimension's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Month => "month",
            Self::Region => "region",
            Self::Industry => "industry",
            Self::Platform => "platform",
            Self::Bank => "bank",
        }
    }
}

fn month_ok(s: &str) -> bool {
    s.len() == 7 && parse_day(&format!("{s}-01")).is_some()
}

/// The month `n` months before `m` (`YYYY-MM`).
fn months_before(m: &str, n: i32) -> String {
    let (y, mo) = (
        m[..4].parse::<i32>().unwrap_or(2000),
        m[5..].parse::<i32>().unwrap_or(1),
    );
    let total = y * 12 + (mo - 1) - n;
    format!("{:04}-{:02}", total.div_euclid(12), total.rem_euclid(12) + 1)
}

/// One row of the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureRow {
    /// The row's value of each requested dimension, in the order asked.
    pub key: Vec<String>,
    /// The counts of the period (or of the month, when grouped by month).
    pub counts: LoanCounts,
    /// Yuan outstanding at the end of the row's month (grouped by month) or of the period:
    /// everything paid out minus everything repaid, from the first report on.
    pub balance: i64,
}

/// The loan figures (`spec/loans.md` §4) from the monthly rollups: a regulator or the node's
/// operator sees every platform and bank, a platform only its own reports, a bank only its own.
pub async fn figures(
    node: &Node,
    caller: &Caller,
    q: &FiguresQuery,
) -> Result<(Vec<Dim>, String, String, Vec<FigureRow>)> {
    caller.require(&[Role::Node, Role::Regulator, Role::Platform, Role::Bank])?;
    figures_as(node, caller.role, caller.uscc(), q).await
}

/// [`figures`] for a caller of `role` with code `me`, already authorized (the regulator's pages).
pub async fn figures_as(
    node: &Node,
    role: Role,
    me: &str,
    q: &FiguresQuery,
) -> Result<(Vec<Dim>, String, String, Vec<FigureRow>)> {
    let bad = |m: String| Error::invalid("invalid-stats-query", m);
    let this_month = cst_date(node.now_ms()).to_string()[..7].to_owned();
    let until = q.until.clone().unwrap_or(this_month);
    if !month_ok(&until) {
        return Err(bad(format!("until={until:?}: a month, YYYY-MM")));
    }
    let from = q.from.clone().unwrap_or_else(|| months_before(&until, 11));
    if !month_ok(&from) || from > until {
        return Err(bad(format!("from={from:?}: a month, YYYY-MM, not after until")));
    }
    let dims = Dim::list(
        q.group_by.as_deref().unwrap_or("month,region"),
        &[Dim::Month, Dim::Region, Dim::Industry, Dim::Platform, Dim::Bank],
    )?;
    let me = me.to_owned();
    let scope = role;
    let u = until.clone();
    let all = node.store.call(move |c| store::rollups(c, "0000-01", &u)).await?;
    let by_month = dims.contains(&Dim::Month);
    // Per key: the counts in the period, and the running balance.
    let mut out: std::collections::BTreeMap<Vec<String>, (LoanCounts, i64)> = Default::default();
    // Balances run per key without the month; rows arrive ordered by month first.
    let mut running: std::collections::BTreeMap<Vec<String>, i64> = Default::default();
    for (k, c) in all {
        let visible = match scope {
            Role::Platform => k.platform == me,
            Role::Bank => k.bank == me,
            _ => true,
        };
        if !visible {
            continue;
        }
        let month = k.month.clone();
        let value = |d: Dim| match d {
            Dim::Month => k.month.clone(),
            Dim::Region => k.region.clone(),
            Dim::Industry => k.industry.clone(),
            Dim::Platform => k.platform.clone(),
            Dim::Bank => k.bank.clone(),
        };
        let static_key: Vec<String> = dims
            .iter()
            .filter(|d| **d != Dim::Month)
            .map(|d| value(*d))
            .collect();
        let bal = running.entry(static_key).or_insert(0);
        *bal += c.outstanding();
        let balance_now = *bal;
        let key: Vec<String> = dims.iter().map(|d| value(*d)).collect();
        if by_month {
            if month < from {
                continue;
            }
            let e = out.entry(key).or_default();
            e.0.add(&c);
            e.1 = balance_now;
        } else {
            let e = out.entry(key).or_default();
            if month >= from {
                e.0.add(&c);
            }
        }
    }
    if !by_month {
        // The balance at the end of the period, per key.
        for (key, v) in &mut out {
            v.1 = running.get(key).copied().unwrap_or(0);
        }
    }
    let rows = out
        .into_iter()
        .map(|(key, (counts, balance))| FigureRow { key, counts, balance })
        .collect();
    Ok((dims, from, until, rows))
}

/// The credit-loan share of approved amounts, `credit / approved` rounded to 4 decimals (`None`
/// when nothing was approved).
pub fn credit_share(c: &LoanCounts) -> Option<f64> {
    // Exact integer rounding, then one division: the figure is reproducible across platforms.
    c.credit_share_bp().map(|bp| bp as f64 / 10_000.0)
}

/// The figures as JSON (`LoanFigures`; industry names from `industries`, the node's table).
pub fn figures_json(
    dims: &[Dim],
    from: &str,
    until: &str,
    rows: &[FigureRow],
    industries: Option<&crate::industry::Industries>,
) -> LoanFigures {
    let regions = Regions::jiangsu();
    LoanFigures {
        from: from.to_owned(),
        until: until.to_owned(),
        group_by: dims.iter().map(|d| d.as_str()).collect(),
        rows: rows
            .iter()
            .map(|r| {
                let mut row = LoanFigureRow {
                    counts: r.counts,
                    credit_share: credit_share(&r.counts),
                    balance: r.balance,
                    ..Default::default()
                };
                for (d, k) in dims.iter().zip(&r.key) {
                    let k = Some(k.clone());
                    match d {
                        Dim::Month => row.month = k,
                        Dim::Region => {
                            row.region_name = k.as_deref().map(|k| regions.name_of_key(k).to_owned());
                            row.region = k;
                        }
                        Dim::Industry => {
                            row.industry_name = k
                                .as_deref()
                                .map(|k| crate::industry::name_of_key(industries, k).to_owned());
                            row.industry = k;
                        }
                        Dim::Platform => row.platform = k,
                        Dim::Bank => row.bank = k,
                    }
                }
                row
            })
            .collect(),
    }
}

/// The figures as RFC 4180 CSV (header row first; CRLF line ends; text cells quoted and
/// neutralized as every CSV of the node, [`super::stats::Csv`]; industry names from `industries`,
/// the node's table).
pub fn figures_csv(
    dims: &[Dim],
    rows: &[FigureRow],
    industries: Option<&crate::industry::Industries>,
) -> String {
    let regions = Regions::jiangsu();
    let mut head: Vec<&str> = Vec::new();
    for d in dims {
        head.push(d.as_str());
        match d {
            Dim::Region => head.push("regionName"),
            Dim::Industry => head.push("industryName"),
            _ => {}
        }
    }
    head.extend([
        "applications",
        "approvals",
        "approvedAmount",
        "creditApprovals",
        "creditAmount",
        "creditShare",
        "firstLoans",
        "disbursed",
        "repaid",
        "overdueEvents",
        "defaults",
        "defaulted",
        "balance",
    ]);
    let mut out = super::stats::Csv::new(&head);
    for r in rows {
        let mut cells: Vec<String> = Vec::new();
        for (d, k) in dims.iter().zip(&r.key) {
            cells.push(k.clone());
            match d {
                Dim::Region => cells.push(regions.name_of_key(k).to_owned()),
                Dim::Industry => cells.push(crate::industry::name_of_key(industries, k).to_owned()),
                _ => {}
            }
        }
        let c = &r.counts;
        cells.extend([
            c.applications.to_string(),
            c.approvals.to_string(),
            c.approved_amount.to_string(),
            c.credit_approvals.to_string(),
            c.credit_amount.to_string(),
            credit_share(c).map(|s| format!("{s:.4}")).unwrap_or_default(),
            c.first_loans.to_string(),
            c.disbursed.to_string(),
            c.repaid.to_string(),
            c.overdue_events.to_string(),
            c.defaults.to_string(),
            c.defaulted.to_string(),
            r.balance.to_string(),
        ]);
        out.row(&cells.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out.finish()
}

/// The query of `GET /v1/stats/enterprises`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EnterprisesQuery {
    /// Comma-separated dimensions among `region` and `industry` (default `region`; empty: one
    /// total row).
    pub group_by: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

/// Active registered enterprises counted by 设区市 and/or industry section: the dimensions asked
/// (each `region` or `industry`) and the rows, each its key in that order and its count, sorted by
/// key. Enterprises registered outside Jiangsu count under [`crate::region::OUTSIDE`], those without
/// an industry under [`crate::industry::UNCLASSIFIED`]. Regulators and the node's operator.
pub async fn enterprises(
    node: &Node,
    caller: &Caller,
    q: &EnterprisesQuery,
) -> Result<(Vec<Dim>, Vec<(Vec<String>, i64)>)> {
    caller.require(&[Role::Node, Role::Regulator])?;
    let dims = Dim::list(
        q.group_by.as_deref().unwrap_or("region"),
        &[Dim::Region, Dim::Industry],
    )?;
    let rows = node
        .store
        .call(|c| Ok::<_, Error>(industries::enterprises_by_city_prefix_and_section(c)?))
        .await?;
    let regions = Regions::jiangsu();
    let mut out: std::collections::BTreeMap<Vec<String>, i64> = Default::default();
    for (head, section, n) in rows {
        let region = regions
            .prefecture_of_division(&format!("{head}00"))
            .map_or(crate::region::OUTSIDE, |d| d.code.as_str());
        let key = dims
            .iter()
            .map(|d| match d {
                Dim::Region => region.to_owned(),
                _ => section.clone(),
            })
            .collect();
        *out.entry(key).or_default() += n;
    }
    Ok((dims, out.into_iter().collect()))
}

/// [`enterprises`] as JSON (`EnterpriseCounts`): `total` and a row per key with its names.
pub fn enterprises_json(
    dims: &[Dim],
    rows: &[(Vec<String>, i64)],
    industries: Option<&crate::industry::Industries>,
) -> EnterpriseCounts {
    let regions = Regions::jiangsu();
    EnterpriseCounts {
        group_by: dims.iter().map(|d| d.as_str()).collect(),
        total: rows.iter().map(|r| r.1).sum::<i64>(),
        rows: rows
            .iter()
            .map(|(key, n)| {
                let mut row = EnterpriseCountRow {
                    enterprises: *n,
                    ..Default::default()
                };
                for (d, k) in dims.iter().zip(key) {
                    match d {
                        Dim::Region => {
                            row.region = Some(k.clone());
                            row.region_name = Some(regions.name_of_key(k).to_owned());
                        }
                        _ => {
                            row.industry = Some(k.clone());
                            row.industry_name = Some(crate::industry::name_of_key(industries, k).to_owned());
                        }
                    }
                }
                row
            })
            .collect(),
    }
}

/// [`enterprises`] as RFC 4180 CSV ([`super::stats::Csv`]).
pub fn enterprises_csv(
    dims: &[Dim],
    rows: &[(Vec<String>, i64)],
    industries: Option<&crate::industry::Industries>,
) -> String {
    let regions = Regions::jiangsu();
    let mut head = Vec::new();
    for d in dims {
        head.push(d.as_str());
        head.push(if *d == Dim::Region {
            "regionName"
        } else {
            "industryName"
        });
    }
    head.push("enterprises");
    let mut out = super::stats::Csv::new(&head);
    for (key, n) in rows {
        let mut cells = Vec::new();
        for (d, k) in dims.iter().zip(key) {
            cells.push(k.clone());
            cells.push(if *d == Dim::Region {
                regions.name_of_key(k).to_owned()
            } else {
                crate::industry::name_of_key(industries, k).to_owned()
            });
        }
        cells.push(n.to_string());
        out.row(&cells.iter().map(String::as_str).collect::<Vec<_>>());
    }
    out.finish()
}
