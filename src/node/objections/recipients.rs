//! Who received a corrected record, and the signed notice each of them gets (`record.corrected`,
//! spec/objections.md §7.1).
//!
//! Guarantees: the recipients are read from the node's own log, under the log lock, in the
//! correction's transaction — every `release` entry about the record's enterprise naming its
//! category that carried the record (its `detail.records` lists the record; a release logged before
//! releases cited their records counts when it was logged while the record was held: after it was
//! imported, before it was superseded). Each platform that asked and each bank it asked for (or that
//! the public feed pushed to) is told once, with the releases that reached it; a platform also learns the banks it released to, a bank
//! the platforms it received through. Nobody else is told.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use crate::error::Result;
use crate::node::notify;
use crate::policy::Role;
use crate::storage::DbConn;
use crate::storage::audit::{self, ReleaseLeaf};
use crate::storage::data::DataRecord;

/// Release entries read per query while looking for a record's recipients.
const PAGE: i64 = 1000;

/// A participant that received a record: a platform (the caller of a release) or a bank (a
/// release's `onBehalfOf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recipient {
    /// Its USCC.
    pub uscc: String,
    /// `Platform` or `Bank`.
    pub role: Role,
    /// The node's release entries that carried the record to it, ascending.
    pub releases: Vec<u64>,
    /// For a platform the banks it asked for in those releases; for a bank the platforms that asked
    /// for it. Sorted.
    pub via: BTreeSet<String>,
}

/// The record ids a release entry cites (`detail.records`); `None` for an entry logged before
/// releases cited their records, or whose record was erased.
fn cited(l: &ReleaseLeaf) -> Option<Vec<i64>> {
    let v: Value = serde_json::from_str(l.record.as_deref()?).ok()?;
    v.get("detail")?
        .get("records")?
        .as_array()?
        .iter()
        .map(Value::as_i64)
        .collect()
}

/// Whether release `l` carried record `r`: exactly, from the ids it cites; for an older release,
/// whether it was logged while the record was held.
fn carried(l: &ReleaseLeaf, r: &DataRecord) -> bool {
    match cited(l) {
        Some(ids) => ids.contains(&r.id),
        None => l.time >= r.imported_at && r.superseded_at.is_none_or(|s| l.time < s),
    }
}

/// Every platform and bank that received record `r` in a release logged before position `before`,
/// sorted by USCC.
pub(super) fn of_record(conn: &mut DbConn, r: &DataRecord, before: u64) -> Result<Vec<Recipient>> {
    let before = i64::try_from(before).unwrap_or(i64::MAX);
    let mut found: BTreeMap<String, Recipient> = BTreeMap::new();
    let mut add = |uscc: &str, role: Role, seq: u64, other: Option<&String>| {
        let e = found.entry(uscc.to_owned()).or_insert_with(|| Recipient {
            uscc: uscc.to_owned(),
            role,
            releases: Vec::new(),
            via: BTreeSet::new(),
        });
        if e.releases.last() != Some(&seq) {
            e.releases.push(seq);
        }
        if let Some(o) = other {
            e.via.insert(o.clone());
        }
    };
    let mut after = -1;
    loop {
        let page = audit::releases_naming(conn, &r.uscc, &r.category, after, before, PAGE)?;
        for l in page.iter().filter(|l| carried(l, r)) {
            let seq = u64::try_from(l.seq).unwrap_or_default();
            // A platform received the data when it asked (not when it is only the bank's platform
            // on the path of a public feed push, which goes to the bank directly).
            let asked = l.platform.as_ref().filter(|p| l.caller.as_ref() == Some(*p));
            if let Some(p) = asked {
                add(p, Role::Platform, seq, l.bank.as_ref());
            }
            if let Some(b) = &l.bank {
                add(b, Role::Bank, seq, asked);
            }
        }
        match page.last() {
            Some(l) if i64::try_from(page.len()).unwrap_or(0) == PAGE => after = l.seq,
            _ => break,
        }
    }
    Ok(found.into_values().collect())
}

/// Sends `record.corrected` to each recipient (inbox notice and subscribed endpoints), on `conn`
/// inside the correction's transaction. `base` is the event data every recipient shares
/// (`objection`, `enterprise`, `category`, `record`, …); each gets its own `releases`, `banks` (a
/// platform) or `platforms` (a bank), and `message`.
pub(super) fn notify_all(
    conn: &mut DbConn,
    recipients: &[Recipient],
    base: &Value,
    now_ms: i64,
) -> Result<()> {
    let (enterprise, record, category, objection) = (
        base["enterprise"].as_str().unwrap_or_default(),
        &base["record"],
        base["category"].as_str().unwrap_or_default(),
        base["objection"].as_str().unwrap_or_default(),
    );
    for r in recipients {
        let mut data = base.clone();
        data["releases"] = json!(r.releases);
        let via = if r.role == Role::Bank {
            "platforms"
        } else {
            "banks"
        };
        data[via] = json!(r.via);
        data["message"] = Value::String(format!(
            "企业 {enterprise} 的数据记录 {record}（{category}）经异议 {objection} 更正，贵方此前获得过该记录，请按更正后的数据重新获取。Record {record} ({category}) of enterprise {enterprise}, which you received, was corrected after objection {objection}; ask again for the corrected data."
        ));
        notify::enqueue(conn, &r.uscc, notify::RECORD_CORRECTED, data, now_ms)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(seq: i64, time: i64, record: Option<&str>) -> ReleaseLeaf {
        ReleaseLeaf {
            seq,
            time,
            caller: Some("P".into()),
            platform: Some("P".into()),
            bank: None,
            record: record.map(str::to_owned),
        }
    }

    fn record(id: i64, imported_at: i64, superseded_at: Option<i64>) -> DataRecord {
        DataRecord {
            id,
            uscc: "E".into(),
            category: "TAX-03".into(),
            record_date: "2025-01-31".into(),
            body: "{}".into(),
            provider: "STA".into(),
            imported_at,
            content_id: None,
            batch_id: None,
            version: 1,
            superseded_by: superseded_at.map(|_| "b".into()),
            superseded_at,
        }
    }

    #[test]
    fn a_release_citing_records_carried_exactly_those() {
        let l = leaf(
            5,
            100,
            Some(r#"{"detail":{"granularity":"raw","records":[3,7]}}"#),
        );
        assert!(carried(&l, &record(7, 0, None)));
        assert!(!carried(&l, &record(4, 0, None)));
        // Citing none: carried none, whatever the times.
        let empty = leaf(5, 100, Some(r#"{"detail":{"granularity":"raw","records":[]}}"#));
        assert!(!carried(&empty, &record(7, 0, None)));
    }

    #[test]
    fn an_older_release_counts_while_the_record_was_held() {
        let old = leaf(5, 100, Some(r#"{"detail":{"granularity":"derived"}}"#));
        assert!(carried(&old, &record(7, 100, None)));
        assert!(
            !carried(&old, &record(7, 101, None)),
            "imported after the release"
        );
        assert!(!carried(&old, &record(7, 0, Some(100))), "superseded before it");
        assert!(carried(&old, &record(7, 0, Some(101))));
        // An erased record: the same rule.
        assert!(carried(&leaf(5, 100, None), &record(7, 50, None)));
        // A malformed citation is not trusted as exact.
        let odd = leaf(5, 100, Some(r#"{"detail":{"records":["x"]}}"#));
        assert!(carried(&odd, &record(7, 50, None)));
    }
}
