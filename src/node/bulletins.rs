//! The monthly bulletin (通报; `spec/loans.md` §6): computed from the access log by
//! [`crate::bulletin::compute`], signed by the node's key, archived once per month, listed and
//! downloaded (JSON or CSV) by regulators and the node's operator.
//!
//! Made by the background task [`due`] once a month has been over for [`SETTLE_DAYS`] days (late
//! loan reports for the month can still arrive in that time) if the log has entries from before the
//! month's end, or at once by the operator (`POST /v1/admin/bulletins`). A bulletin reads the entries below the log size it records, so a
//! report arriving later changes nothing in it and anyone holding those entries recomputes the same
//! bytes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::Value;

use super::answers::loans::{BulletinEnvelope, BulletinList, BulletinSummary};
use super::{Caller, Node};
use crate::bulletin::{Entry, Month, compute};
use crate::credential::datetime::format_utc_seconds;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::entry::{AccessRecord, EntryKind};
use crate::policy::Role;
use crate::storage::bulletins::{self as store, StoredBulletin};
use crate::storage::from_millis;

/// Days after a month's end before the background task archives its bulletin.
pub const SETTLE_DAYS: i64 = 3;

/// The body of `POST /v1/admin/bulletins`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// `YYYY-MM`, a month that has ended.
    pub month: String,
}

/// Computes, signs and archives the bulletin of `month` from the log as committed now. `409
/// conflict` if the month already has one; `400 invalid-month` for a month not yet over.
pub async fn generate(node: &Node, month: &Month) -> Result<StoredBulletin> {
    if node.now_ms() < month.end_ms {
        return Err(Error::invalid(
            "invalid-month",
            format!("{} is not over yet", month.name()),
        ));
    }
    let m = *month;
    let (size, rows) = node
        .store
        .call(move |c| -> Result<_> {
            let (size, _) = crate::storage::log_store::head(c)?;
            let size = i64::try_from(size).map_err(|_| Error::Internal("log size".into()))?;
            Ok((size, store::entries(c, size, m.start_ms, m.end_ms)?))
        })
        .await?;
    let entries: Vec<Entry> = rows
        .into_iter()
        .filter_map(|(seq, kind, time, record)| {
            Some(Entry {
                index: u64::try_from(seq).ok()?,
                kind: EntryKind::from_u8(u8::try_from(kind).ok()?)?,
                time_ms: time,
                record: serde_json::from_str::<AccessRecord>(record.as_deref()?).ok()?,
            })
        })
        .collect();
    let bulletin = compute(&node.origin, month, u64::try_from(size).unwrap_or(0), &entries);
    let content = bulletin.canonical();
    let stored = StoredBulletin {
        month: month.name(),
        log_size: size,
        content: String::from_utf8_lossy(&content).into_owned(),
        sha256: Sha256Digest::of(&content).to_hex(),
        signature: URL_SAFE_NO_PAD.encode(node.key.secret.sign(&content)),
        signer: node.did().to_owned(),
        csv: bulletin.to_csv(),
        generated_at: node.now_ms(),
    };
    let s = stored.clone();
    if !node.store.call(move |c| store::insert(c, &s)).await? {
        return Err(Error::Conflict(format!(
            "the bulletin of {} is already archived",
            month.name()
        )));
    }
    tracing::info!(month = %stored.month, log_size = stored.log_size, "monthly bulletin archived");
    Ok(stored)
}

/// The background round: archives, oldest first, every month that has settled ([`SETTLE_DAYS`]
/// after its end), has no bulletin, and that the log lived through (from the month of its first
/// entry): a node that was down across a month's end catches up, up to 24 months back.
pub async fn due(node: &Node) -> Result<()> {
    let now = node.now_ms();
    let Some(last) = Month::last_ended(now - SETTLE_DAYS * 86_400_000) else {
        return Ok(());
    };
    let Some(first) = node
        .store
        .call(|c| Ok::<_, Error>(store::first_entry_time(c)?))
        .await?
    else {
        return Ok(());
    };
    let Some(first) = Month::holding(first) else {
        return Ok(());
    };
    // The last 24 months at most, back to the log's first month, then oldest first.
    let mut months = Vec::new();
    let mut m = Some(last);
    while let Some(month) = m {
        if month.first < first.first || months.len() == 24 {
            break;
        }
        m = Month::last_ended(month.start_ms);
        months.push(month);
    }
    months.reverse();
    for month in months {
        let name = month.name();
        if node
            .store
            .call(move |c| Ok::<_, Error>(store::get(c, &name)?))
            .await?
            .is_none()
        {
            match generate(node, &month).await {
                Ok(_) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn summary(month: &str, log_size: i64, sha256: &str, at: i64) -> BulletinSummary {
    BulletinSummary {
        month: month.to_owned(),
        log_size,
        sha256: sha256.to_owned(),
        generated_at: format_utc_seconds(from_millis(at)),
    }
}

/// The operator archives a month's bulletin now.
pub async fn create(node: &Node, caller: &Caller, body: GenerateBody) -> Result<BulletinSummary> {
    caller.require(&[Role::Node])?;
    let month = Month::parse(&body.month).map_err(|e| Error::invalid("invalid-month", e.to_string()))?;
    let b = generate(node, &month).await?;
    Ok(summary(&b.month, b.log_size, &b.sha256, b.generated_at))
}

/// Archived bulletins, newest first (regulators and the node's operator).
pub async fn list(node: &Node, caller: &Caller) -> Result<BulletinList> {
    caller.require(&[Role::Node, Role::Regulator])?;
    let rows = node.store.call(store::list).await?;
    Ok(BulletinList {
        bulletins: rows.iter().map(|(m, s, d, t)| summary(m, *s, d, *t)).collect(),
    })
}

/// One archived bulletin (regulators and the node's operator): `404` if the month has none.
pub async fn get(node: &Node, caller: &Caller, month: &str) -> Result<StoredBulletin> {
    caller.require(&[Role::Node, Role::Regulator])?;
    let m = Month::parse(month).map_err(|e| Error::invalid("invalid-path", e.to_string()))?;
    let name = m.name();
    node.store
        .call(move |c| store::get(c, &name))
        .await?
        .ok_or_else(|| Error::NotFound(format!("bulletin of {month}")))
}

/// The JSON answer of a bulletin: the signed bulletin, its digest and signature, and who signed.
pub fn envelope(b: &StoredBulletin) -> BulletinEnvelope {
    BulletinEnvelope {
        bulletin: serde_json::from_str::<Value>(&b.content).unwrap_or(Value::Null),
        sha256: b.sha256.clone(),
        signature: b.signature.clone(),
        signer: b.signer.clone(),
        generated_at: format_utc_seconds(from_millis(b.generated_at)),
    }
}
