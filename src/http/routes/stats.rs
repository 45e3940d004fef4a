//! Monitoring statistics over HTTP (spec/statistics.md, spec/openapi.yaml `/v1/stats…`): the summary
//! and grouped access counts, as JSON or RFC 4180 CSV (`?format=csv` or `Accept: text/csv`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::Error;
use crate::http::{caller_once, json};
use crate::node::Node;
use crate::node::stats::{self, AccessFilters, Period, Scope};

/// `text/csv` as answered (RFC 4180 §3, RFC 7111 `header` parameter).
pub const CSV: &str = "text/csv; charset=utf-8; header=present";

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/stats", web::get().to(summary))
        .route("/v1/stats/access", web::get().to(access))
        .route("/v1/stats/loans", web::get().to(loans))
        .route("/v1/stats/enterprises", web::get().to(enterprises));
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryQuery {
    from: Option<String>,
    until: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AccessQuery {
    from: Option<String>,
    until: Option<String>,
    group_by: Option<String>,
    kind: Option<String>,
    platform: Option<String>,
    bank: Option<String>,
    category: Option<String>,
    format: Option<String>,
}

/// Whether to answer CSV: `format` (`json` or `csv`) decides when given; otherwise the `Accept`
/// header, by quality, `text/csv` against `application/json` (wildcards count for both; ties and
/// no preference: JSON).
fn wants_csv(format: Option<&str>, req: &HttpRequest) -> Result<bool, Error> {
    match format {
        Some("csv") => return Ok(true),
        Some("json") => return Ok(false),
        Some(other) => {
            return Err(Error::invalid(
                "invalid-stats-query",
                format!("format={other:?}: use json or csv"),
            ));
        }
        None => {}
    }
    let accept = req
        .headers()
        .get_all("accept")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let (mut csv, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|v| v.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match media.as_str() {
            "text/csv" | "text/*" => csv = csv.max(q),
            "application/json" | "application/*" => json = json.max(q),
            "*/*" => {
                csv = csv.max(q * 0.5);
                json = json.max(q);
            }
            _ => {}
        }
    }
    Ok(csv > json)
}

fn csv(filename: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(CSV)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(body)
}

async fn summary(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: SummaryQuery = crate::http::query(&req)?;
    let scope = Scope::of(&c)?;
    let as_csv = wants_csv(q.format.as_deref(), &req)?;
    let period = Period::parse(q.from.as_deref(), q.until.as_deref(), node.now_ms())?;
    let s = stats::summary(&node, scope, period).await?;
    Ok(if as_csv {
        let name = format!(
            "consentry-stats-{}-{}.csv",
            stats::day_date(period.from_day),
            stats::day_date(period.until_day)
        );
        csv(&name, s.to_csv())
    } else {
        json(StatusCode::OK, &s.answer())
    })
}

async fn access(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: AccessQuery = crate::http::query(&req)?;
    let scope = Scope::of(&c)?;
    let as_csv = wants_csv(q.format.as_deref(), &req)?;
    let period = Period::parse(q.from.as_deref(), q.until.as_deref(), node.now_ms())?;
    let filters = AccessFilters {
        platform: q.platform,
        bank: q.bank,
        category: q.category,
        kinds: q.kind,
        group_by: q.group_by,
    };
    let t = stats::access(&node, scope, period, filters).await?;
    Ok(if as_csv {
        let name = format!(
            "consentry-access-{}-{}.csv",
            stats::day_date(period.from_day),
            stats::day_date(period.until_day)
        );
        csv(&name, t.to_csv())
    } else {
        json(StatusCode::OK, &t.answer())
    })
}

/// `GET /v1/stats/loans`: the loan figures (`spec/loans.md` §4), JSON or CSV.
async fn loans(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    use crate::node::loans::{FiguresQuery, figures, figures_csv, figures_json};
    let c = caller_once(&node, &req).await?;
    let q: FiguresQuery = crate::http::query(&req)?;
    // Who may read comes first: a bad format from a caller who may not read is a 403.
    let (dims, from, until, rows) = figures(&node, &c, &q).await?;
    let as_csv = wants_csv(q.format.as_deref(), &req)?;
    Ok(if as_csv {
        csv(
            &format!("consentry-loans-{from}-{until}.csv"),
            figures_csv(&dims, &rows, node.industries.as_deref()),
        )
    } else {
        json(
            StatusCode::OK,
            &figures_json(&dims, &from, &until, &rows, node.industries.as_deref()),
        )
    })
}

/// `GET /v1/stats/enterprises`: active registered enterprises by 设区市 and/or industry, JSON or CSV.
async fn enterprises(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    use crate::node::loans::{EnterprisesQuery, enterprises, enterprises_csv, enterprises_json};
    let c = caller_once(&node, &req).await?;
    let q: EnterprisesQuery = crate::http::query(&req)?;
    let (dims, rows) = enterprises(&node, &c, &q).await?;
    let as_csv = wants_csv(q.format.as_deref(), &req)?;
    let table = node.industries.as_deref();
    Ok(if as_csv {
        let by: Vec<&str> = dims.iter().map(|d| d.as_str()).collect();
        let name = if by.is_empty() {
            "total".to_owned()
        } else {
            by.join("-")
        };
        csv(
            &format!("consentry-enterprises-by-{name}.csv"),
            enterprises_csv(&dims, &rows, table),
        )
    } else {
        json(StatusCode::OK, &enterprises_json(&dims, &rows, table))
    })
}
