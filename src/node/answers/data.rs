//! The enterprise's free view of its own records (`GET /v1/enterprise/data`).

use serde::Serialize;
use serde_json::Value;

use crate::ids::ObjectionId;

/// A correction made to a record on an objection (`EnterpriseData.records[].corrections[]`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordCorrection {
    /// The objection it answered.
    pub objection: ObjectionId,
    /// When, China Standard Time.
    pub at: String,
    /// The fields before, as stored (`null` if they no longer parse).
    pub before: Value,
    /// The fields after, as stored (`null` if they no longer parse).
    pub after: Value,
    /// The access-log entry that recorded the correction.
    pub log_index: i64,
}

/// One raw record the node holds about the enterprise (`EnterpriseData.records[]`).
#[derive(Debug, Clone, Serialize)]
pub struct OwnRecord {
    /// The record's row id.
    pub id: i64,
    /// Its data category.
    pub category: String,
    /// Its date (`YYYY-MM-DD`).
    pub date: String,
    /// The providing department's code.
    pub provider: String,
    /// Its fields, as stored (`null` if they no longer parse).
    pub fields: Value,
    /// Its corrections on objections, oldest first; the member is absent when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrections: Vec<RecordCorrection>,
}

/// `GET /v1/enterprise/data` (`components/schemas/EnterpriseData`; built by
/// [`crate::node::data::own_records`]): every record the node holds about the caller, free.
#[derive(Debug, Clone, Serialize)]
pub struct EnterpriseData {
    /// The enterprise's USCC (`EnterpriseData.enterprise`).
    pub enterprise: String,
    /// Always `true`: the view is free of charge (`EnterpriseData.free`).
    pub free: bool,
    /// `EnterpriseData.records`.
    pub records: Vec<OwnRecord>,
}
