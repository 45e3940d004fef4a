//! Monitoring statistics for the regulator's pages, and their charts as server-rendered SVG (real
//! plots of the real figures). The figures come from the statistics rollups
//! ([`crate::node::stats::summary`], spec/statistics.md): a handful of small indexed reads whatever
//! the size of the access log, never a count over the log or the grants table.

use serde_json::{Value, json};

use crate::error::Result;
use crate::grant::GrantState;
use crate::node::Node;
use crate::node::stats::{self, Period, Scope};

/// Days shown in the per-day series (ending today, China Standard Time).
pub const DAYS: i64 = stats::DEFAULT_DAYS;

/// The figures: participants by role and state, enterprises, grants by state (expired apart), and
/// over the last [`DAYS`] CST days releases, refusals and onward releases per day, platform, bank
/// and category; objections by state and deadline.
pub async fn compute(node: &Node) -> Result<Value> {
    let period = Period::parse(None, None, node.now_ms())?;
    let s = stats::summary(node, Scope::All, period).await?;
    let full = s.to_json();
    let g = s.grants.unwrap_or_default();
    let mut platforms = serde_json::Map::new();
    for (p, c) in &s.by_platform {
        let key = if p.is_empty() {
            "(none)".to_owned()
        } else {
            p.clone()
        };
        platforms.insert(
            key,
            json!({"releases": c.releases, "refusals": c.refusals, "onwardReleases": c.onward_releases}),
        );
    }
    Ok(json!({
        "asOf": full["asOf"],
        "period": full["period"],
        "participants": s.participants.unwrap_or_default().into_iter()
            .map(|(r, st, n)| json!({"role": r, "state": st, "count": n})).collect::<Vec<_>>(),
        "enterprises": full["enterprises"],
        "grants": [
            {"state": GrantState::Active, "count": g.active},
            {"state": GrantState::Suspended, "count": g.suspended},
            {"state": GrantState::Revoked, "count": g.revoked},
            {"state": "expired", "count": g.expired},
        ],
        "expiredGrants": g.expired,
        "perPlatform": platforms,
        "perDay": full["access"]["byDay"],
        "perBank": full["access"]["byBank"],
        "perCategory": full["access"]["byCategory"],
        "objections": full["objections"],
        "loansByRegion": loans_by_region(node).await?,
    }))
}

/// Loan figures of the last twelve months by 设区市 (spec/loans.md §4), for the regulator's pages.
async fn loans_by_region(node: &Node) -> Result<Value> {
    use crate::node::loans::{FiguresQuery, figures_as, figures_json};
    let q = FiguresQuery {
        group_by: Some("region".into()),
        ..Default::default()
    };
    let (dims, from, until, rows) = figures_as(node, crate::policy::Role::Regulator, "", &q).await?;
    Ok(json!(figures_json(
        &dims,
        &from,
        &until,
        &rows,
        node.industries.as_deref(),
    )))
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A grouped bar chart: `labels`, two series named by `legend`, as SVG.
fn bars(title: &str, labels: &[String], a: &[i64], b: &[i64], legend: (&str, &str)) -> String {
    let (w, h, left, bottom, top) = (720.0_f64, 300.0_f64, 48.0_f64, 70.0_f64, 36.0_f64);
    let max = a.iter().chain(b).copied().max().unwrap_or(0).max(1) as f64;
    let n = labels.len().max(1) as f64;
    let slot = (w - left - 10.0) / n;
    let bar = (slot * 0.38).max(1.0);
    let y = |v: i64| top + (h - top - bottom) * (1.0 - v as f64 / max);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>\
         <text x=\"{left}\" y=\"20\" font-size=\"14\" font-family=\"sans-serif\">{t}</text>",
        t = escape(title)
    );
    for i in 0..=4 {
        let v = (max * f64::from(i) / 4.0).round() as i64;
        let yy = y(v);
        svg.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" font-family=\"sans-serif\">{v}</text>",
            w - 10.0,
            left - 4.0,
            yy + 3.0
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.1;
        let (va, vb) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
        svg.push_str(&format!(
            "<rect class=\"releases\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"#2f6fbd\"><title>{}: {va}</title></rect>",
            y(va),
            (h - bottom) - y(va),
            escape(label)
        ));
        svg.push_str(&format!(
            "<rect class=\"refusals\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"#c0392b\"><title>{}: {vb}</title></rect>",
            x + bar,
            y(vb),
            (h - bottom) - y(vb),
            escape(label)
        ));
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" font-family=\"sans-serif\" transform=\"rotate(60 {:.1} {:.1})\">{}</text>",
            x,
            h - bottom + 12.0,
            x,
            h - bottom + 12.0,
            escape(label)
        ));
    }
    svg.push_str(&format!(
        "<rect x=\"{}\" y=\"8\" width=\"10\" height=\"10\" fill=\"#2f6fbd\"/><text x=\"{}\" y=\"17\" font-size=\"11\" font-family=\"sans-serif\">{}</text>\
         <rect x=\"{}\" y=\"8\" width=\"10\" height=\"10\" fill=\"#c0392b\"/><text x=\"{}\" y=\"17\" font-size=\"11\" font-family=\"sans-serif\">{}</text></svg>",
        w - 230.0,
        w - 215.0,
        escape(legend.0),
        w - 120.0,
        w - 105.0,
        escape(legend.1)
    ));
    svg
}

/// The chart `name` (`per-day` or `per-platform`) of `stats`, as SVG.
pub fn chart(name: &str, stats: &Value) -> Option<String> {
    match name {
        "per-day.svg" | "per-day" => {
            let days = stats["perDay"].as_array()?;
            let labels: Vec<String> = days
                .iter()
                .map(|d| d["date"].as_str().unwrap_or("").get(5..).unwrap_or("").to_owned())
                .collect();
            let a: Vec<i64> = days.iter().map(|d| d["releases"].as_i64().unwrap_or(0)).collect();
            let b: Vec<i64> = days.iter().map(|d| d["refusals"].as_i64().unwrap_or(0)).collect();
            Some(bars(
                "每日放行与拒绝 Releases and refusals per day",
                &labels,
                &a,
                &b,
                ("放行 releases", "拒绝 refusals"),
            ))
        }
        "per-platform.svg" | "per-platform" => {
            let m = stats["perPlatform"].as_object()?;
            let labels: Vec<String> = m.keys().cloned().collect();
            let a: Vec<i64> = m.values().map(|v| v["releases"].as_i64().unwrap_or(0)).collect();
            let b: Vec<i64> = m.values().map(|v| v["refusals"].as_i64().unwrap_or(0)).collect();
            Some(bars(
                "各平台放行与拒绝 Releases and refusals per platform",
                &labels,
                &a,
                &b,
                ("放行 releases", "拒绝 refusals"),
            ))
        }
        "loans-by-region.svg" | "loans-by-region" => {
            let rows = stats["loansByRegion"]["rows"].as_array()?;
            let labels: Vec<String> = rows
                .iter()
                .map(|r| r["regionName"].as_str().unwrap_or("").to_owned())
                .collect();
            let a: Vec<i64> = rows
                .iter()
                .map(|r| r["approvals"].as_i64().unwrap_or(0))
                .collect();
            let b: Vec<i64> = rows
                .iter()
                .map(|r| r["firstLoans"].as_i64().unwrap_or(0))
                .collect();
            Some(bars(
                "各设区市贷款审批与首贷(近12个月) Approvals and first loans by city, 12 months",
                &labels,
                &a,
                &b,
                ("审批 approvals", "首贷 first loans"),
            ))
        }
        _ => None,
    }
}
