//! Batch push of public information (the measures §8; `spec/loans.md` §9).
//!
//! A bank subscribes to public categories for enterprises of some 设区市 and/or some industries
//! (GB/T 4754 sections or divisions of the node's table, `crate::industry`) ([`subscribe`]). The push
//! ([`sweep`], every 2 seconds) reads the data records that arrived since it last looked, keeps the
//! public ones, and for each live subscription groups the matching records by enterprise into
//! batches of at most [`BATCH_ENTERPRISES`] enterprises. Each batch is one transaction:
//! - one `release` entry **per enterprise** (subject the enterprise, caller and bank the bank,
//!   platform the bank's platform, the categories, `dataSha256` of what the bank gets about that
//!   enterprise, `detail.batch` the batch id), so the enterprise's history shows who received its
//!   data;
//! - the batch, kept for the bank to page through (`GET /v1/feed/batches/{id}`), with every record's
//!   fields as the provider holds them except natural persons' identifiers, masked as for any raw
//!   public release (`spec/derivations.md` §5);
//! - a `public.batch` event to the bank (signed webhook and inbox) naming the batch.
//!
//! A batch is written only while the subscription is live and its bank active, and each record is
//! pushed to a subscription once (a ledger written in the batch's transaction), however many rounds
//! or node processes read it.
//!
//! Only public categories can be subscribed: non-public data never leaves without the enterprise's
//! grant. An enterprise matches a subscription's industries by the industry stored for it when the
//! batch is made (an unclassified enterprise matches no industry); a subscription without regions
//! matches every region, one without industries every industry, and it must name at least one of
//! the two.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::answers::loans::{
    FeedBatch, FeedBatchEntry, FeedBatchSummary, FeedSubscription, FeedSubscriptionDeleted,
    FeedSubscriptionList,
};
use super::answers::{Page, PageQuery, Paged};
use super::{Caller, Node};
use crate::credential::datetime::format_utc_seconds;
use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::log::entry::{AccessRecord, CategoryRef, EntryKind, PartyRef};
use crate::policy::{ParticipantState, Role};
use crate::region::{Level, Regions};
use crate::storage::cursors::{self, Reader};
use crate::storage::data::DataRecord;
use crate::storage::feed::{self as store, Batch, Subscription};
use crate::storage::log_store::NewEntry;
use crate::storage::{from_millis, participants};

/// The most enterprises in one batch (one transaction, one webhook).
pub const BATCH_ENTERPRISES: usize = 1000;
/// Records read per round.
const READ: i64 = 5000;
/// Rounds per sweep at most (then the next tick goes on).
const ROUNDS: usize = 20;
/// Most subscriptions one bank may hold.
pub const MAX_SUBSCRIPTIONS: usize = 20;

/// The body of `POST /v1/feed/subscriptions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeBody {
    /// 设区市 codes (`spec/regions/jiangsu.json`), 0–13, no repeats.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Industry codes (sections `C` or divisions `C13` of the node's GB/T 4754 table), 0–20, no
    /// repeats. Regions and industries together: at least one.
    #[serde(default)]
    pub industries: Vec<String>,
    /// Public category codes of the catalog, 1–64, no repeats.
    pub categories: Vec<String>,
}

/// A stored comma-separated list (empty: none).
fn split(s: &str) -> Vec<&str> {
    s.split(',').filter(|x| !x.is_empty()).collect()
}

fn describe(s: &Subscription) -> FeedSubscription {
    let owned = |v: Vec<&str>| v.into_iter().map(str::to_owned).collect();
    FeedSubscription {
        id: s.public_id.clone(),
        regions: owned(split(&s.regions)),
        industries: owned(split(&s.industries)),
        categories: owned(s.categories.split(',').collect()),
        created_at: format_utc_seconds(from_millis(s.created_at)),
    }
}

/// A bank subscribes; nothing is written unless every region and category is acceptable.
pub async fn subscribe(node: &Node, caller: &Caller, body: SubscribeBody) -> Result<FeedSubscription> {
    caller.require(&[Role::Bank])?;
    let bad = |m: String| Error::invalid("invalid-subscription", m);
    let regions = Regions::jiangsu();
    if body.regions.len() > 13 {
        return Err(bad("regions: at most the 13 设区市".into()));
    }
    if body.regions.is_empty() && body.industries.is_empty() {
        return Err(bad(
            "regions, industries: name at least one 设区市 or one industry".into(),
        ));
    }
    for (i, r) in body.regions.iter().enumerate() {
        if !regions.get(r).is_some_and(|d| d.level == Level::Prefecture) {
            return Err(bad(format!(
                "regions: {r:?} is not a 设区市 of Jiangsu (spec/regions/jiangsu.json)"
            )));
        }
        if body.regions[..i].contains(r) {
            return Err(bad(format!("regions: {r} twice")));
        }
    }
    if body.industries.len() > 20 {
        return Err(bad("industries: at most 20 codes".into()));
    }
    let mut industries = Vec::with_capacity(body.industries.len());
    for (i, code) in body.industries.iter().enumerate() {
        industries.push(node.classify_industry(code)?);
        if body.industries[..i].contains(code) {
            return Err(bad(format!("industries: {code} twice")));
        }
    }
    let catalog = node.catalog();
    if body.categories.is_empty() || body.categories.len() > 64 {
        return Err(bad("categories: 1 to 64 public categories".into()));
    }
    for (i, c) in body.categories.iter().enumerate() {
        match catalog.category(c) {
            None => return Err(bad(format!("categories: unknown category {c:?}"))),
            Some(x) if !x.public => {
                return Err(bad(format!(
                    "categories: {c} is not public: non-public data is released only under the enterprise's grant"
                )));
            }
            Some(_) => {}
        }
        if body.categories[..i].contains(c) {
            return Err(bad(format!("categories: {c} twice")));
        }
    }
    let (bank, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    let (regions_s, categories_s) = (body.regions.join(","), body.categories.join(","));
    let industries_s = industries
        .iter()
        .map(|i| i.as_str())
        .collect::<Vec<_>>()
        .join(",");
    node.committer
        .run(move |tx| -> Result<FeedSubscription> {
            tx.consume_assertion(&a)?;
            if store::live(tx.conn, Some(&bank))?.len() >= MAX_SUBSCRIPTIONS {
                return Err(Error::Conflict(format!(
                    "{bank} already has {MAX_SUBSCRIPTIONS} subscriptions; delete one first"
                )));
            }
            let public_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
            let now = tx.now();
            store::subscribe(
                tx.conn,
                &public_id,
                &bank,
                &regions_s,
                &industries_s,
                &categories_s,
                now,
            )?;
            let s = store::live(tx.conn, Some(&bank))?
                .into_iter()
                .find(|s| s.public_id == public_id)
                .ok_or_else(|| Error::Internal("subscription vanished".into()))?;
            Ok(describe(&s))
        })
        .await
}

/// The bank's live subscriptions.
pub async fn subscriptions(node: &Node, caller: &Caller) -> Result<FeedSubscriptionList> {
    caller.require(&[Role::Bank])?;
    let bank = caller.uscc().to_owned();
    let rows = node
        .store
        .call(move |c| Ok::<_, Error>(store::live(c, Some(&bank))?))
        .await?;
    Ok(FeedSubscriptionList {
        subscriptions: rows.iter().map(describe).collect(),
    })
}

/// The bank deletes one of its subscriptions (`404` if it has none by that id).
pub async fn unsubscribe(node: &Node, caller: &Caller, id: String) -> Result<FeedSubscriptionDeleted> {
    caller.require(&[Role::Bank])?;
    let (bank, a) = (caller.uscc().to_owned(), caller.assertion.clone());
    node.committer
        .run(move |tx| -> Result<FeedSubscriptionDeleted> {
            let now = tx.now();
            if !store::unsubscribe(tx.conn, &bank, &id, now)? {
                return Err(Error::NotFound(format!("subscription {id}")));
            }
            tx.consume_assertion(&a)?;
            Ok(FeedSubscriptionDeleted { id, deleted: true })
        })
        .await
}

/// One sweep: reads new records in rounds and pushes what the subscriptions want. Returns the
/// number of batches pushed.
pub async fn sweep(node: &Node) -> Result<usize> {
    let mut pushed = 0;
    for _ in 0..ROUNDS {
        let after = node
            .store
            .call(|c| Ok::<_, Error>(cursors::get(c, Reader::PublicPush)?))
            .await?;
        let settled = node.now_ms() - super::alerts::SETTLE_MS;
        let records = node
            .store
            .call(move |c| Ok::<_, Error>(cursors::records_after(c, after, settled, READ)?))
            .await?;
        let Some(last) = records.last().map(|r| r.id) else {
            break;
        };
        let catalog = node.catalog();
        let public: Vec<DataRecord> = records
            .into_iter()
            .filter(|r| catalog.category(&r.category).is_some_and(|c| c.public))
            .collect();
        if !public.is_empty() {
            let subs = node.store.call(|c| Ok::<_, Error>(store::live(c, None)?)).await?;
            for s in subs {
                pushed += push(node, &s, &public).await?;
            }
        }
        node.committer
            .run(move |tx| Ok(cursors::advance(tx.conn, Reader::PublicPush, last)?))
            .await?;
    }
    Ok(pushed)
}

/// Pushes to one subscription what it wants of `records`.
async fn push(node: &Node, s: &Subscription, records: &[DataRecord]) -> Result<usize> {
    let regions = Regions::jiangsu();
    let wanted_regions = split(&s.regions);
    let wanted_industries = split(&s.industries);
    let wanted = split(&s.categories);
    let mut by_enterprise: BTreeMap<&str, Vec<&DataRecord>> = BTreeMap::new();
    for r in records {
        if wanted.contains(&r.category.as_str())
            && (wanted_regions.is_empty() || wanted_regions.contains(&regions.key_of(&r.uscc)))
        {
            by_enterprise.entry(&r.uscc).or_default().push(r);
        }
    }
    // The industries stored now (an unclassified enterprise matches no industry); the batch shows them.
    let known = if by_enterprise.is_empty() {
        BTreeMap::new()
    } else {
        let usccs: Vec<String> = by_enterprise.keys().map(|u| (*u).to_owned()).collect();
        node.store
            .call(move |c| {
                let refs: Vec<&str> = usccs.iter().map(String::as_str).collect();
                Ok::<_, Error>(crate::storage::industries::of_many(c, &refs)?)
            })
            .await?
    };
    if !wanted_industries.is_empty() {
        by_enterprise.retain(|uscc, _| {
            known
                .get(*uscc)
                .is_some_and(|have| wanted_industries.iter().any(|w| crate::industry::covers(w, have)))
        });
    }
    if by_enterprise.is_empty() {
        return Ok(0);
    }
    let catalog = node.catalog();
    let bank = s.bank_uscc.clone();
    // A bank that is not active gets nothing (checked again in each batch's transaction).
    let platform = {
        let b = bank.clone();
        match node
            .store
            .call(move |c| Ok::<_, Error>(participants::find(c, &b, Role::Bank)?))
            .await?
        {
            Some(p) if p.state == ParticipantState::Active => p.platform_uscc.unwrap_or_default(),
            _ => return Ok(0),
        }
    };
    let list: Vec<(&str, Vec<&DataRecord>)> = by_enterprise.into_iter().collect();
    let mut batches = 0;
    for chunk in list.chunks(BATCH_ENTERPRISES) {
        // What the bank gets about each enterprise: its records, persons masked (with their ids).
        let entries: Vec<(String, Value, Vec<String>, Vec<i64>)> = chunk
            .iter()
            .map(|(uscc, recs)| {
                let mut cats: Vec<String> = recs.iter().map(|r| r.category.clone()).collect();
                cats.sort();
                cats.dedup();
                let rows: Vec<Value> = recs
                    .iter()
                    .map(|r| {
                        let one = super::data::raw(&catalog, &r.category, &[(*r).clone()]);
                        let mut row = one.get(0).cloned().unwrap_or(Value::Null);
                        row["category"] = json!(r.category);
                        row
                    })
                    .collect();
                let ids = recs.iter().map(|r| r.id).collect();
                ((*uscc).to_owned(), Value::Array(rows), cats, ids)
            })
            .collect();
        let providers: BTreeMap<String, Vec<String>> = entries
            .iter()
            .flat_map(|(_, _, cats, _)| cats.iter())
            .map(|c| {
                (
                    c.clone(),
                    catalog
                        .category(c)
                        .map(|x| x.providers.clone())
                        .unwrap_or_default(),
                )
            })
            .collect();
        let industry_of: BTreeMap<String, String> = chunk
            .iter()
            .filter_map(|(u, _)| known.get(*u).map(|i| ((*u).to_owned(), i.clone())))
            .collect();
        let (bank, platform, sub_id, sub_public) =
            (bank.clone(), platform.clone(), s.id, s.public_id.clone());
        let written = node
            .committer
            .run(move |tx| -> Result<bool> {
                // As committed now: the subscription live, its bank active; and each record pushed to
                // it once, whichever round or process gets here first.
                let bank_ok = participants::find(tx.conn, &bank, Role::Bank)?
                    .is_some_and(|b| b.state == ParticipantState::Active);
                if !bank_ok || !store::is_live(tx.conn, sub_id)? {
                    return Ok(false);
                }
                let all: Vec<i64> = entries.iter().flat_map(|e| e.3.iter().copied()).collect();
                let done = store::pushed(tx.conn, sub_id, &all)?;
                let entries: Vec<_> = entries
                    .into_iter()
                    .filter(|e| !e.3.iter().any(|id| done.contains(id)))
                    .collect();
                if entries.is_empty() {
                    return Ok(false);
                }
                let ids: Vec<i64> = entries.iter().flat_map(|e| e.3.iter().copied()).collect();
                store::mark_pushed(tx.conn, sub_id, &ids)?;
                let batch_id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
                let regions = Regions::jiangsu();
                let mut out = Vec::with_capacity(entries.len());
                let (mut first, mut last, mut n_records) = (u64::MAX, 0u64, 0i64);
                for (uscc, rows, cats, record_ids) in &entries {
                    // The records pushed, cited as every release cites them (spec/objections.md §7.1).
                    let mut cited = record_ids.clone();
                    cited.sort_unstable();
                    cited.dedup();
                    let digest = crate::crypto::jcs::canonicalize(rows)
                        .map(|b| Sha256Digest::of(&b).to_hex())
                        .map_err(|e| Error::Internal(e.to_string()))?;
                    let appended = tx.append(NewEntry {
                        kind: EntryKind::Release,
                        enterprise: Some(uscc.clone()),
                        grant: None,
                        caller: Some(bank.clone()),
                        platform: (!platform.is_empty()).then(|| platform.clone()),
                        bank: Some(bank.clone()),
                        categories: Some(cats.join(",")),
                        decision: Some("allowed".into()),
                        record: AccessRecord {
                            enterprise: Some(uscc.clone()),
                            caller: Some(PartyRef {
                                uscc: bank.clone(),
                                role: Role::Bank.as_str().into(),
                                did: None,
                            }),
                            platform: (!platform.is_empty()).then(|| platform.clone()),
                            bank: Some(bank.clone()),
                            categories: cats
                                .iter()
                                .map(|c| CategoryRef {
                                    code: c.clone(),
                                    granularity: "raw".into(),
                                    providers: providers.get(c).cloned().unwrap_or_default(),
                                })
                                .collect(),
                            decision: Some("allowed".into()),
                            request_id: Some(batch_id.clone()),
                            data_sha256: Some(digest),
                            detail: Some(
                                json!({"batch": batch_id, "subscription": sub_public, "records": cited}),
                            ),
                            ..Default::default()
                        },
                    })?;
                    first = first.min(appended.seq);
                    last = last.max(appended.seq);
                    n_records += i64::try_from(rows.as_array().map_or(0, Vec::len)).unwrap_or(0);
                    out.push(FeedBatchEntry {
                        enterprise: uscc.clone(),
                        region: regions.key_of(uscc).to_owned(),
                        industry: industry_of.get(uscc).cloned(),
                        log_index: appended.seq,
                        records: rows.as_array().cloned().unwrap_or_default(),
                    });
                }
                let now = tx.now();
                let n = i64::try_from(out.len()).unwrap_or(0);
                let (fi, li) = (
                    i64::try_from(first).unwrap_or(0),
                    i64::try_from(last).unwrap_or(0),
                );
                // Stored as a JSON value's text (members in order), as it always was.
                let body = serde_json::to_value(FeedBatch {
                    id: batch_id.clone(),
                    subscription: sub_public.clone(),
                    bank: bank.clone(),
                    created_at: format_utc_seconds(from_millis(now)),
                    enterprises: n,
                    records: n_records,
                    first_index: fi,
                    last_index: li,
                    entries: out,
                })
                .map_err(|e| Error::Internal(e.to_string()))?;
                store::insert_batch(
                    tx.conn,
                    &Batch {
                        public_id: batch_id.clone(),
                        bank_uscc: bank.clone(),
                        subscription_id: sub_id,
                        enterprises: n,
                        records: n_records,
                        first_index: fi,
                        last_index: li,
                        body: body.to_string(),
                        created_at: now,
                    },
                )?;
                super::notify::enqueue(
                    tx.conn,
                    &bank,
                    super::notify::PUBLIC_BATCH,
                    json!({"batch": batch_id, "subscription": sub_public, "enterprises": n,
                           "records": n_records, "firstIndex": fi, "lastIndex": li}),
                    now,
                )?;
                Ok(true)
            })
            .await?;
        if written {
            batches += 1;
        }
    }
    Ok(batches)
}

/// The bank's batches (summaries), oldest first, `after`/`limit` paging.
pub async fn batches(node: &Node, caller: &Caller, q: PageQuery) -> Result<Paged<FeedBatchSummary>> {
    caller.require(&[Role::Bank])?;
    let page = q.page()?;
    let bank = caller.uscc().to_owned();
    let rows = node
        .store
        .call(move |c| Ok::<_, Error>(store::batches(c, &bank, page.after, page.limit)?))
        .await?;
    let next = Page::next(page.limit, &rows, |(id, _)| *id);
    let items = rows
        .into_iter()
        .map(|(_, b)| FeedBatchSummary {
            id: b.public_id,
            enterprises: b.enterprises,
            records: b.records,
            first_index: b.first_index,
            last_index: b.last_index,
            created_at: format_utc_seconds(from_millis(b.created_at)),
        })
        .collect();
    Ok(Paged { items, next })
}

/// One batch of the caller's, in full.
pub async fn batch(node: &Node, caller: &Caller, id: String) -> Result<FeedBatch> {
    caller.require(&[Role::Bank])?;
    let bank = caller.uscc().to_owned();
    let b = node
        .store
        .call(move |c| Ok::<_, Error>(store::batch(c, &bank, &id)?))
        .await?
        .ok_or_else(|| Error::NotFound("batch".into()))?;
    serde_json::from_str(&b.body).map_err(|e| Error::Internal(e.to_string()))
}
