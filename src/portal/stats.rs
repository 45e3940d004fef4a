//! Monitoring statistics for the regulator's pages, and their charts as server-rendered SVG (real
//! plots of the real figures).

use diesel::dsl::count_star;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::error::Result;
use crate::node::Node;
use crate::storage::schema::{grants, log_leaves, participants};

/// Days shown in the per-day series.
pub const DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// The figures: participants by role and state, grants by state, releases and refusals per
/// platform and per day (last 30 days).
pub async fn compute(node: &Node) -> Result<Value> {
    let now = node.now_ms();
    node.store
        .call(move |c| -> Result<Value> {
            let parts: Vec<(String, String, i64)> = participants::table
                .group_by((participants::role, participants::state))
                .select((participants::role, participants::state, count_star()))
                .load(c)?;
            let grant_states: Vec<(String, i64)> =
                grants::table.group_by(grants::state).select((grants::state, count_star())).load(c)?;
            let expired: i64 = grants::table.filter(grants::valid_until.lt(now)).count().get_result(c)?;
            let per_platform: Vec<(Option<String>, i16, i64)> = log_leaves::table
                .filter(log_leaves::kind.eq_any([1i16, 2i16]))
                .group_by((log_leaves::platform_uscc, log_leaves::kind))
                .select((log_leaves::platform_uscc, log_leaves::kind, count_star()))
                .load(c)?;
            let since = (now / DAY_MS - (DAYS - 1)) * DAY_MS;
            let mut days = Vec::new();
            for d in 0..DAYS {
                let start = since + d * DAY_MS;
                let count = |c: &mut crate::storage::DbConn, k: i16| -> Result<i64> {
                    Ok(log_leaves::table
                        .filter(log_leaves::kind.eq(k))
                        .filter(log_leaves::time.ge(start))
                        .filter(log_leaves::time.lt(start + DAY_MS))
                        .count()
                        .get_result(c)?)
                };
                let date = crate::storage::from_millis(start).date();
                days.push(json!({"date": date.to_string(), "releases": count(c, 1)?, "refusals": count(c, 2)?}));
            }
            let mut platforms = serde_json::Map::new();
            for (p, kind, n) in per_platform {
                let key = p.unwrap_or_else(|| "(none)".into());
                let e = platforms.entry(key).or_insert_with(|| json!({"releases": 0, "refusals": 0}));
                e[if kind == 1 { "releases" } else { "refusals" }] = json!(n);
            }
            Ok(json!({
                "participants": parts.into_iter().map(|(r, s, n)| json!({"role": r, "state": s, "count": n})).collect::<Vec<_>>(),
                "enterprises": {"registered": 0},
                "grants": grant_states.into_iter().map(|(s, n)| json!({"state": s, "count": n})).collect::<Vec<_>>(),
                "expiredGrants": expired,
                "perPlatform": platforms,
                "perDay": days,
            }))
        })
        .await
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A grouped bar chart: `labels`, two series (releases, refusals), as SVG.
fn bars(title: &str, labels: &[String], a: &[i64], b: &[i64]) -> String {
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
        "<rect x=\"{}\" y=\"8\" width=\"10\" height=\"10\" fill=\"#2f6fbd\"/><text x=\"{}\" y=\"17\" font-size=\"11\" font-family=\"sans-serif\">放行 releases</text>\
         <rect x=\"{}\" y=\"8\" width=\"10\" height=\"10\" fill=\"#c0392b\"/><text x=\"{}\" y=\"17\" font-size=\"11\" font-family=\"sans-serif\">拒绝 refusals</text></svg>",
        w - 230.0,
        w - 215.0,
        w - 120.0,
        w - 105.0
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
            ))
        }
        _ => None,
    }
}
