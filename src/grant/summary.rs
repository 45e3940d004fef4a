//! A plain-language account of a grant, in Chinese and English: who may receive what, for which
//! purposes, until when. Shown before signing and after verifying.

use std::fmt::Write as _;

use super::model::{GrantTerms, GranteeRole, Granularity, Usage};
use crate::catalog::Catalog;
use crate::credential::datetime::format_utc_seconds;
use time::OffsetDateTime;

fn category_line(catalog: &Catalog, code: &str, g: Granularity) -> (String, String) {
    let (zh, en, public) = catalog
        .category(code)
        .map_or(("(未知类别)", "(unknown category)", false), |c| {
            (c.name_zh.as_str(), c.name_en.as_str(), c.public)
        });
    let (gzh, gen_) = match g {
        Granularity::Raw => ("原始明细", "raw records"),
        Granularity::Derived => ("加工结果", "derived results"),
    };
    let (pzh, pen) = if public {
        ("公开", "public")
    } else {
        ("非公开", "non-public")
    };
    (
        format!("{code} {zh}（{pzh}，{gzh}）"),
        format!("{code} {en} ({pen}, {gen_})"),
    )
}

/// The summary text, Chinese paragraph first, then English.
pub fn summarize(
    terms: &GrantTerms,
    valid_from: OffsetDateTime,
    valid_until: OffsetDateTime,
    catalog: &Catalog,
) -> String {
    let mut zh = String::new();
    let mut en = String::new();
    let role = |r: GranteeRole| match r {
        GranteeRole::Platform => ("融资信用服务平台", "financing credit service platform"),
        GranteeRole::Node => ("省级节点", "provincial node"),
    };
    let (rzh, ren) = role(terms.grantee.role);
    let _ = writeln!(
        zh,
        "{}（统一社会信用代码 {}）授权{} {}（{}）获取以下信息：",
        terms.enterprise.name, terms.enterprise.uscc, rzh, terms.grantee.name, terms.grantee.uscc
    );
    let _ = writeln!(
        en,
        "{} (USCC {}) authorizes the {} {} ({}) to receive:",
        terms.enterprise.name, terms.enterprise.uscc, ren, terms.grantee.name, terms.grantee.uscc
    );
    for c in &terms.categories {
        let (a, b) = category_line(catalog, &c.code, c.granularity);
        let _ = writeln!(zh, "  · {a}");
        let _ = writeln!(en, "  - {b}");
    }
    for r in &terms.onward_recipients {
        let _ = writeln!(zh, "并可经该平台向银行 {}（{}）提供：", r.name, r.uscc);
        let _ = writeln!(
            en,
            "and, through that platform, the bank {} ({}) may receive:",
            r.name, r.uscc
        );
        for c in &r.categories {
            let (a, b) = category_line(catalog, &c.code, c.granularity);
            let _ = writeln!(zh, "  · {a}");
            let _ = writeln!(en, "  - {b}");
        }
    }
    let purposes: Vec<(&str, &str)> = terms
        .purposes
        .iter()
        .map(|p| {
            catalog.purpose(p).map_or((p.as_str(), p.as_str()), |x| {
                (x.name_zh.as_str(), x.name_en.as_str())
            })
        })
        .collect();
    let _ = writeln!(
        zh,
        "用途仅限：{}。",
        purposes.iter().map(|p| p.0).collect::<Vec<_>>().join("、")
    );
    let _ = writeln!(
        en,
        "Only for: {}.",
        purposes.iter().map(|p| p.1).collect::<Vec<_>>().join(", ")
    );
    let _ = writeln!(
        zh,
        "数据时间范围：{} 至 {}。",
        terms.data_period.from, terms.data_period.until
    );
    let _ = writeln!(
        en,
        "Records dated {} to {}.",
        terms.data_period.from, terms.data_period.until
    );
    match terms.usage {
        Usage::OneOff {} => {
            let _ = writeln!(zh, "一次性使用。");
            let _ = writeln!(en, "One-off use.");
        }
        Usage::Periodic { max_releases, per } => {
            let (pzh, pen) = match per {
                super::model::RatePeriod::Day => ("日", "day"),
                super::model::RatePeriod::Week => ("周", "week"),
                super::model::RatePeriod::Month => ("月", "month"),
            };
            let _ = writeln!(zh, "周期性使用：每{pzh}最多 {max_releases} 次。");
            let _ = writeln!(en, "Periodic use: at most {max_releases} release(s) per {pen}.");
        }
    }
    let (f, u) = (format_utc_seconds(valid_from), format_utc_seconds(valid_until));
    let _ = writeln!(zh, "有效期：{f} 至 {u}，可随时撤销或暂停。");
    let _ = writeln!(
        en,
        "Valid from {f} until {u}; revocable and suspendable at any time."
    );
    if !terms.letters.is_empty() {
        let ids: Vec<&str> = terms.letters.iter().map(|l| l.id.as_str()).collect();
        let _ = writeln!(zh, "已接受的授权书：{}。", ids.join("、"));
        let _ = writeln!(en, "Authorization letters accepted: {}.", ids.join(", "));
    }
    format!("{zh}\n{en}")
}
