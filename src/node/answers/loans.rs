//! Loan outcomes, post-loan risk alerts, the batch push of public information and the monthly
//! bulletins (`spec/loans.md`): the answers of `src/http/routes/loans.rs`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Listed;
use super::log::InclusionPromise;
use crate::loan::LoanState;
use crate::risk::Severity;

/// `POST /v1/loan-reports` (`components/schemas/LoanReportAnswer`): the report recorded, with the
/// loan as it now stands.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanReportAnswer {
    /// `LoanReportAnswer.reportId`.
    pub report_id: String,
    /// `LoanReportAnswer.loan`.
    pub loan: String,
    /// `LoanReportAnswer.enterprise`.
    pub enterprise: String,
    /// `LoanReportAnswer.bank`.
    pub bank: String,
    /// `LoanReportAnswer.grant`.
    pub grant: String,
    /// `LoanReportAnswer.grantSha256`.
    pub grant_sha256: String,
    /// `LoanReportAnswer.outcome` (`components/schemas/LoanOutcome`).
    pub outcome: String,
    /// `LoanReportAnswer.state`.
    pub state: LoanState,
    /// `LoanReportAnswer.approvedAmount`.
    pub approved_amount: i64,
    /// `LoanReportAnswer.disbursed`.
    pub disbursed: i64,
    /// `LoanReportAnswer.balance`.
    pub balance: i64,
    /// `LoanReportAnswer.logIndex`.
    pub log_index: u64,
    /// `LoanReportAnswer.leafHash`.
    pub leaf_hash: String,
    /// `LoanReportAnswer.receipt`.
    pub receipt: InclusionPromise,
}

/// A loan as the node keeps it (`components/schemas/Loan`), an item of `GET /v1/loans`
/// (`components/schemas/LoanList`, [`super::Paged`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Loan {
    /// `Loan.bank`.
    pub bank: String,
    /// `Loan.loan`.
    pub loan: String,
    /// `Loan.enterprise`.
    pub enterprise: String,
    /// `Loan.platform`.
    pub platform: String,
    /// `Loan.region`.
    pub region: String,
    /// `Loan.regionName`.
    pub region_name: String,
    /// `Loan.industry`.
    pub industry: String,
    /// `Loan.industryName`.
    pub industry_name: String,
    /// `Loan.state`.
    pub state: LoanState,
    /// `Loan.approvedAmount`.
    pub approved_amount: i64,
    /// `Loan.disbursed`.
    pub disbursed: i64,
    /// `Loan.balance`.
    pub balance: i64,
    /// `Loan.termMonths` (`null` when not reported).
    pub term_months: Option<i64>,
    /// `Loan.rateBand` (`null` when not reported).
    pub rate_band: Option<String>,
    /// `Loan.security` (`null` when not reported).
    pub security: Option<String>,
    /// `Loan.firstLoan` (`null` when not reported).
    pub first_loan: Option<bool>,
    /// `Loan.lastEventOn`.
    pub last_event_on: String,
    /// `Loan.reports`.
    pub reports: Vec<LoanReportLine>,
}

impl Listed for Loan {
    const MEMBER: &'static str = "loans";
}

/// A report of a loan (`components/schemas/Loan`, `reports.items`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanReportLine {
    /// `reportId`.
    pub report_id: String,
    /// `outcome` (`components/schemas/LoanOutcome`).
    pub outcome: String,
    /// `on`, the event's day.
    pub on: String,
    /// `logIndex`.
    pub log_index: i64,
    /// `event`, as the bank reported it (`null` if the stored report cannot be read).
    pub event: Value,
}

/// A post-loan risk alert as sent (`components/schemas/RiskAlert` without `outcome` and
/// `logIndex`): the `data` of its `risk.alert` event, stored as it was sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RiskAlertSent {
    /// `RiskAlert.id`.
    pub id: String,
    /// `RiskAlert.enterprise`.
    pub enterprise: String,
    /// `RiskAlert.bank`.
    pub bank: String,
    /// `RiskAlert.platform`.
    pub platform: String,
    /// `RiskAlert.grant`.
    pub grant: String,
    /// `RiskAlert.rule`.
    pub rule: String,
    /// `RiskAlert.severity`.
    pub severity: Severity,
    /// `RiskAlert.nameZh`.
    pub name_zh: String,
    /// `RiskAlert.nameEn`.
    pub name_en: String,
    /// `RiskAlert.category`.
    pub category: String,
    /// `RiskAlert.recordDate`.
    pub record_date: String,
}

/// A post-loan risk alert with what became of it (`components/schemas/RiskAlert`), an item of `GET
/// /v1/alerts` (`components/schemas/RiskAlertList`, [`super::Paged`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskAlert {
    /// The alert as sent.
    #[serde(flatten)]
    pub alert: RiskAlertSent,
    /// `RiskAlert.outcome`: `sent` or `refused`.
    pub outcome: String,
    /// `RiskAlert.logIndex`.
    pub log_index: i64,
}

impl Listed for RiskAlert {
    const MEMBER: &'static str = "alerts";
}

/// A bank's subscription to the batch push (`components/schemas/FeedSubscription`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedSubscription {
    /// `FeedSubscription.id`.
    pub id: String,
    /// `FeedSubscription.regions`.
    pub regions: Vec<String>,
    /// `FeedSubscription.industries`.
    pub industries: Vec<String>,
    /// `FeedSubscription.categories`.
    pub categories: Vec<String>,
    /// `FeedSubscription.createdAt`.
    pub created_at: String,
}

/// `GET /v1/feed/subscriptions` (`components/schemas/FeedSubscriptionList`).
#[derive(Debug, Clone, Serialize)]
pub struct FeedSubscriptionList {
    /// `FeedSubscriptionList.subscriptions`.
    pub subscriptions: Vec<FeedSubscription>,
}

/// `POST /v1/feed/subscriptions/{id}/delete` (`components/schemas/FeedSubscriptionDeleted`).
#[derive(Debug, Clone, Serialize)]
pub struct FeedSubscriptionDeleted {
    /// `FeedSubscriptionDeleted.id`.
    pub id: String,
    /// `FeedSubscriptionDeleted.deleted`: always `true`.
    pub deleted: bool,
}

/// A batch without its entries (`components/schemas/FeedBatchSummary`), an item of `GET
/// /v1/feed/batches` (`components/schemas/FeedBatchList`, [`super::Paged`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedBatchSummary {
    /// `FeedBatchSummary.id`.
    pub id: String,
    /// `FeedBatchSummary.enterprises`.
    pub enterprises: i64,
    /// `FeedBatchSummary.records`.
    pub records: i64,
    /// `FeedBatchSummary.firstIndex`.
    pub first_index: i64,
    /// `FeedBatchSummary.lastIndex`.
    pub last_index: i64,
    /// `FeedBatchSummary.createdAt`.
    pub created_at: String,
}

impl Listed for FeedBatchSummary {
    const MEMBER: &'static str = "batches";
}

/// A batch as pushed to a bank (`components/schemas/FeedBatch`), `GET /v1/feed/batches/{id}`;
/// stored as it was built, so it reads back too.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedBatch {
    /// `FeedBatch.id`.
    pub id: String,
    /// `FeedBatch.subscription`.
    pub subscription: String,
    /// `FeedBatch.bank`.
    pub bank: String,
    /// `FeedBatch.createdAt`.
    pub created_at: String,
    /// `FeedBatch.enterprises`.
    pub enterprises: i64,
    /// `FeedBatch.records`.
    pub records: i64,
    /// `FeedBatch.firstIndex`.
    pub first_index: i64,
    /// `FeedBatch.lastIndex`.
    pub last_index: i64,
    /// `FeedBatch.entries`.
    pub entries: Vec<FeedBatchEntry>,
}

/// One enterprise's records in a batch (`components/schemas/FeedBatchEntry`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeedBatchEntry {
    /// `FeedBatchEntry.enterprise`.
    pub enterprise: String,
    /// `FeedBatchEntry.region`.
    pub region: String,
    /// `FeedBatchEntry.industry` (`null` when not known).
    pub industry: Option<String>,
    /// `FeedBatchEntry.logIndex`.
    pub log_index: u64,
    /// `FeedBatchEntry.records`, each a `components/schemas/FeedRecord` (a public record's
    /// date, provider and fields, with its category).
    pub records: Vec<Value>,
}

/// An archived bulletin without its figures (`components/schemas/BulletinSummary`): `POST
/// /v1/admin/bulletins`, and the items of `GET /v1/bulletins`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulletinSummary {
    /// `BulletinSummary.month`.
    pub month: String,
    /// `BulletinSummary.logSize`.
    pub log_size: i64,
    /// `BulletinSummary.sha256`.
    pub sha256: String,
    /// `BulletinSummary.generatedAt`.
    pub generated_at: String,
}

/// `GET /v1/bulletins` (`components/schemas/BulletinList`).
#[derive(Debug, Clone, Serialize)]
pub struct BulletinList {
    /// `BulletinList.bulletins`, newest month first.
    pub bulletins: Vec<BulletinSummary>,
}

/// `GET /v1/bulletins/{month}` as JSON (`components/schemas/BulletinEnvelope`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BulletinEnvelope {
    /// `BulletinEnvelope.bulletin`: the signed bulletin as archived
    /// (`components/schemas/Bulletin`), its bytes' JCS form is what was signed.
    pub bulletin: Value,
    /// `BulletinEnvelope.sha256`.
    pub sha256: String,
    /// `BulletinEnvelope.signature`.
    pub signature: String,
    /// `BulletinEnvelope.signer`.
    pub signer: String,
    /// `BulletinEnvelope.generatedAt`.
    pub generated_at: String,
}
