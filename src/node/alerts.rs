//! Post-loan risk alerts (the measures §9, §10; `spec/loans.md` §7).
//!
//! The sweep ([`sweep`], every few seconds) reads the data records that arrived since it last looked
//! (imports and corrections add rows), runs the risk rules ([`crate::risk`]) on each, and for every
//! rule that fires on an enterprise with **open loans** it alerts each bank holding one:
//! 1. it looks for the enterprise's grant that covers the alert: the loan's platform is its grantee,
//!    `post-loan-management` among its purposes, the bank among its recipients with the record's
//!    category, the record's date inside its data period;
//! 2. none: no alert (no grant, no monitoring); nor when, as committed at the time of writing, the
//!    loan is no longer open, the bank is not an active bank of that platform, or the platform is
//!    not active;
//! 3. such a grant, active and inside its validity window: an alert — a `release` entry under the
//!    grant (purpose `post-loan-management`, the one category, `derived`; the data digest is the
//!    alert's), a `risk.alert` event to the bank and to the platform (signed webhook and inbox), and
//!    the alert in the pull list, all in one transaction;
//! 4. only revoked, suspended or expired ones: a `refusal` entry under the grant with the reason
//!    (`grant-revoked`, `grant-suspended`, `expired`), and nothing sent.
//!
//! An alert carries the rule, its severity and names, the category and the record's date: derived by
//! construction, never a field value (`crate::risk`). Each (record, bank, platform, rule) is alerted
//! or refused once, however often the sweep runs or however many node processes share the database.
//! Records are read once [`SETTLE_MS`] old, so that one committed late by a concurrent import is not
//! skipped.
//!
//! The node runs the rules because it holds the records; it acts under the platform's grant and
//! names the platform in every entry, as the platform's monitoring service (§9).

use serde_json::{Value, json};

use super::answers::loans::{RiskAlert, RiskAlertSent};
use super::answers::{Page, PageQuery, Paged};
use super::{Caller, Node};
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::grant::GrantState;
use crate::log::entry::{AccessRecord, CategoryRef, EntryKind, GrantRef, PartyRef, Reason};
use crate::policy::{ParticipantState, Role};
use crate::risk::{Hit, Rules};
use crate::storage::alerts::{self as store, AlertFilter, AlertRow};
use crate::storage::cursors::{self, Reader};
use crate::storage::data::DataRecord;
use crate::storage::grants::{self, StoredGrant};
use crate::storage::log_store::NewEntry;
use crate::storage::participants;

/// The purpose a grant must name for monitoring.
pub const PURPOSE: &str = "post-loan-management";
/// Records read per round.
const BATCH: i64 = 500;
/// Records are read once they are this old (ms): see [`crate::storage::cursors::records_after`].
pub const SETTLE_MS: i64 = 3_000;

/// What the grants say about one (enterprise, bank, platform, category, day).
enum Cover {
    /// A live grant covers it.
    Live(Box<StoredGrant>),
    /// Only grants that no longer hold: the first one, with the reason.
    Refused(Box<StoredGrant>, &'static str, String),
    /// No grant covers it.
    None,
}

fn cover(node: &Node, naming: Vec<StoredGrant>, record: &DataRecord, bank: &str, platform: &str) -> Cover {
    let now = node.clock.now();
    let catalog = node.catalog();
    let mut refused: Option<(StoredGrant, &'static str, String)> = None;
    for g in naming {
        if g.enterprise_uscc != record.uscc {
            continue;
        }
        let Some(digest) = Sha256Digest::from_hex(&g.sha256) else {
            continue;
        };
        let Ok(v) = node.grants.get_or_verify(digest, || {
            crate::grant::verify::verify_using(&g.body, &catalog, &node.keys, now)
        }) else {
            continue;
        };
        let t = v.terms();
        let covers = t.grantee.uscc == platform
            && t.purposes.iter().any(|p| p == PURPOSE)
            && t.category(&record.category).is_some()
            && t.onward_recipient(bank)
                .is_some_and(|r| r.categories.iter().any(|c| c.code == record.category))
            && t.data_period.from.as_str() <= record.record_date.as_str()
            && record.record_date.as_str() <= t.data_period.until.as_str();
        if !covers {
            continue;
        }
        let why = match g.state {
            GrantState::Revoked => Some(("grant-revoked", "the grant is revoked")),
            GrantState::Suspended => Some(("grant-suspended", "the grant is suspended")),
            GrantState::Active if v.check_time(now).is_err() => Some((
                "expired",
                "the grant is outside its validity window, or its proof lapsed",
            )),
            GrantState::Active => None,
        };
        match why {
            None => return Cover::Live(Box::new(g)),
            Some((code, msg)) => {
                if refused.is_none() {
                    refused = Some((g, code, msg.to_owned()));
                }
            }
        }
    }
    match refused {
        Some((g, code, msg)) => Cover::Refused(Box::new(g), code, msg),
        None => Cover::None,
    }
}

/// One round: reads up to [`BATCH`] new records and alerts on them. Returns how many alerts (sent or
/// refused) it recorded.
pub async fn sweep(node: &Node) -> Result<usize> {
    let after = node
        .store
        .call(|c| Ok::<_, Error>(cursors::get(c, Reader::RiskAlerts)?))
        .await?;
    let settled = node.now_ms() - SETTLE_MS;
    let records = node
        .store
        .call(move |c| cursors::records_after(c, after, settled, BATCH))
        .await?;
    let Some(last) = records.last().map(|r| r.id) else {
        return Ok(0);
    };
    let mut made = 0;
    for record in records {
        let fields: Value = serde_json::from_str(&record.body).unwrap_or(Value::Null);
        let hits = Rules::builtin().hits(&record.category, &record.record_date, &fields);
        if hits.is_empty() {
            continue;
        }
        let uscc = record.uscc.clone();
        let open = node.store.call(move |c| store::open_loans(c, &uscc)).await?;
        for (bank, platform) in open {
            for hit in &hits {
                if alert(node, &record, &bank, &platform, hit).await? {
                    made += 1;
                }
            }
        }
    }
    node.committer
        .run(move |tx| Ok(cursors::advance(tx.conn, Reader::RiskAlerts, last)?))
        .await?;
    Ok(made)
}

/// Alerts `bank` (or records the refusal) for one rule on one record; whether anything was written.
async fn alert(node: &Node, record: &DataRecord, bank: &str, platform: &str, hit: &Hit) -> Result<bool> {
    let b = bank.to_owned();
    let naming = node
        .store
        .call(move |c| Ok::<_, Error>(grants::naming(c, &b)?))
        .await?;
    let (grant, refusal) = match cover(node, naming, record, bank, platform) {
        Cover::None => return Ok(false),
        Cover::Live(g) => (*g, None),
        Cover::Refused(g, code, message) => (
            *g,
            Some(Reason {
                code: code.to_owned(),
                message: message.to_owned(),
            }),
        ),
    };
    let providers = node
        .catalog()
        .category(&record.category)
        .map(|c| c.providers.clone())
        .unwrap_or_default();
    let public_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    // As a JSON value: the webhook's `data`, the stored body and its digest, as it always was.
    let alert = serde_json::to_value(RiskAlertSent {
        id: public_id.clone(),
        enterprise: record.uscc.clone(),
        bank: bank.to_owned(),
        platform: platform.to_owned(),
        grant: grant.id.clone(),
        rule: hit.rule.clone(),
        severity: hit.severity,
        name_zh: hit.name_zh.clone(),
        name_en: hit.name_en.clone(),
        category: hit.category.clone(),
        record_date: hit.record_date.clone(),
    })
    .map_err(|e| Error::Internal(e.to_string()))?;
    let body = alert.to_string();
    let digest = crate::crypto::jcs::canonicalize(&alert)
        .map(|b| Sha256Digest::of(&b).to_hex())
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (record_id, bank, platform, hit) = (record.id, bank.to_owned(), platform.to_owned(), hit.clone());
    let enterprise = record.uscc.clone();
    node.committer
        .run(move |tx| -> Result<bool> {
            if store::exists(tx.conn, record_id, &bank, &platform, &hit.rule)? {
                return Ok(false);
            }
            // As committed now: the loan still open through this platform, the bank an active bank
            // of the platform, the platform active. Otherwise there is no one to alert.
            if !store::open_loans(tx.conn, &enterprise)?.contains(&(bank.clone(), platform.clone())) {
                return Ok(false);
            }
            let bank_ok = participants::find(tx.conn, &bank, Role::Bank)?.is_some_and(|b| {
                b.state == ParticipantState::Active && b.platform_uscc.as_deref() == Some(platform.as_str())
            });
            let platform_ok = participants::find(tx.conn, &platform, Role::Platform)?
                .is_some_and(|p| p.state == ParticipantState::Active);
            if !bank_ok || !platform_ok {
                return Ok(false);
            }
            // The grant's state as committed now: a revocation that raced the sweep is seen here.
            let state = grants::state(tx.conn, &grant.id)?;
            let refusal = match (state, refusal) {
                (Some(GrantState::Revoked), _) => Some(Reason {
                    code: "grant-revoked".into(),
                    message: "the grant is revoked".into(),
                }),
                (Some(GrantState::Suspended), _) => Some(Reason {
                    code: "grant-suspended".into(),
                    message: "the grant is suspended".into(),
                }),
                (_, r) => r,
            };
            let sent = refusal.is_none();
            let gdigest = Sha256Digest::from_hex(&grant.sha256).unwrap_or(Sha256Digest([0; 32]));
            let decision = if sent { "allowed" } else { "refused" };
            let appended = tx.append(NewEntry {
                kind: if sent { EntryKind::Release } else { EntryKind::Refusal },
                enterprise: Some(enterprise.clone()),
                grant: Some((grant.id.clone(), gdigest)),
                caller: Some(platform.clone()),
                platform: Some(platform.clone()),
                bank: Some(bank.clone()),
                categories: Some(hit.category.clone()),
                decision: Some(decision.into()),
                record: AccessRecord {
                    enterprise: Some(enterprise.clone()),
                    caller: Some(PartyRef {
                        uscc: platform.clone(),
                        role: Role::Platform.as_str().into(),
                        did: None,
                    }),
                    platform: Some(platform.clone()),
                    bank: Some(bank.clone()),
                    grant: Some(GrantRef {
                        id: grant.id.clone(),
                        sha256: grant.sha256.clone(),
                    }),
                    categories: vec![CategoryRef {
                        code: hit.category.clone(),
                        granularity: "derived".into(),
                        providers,
                    }],
                    purpose: Some(PURPOSE.into()),
                    decision: Some(decision.into()),
                    reasons: refusal.clone().into_iter().collect(),
                    request_id: Some(public_id.clone()),
                    data_sha256: sent.then(|| digest.clone()),
                    detail: Some({
                        let mut d = json!({"riskAlert": {"rule": hit.rule, "severity": hit.severity, "recordDate": hit.record_date}});
                        // The record the alert was derived from (spec/objections.md §7.1).
                        if sent {
                            d["records"] = json!([record_id]);
                        }
                        d
                    }),
                    ..Default::default()
                },
            })?;
            let now = tx.now();
            if sent {
                for to in [&bank, &platform] {
                    super::notify::enqueue(tx.conn, to, super::notify::RISK_ALERT, alert.clone(), now)?;
                }
            }
            store::insert(
                tx.conn,
                &AlertRow {
                    public_id: public_id.clone(),
                    enterprise_uscc: enterprise.clone(),
                    bank_uscc: bank.clone(),
                    platform_uscc: platform.clone(),
                    grant_id: grant.id.clone(),
                    record_id,
                    rule: hit.rule.clone(),
                    severity: serde_json::to_value(hit.severity)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    category: hit.category.clone(),
                    record_date: hit.record_date.clone(),
                    outcome: if sent { "sent" } else { "refused" }.into(),
                    body: body.clone(),
                    log_index: i64::try_from(appended.seq).unwrap_or(i64::MAX),
                    created_at: now,
                },
            )?;
            Ok(true)
        })
        .await
}

/// Risk alerts the caller may see, oldest first (`after`/`limit` paging): a bank those sent to it, a
/// platform those sent under its grants, an enterprise those about it (refused ones too), a regulator
/// or the node's operator all.
pub async fn list(node: &Node, caller: &Caller, q: PageQuery) -> Result<Paged<RiskAlert>> {
    caller.require(&[
        Role::Node,
        Role::Regulator,
        Role::Platform,
        Role::Bank,
        Role::Enterprise,
    ])?;
    let page = q.page()?;
    let me = caller.uscc().to_owned();
    let f = match caller.role {
        // A refused alert was not sent: the bank and the platform never learn of it.
        Role::Bank => AlertFilter {
            bank: Some(me),
            sent_only: true,
            ..Default::default()
        },
        Role::Platform => AlertFilter {
            platform: Some(me),
            sent_only: true,
            ..Default::default()
        },
        Role::Enterprise => AlertFilter {
            enterprise: Some(me),
            ..Default::default()
        },
        _ => AlertFilter::default(),
    };
    let rows = node
        .store
        .call(move |c| store::list(c, &f, page.after, page.limit))
        .await?;
    let next = Page::next(page.limit, &rows, |(id, _)| *id);
    let items = rows
        .into_iter()
        .map(|(_, a)| -> Result<RiskAlert> {
            Ok(RiskAlert {
                alert: serde_json::from_str(&a.body)
                    .map_err(|e| Error::Internal(format!("stored alert: {e}")))?,
                outcome: a.outcome,
                log_index: a.log_index,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Paged { items, next })
}
