//! `consentry demo`: the whole story on this machine, in under a minute — a node and a platform as
//! two processes, the demo data imported, an enterprise registering, granting, a bank receiving
//! derived results and a credit evaluation through its platform, the 苏信码 display, the bank
//! reporting the loan back, a post-loan risk alert, last month's bulletin, the enterprise revoking,
//! the next request refused — with what happened printed at each step.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{CliError, CliResult};
use crate::catalog::Catalog;
use crate::clock::{Clock, SystemClock};
use crate::credential::data_integrity::create_proof;
use crate::crypto::SecretKey;
use crate::grant::model::{
    CategoryGrant, DataPeriod, Enterprise, Grantee, GranteeRole, Granularity, OnwardRecipient, RatePeriod,
    RecipientRole, Usage,
};
use crate::grant::{GrantDraft, GrantTerms, StatusSlot};
use crate::identity::KeyFile;
use crate::ids::GrantId;
use crate::node::auth;

/// The demo data set (fictional enterprises, every catalog category): demo/records.jsonl.
pub const DEMO_RECORDS: &str = include_str!("../../demo/records.jsonl");

const ENTERPRISE: &str = "91330100716105852F";
const ENTERPRISE_NAME: &str = "杭州示例科技有限公司";
const PLATFORM: &str = "91330000MA28PLAT2L";
const BANK: &str = "91330300MA2GHJK66N";

#[derive(Debug, clap::Args)]
pub(super) struct DemoArgs {
    /// Keep the demo's data folders here instead of a temporary folder.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn fail(e: impl std::fmt::Display) -> CliError {
    CliError::usage(format!("demo: {e}"))
}

fn free_port() -> Result<u16, CliError> {
    Ok(TcpListener::bind("127.0.0.1:0")
        .map_err(fail)?
        .local_addr()
        .map_err(fail)?
        .port())
}

fn step(n: u32, zh: &str, en: &str) {
    println!("\n[{n}] {zh} / {en}");
}

fn ok(what: impl std::fmt::Display) {
    println!("    ✓ {what}");
}

/// The public 苏信码 view must say `want` (`shown`, `display-revoked`, …): the demo fails otherwise.
fn expect_display(what: &str, view: &Value, want: &str) -> Result<(), CliError> {
    let got = view["display"].as_str().unwrap_or("");
    if got == want {
        Ok(())
    } else {
        Err(fail(format!(
            "{what}: the public page says {got:?}, expected {want:?}: {view}"
        )))
    }
}

struct Api {
    base: String,
    audience: String,
}

fn call(r: Result<ureq::Response, ureq::Error>) -> Result<(u16, Value), CliError> {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(fail(e)),
    };
    let status = resp.status();
    let text = resp.into_string().map_err(fail)?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::String(text))))
}

impl Api {
    fn post(&self, key: &KeyFile, path: &str, body: &Value) -> Result<(u16, Value), CliError> {
        let token = auth::make(key, &self.audience, "POST", path, SystemClock.now()).map_err(fail)?;
        call(
            ureq::post(&format!("{}{path}", self.base))
                .set("Authorization", &format!("Bearer {token}"))
                .send_json(body.clone()),
        )
    }
    fn get(&self, key: &KeyFile, path: &str) -> Result<(u16, Value), CliError> {
        let token = auth::make(key, &self.audience, "GET", path, SystemClock.now()).map_err(fail)?;
        call(
            ureq::get(&format!("{}{path}", self.base))
                .set("Authorization", &format!("Bearer {token}"))
                .call(),
        )
    }
    fn post_text(&self, path: &str, body: &str) -> Result<(u16, Value), CliError> {
        call(
            ureq::post(&format!("{}{path}", self.base))
                .set("Content-Type", "text/plain")
                .send_string(body),
        )
    }
}

fn expect(what: &str, got: (u16, Value), want: u16) -> Result<Value, CliError> {
    if got.0 != want {
        return Err(CliError::usage(format!(
            "demo: {what}: expected {want}, got {} {}",
            got.0, got.1
        )));
    }
    Ok(got.1)
}

fn wait_ready(url: &str, child: &mut Child) -> Result<(), CliError> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(CliError::usage(format!(
                "demo: the service exited early ({status})"
            )));
        }
        if ureq::get(&format!("{url}/healthz")).call().is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(CliError::usage(format!("demo: {url} did not come up")))
}

/// `consentry admin --data-dir DIR import FILE`, as the operator would run it; its output.
fn import(data_dir: &str, file: &Path) -> Result<std::process::Output, CliError> {
    let exe = std::env::current_exe().map_err(fail)?;
    let out = Command::new(exe)
        .args([
            "admin",
            "--data-dir",
            data_dir,
            "import",
            &file.display().to_string(),
        ])
        .output()
        .map_err(fail)?;
    if !out.status.success() {
        return Err(CliError::usage(format!(
            "demo: import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Ok(out)
}

fn spawn(args: &[&str], log: &Path) -> Result<Child, CliError> {
    let exe = std::env::current_exe().map_err(fail)?;
    let out = std::fs::File::create(log).map_err(fail)?;
    Command::new(exe)
        .args(args)
        .stdout(Stdio::from(out.try_clone().map_err(fail)?))
        .stderr(Stdio::from(out))
        .spawn()
        .map_err(fail)
}

pub(super) fn run(args: DemoArgs) -> CliResult {
    let started = Instant::now();
    let tmp = tempfile::tempdir().map_err(fail)?;
    let root = args.keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&root).map_err(fail)?;
    let (node_dir, platform_dir) = (root.join("node"), root.join("platform"));
    let (np, pp) = (free_port()?, free_port()?);
    let (node_url, platform_url) = (format!("http://127.0.0.1:{np}"), format!("http://127.0.0.1:{pp}"));
    let mut children = Children(Vec::new());

    step(
        1,
        "启动省级节点（SQLite，零配置）",
        "start the provincial node (SQLite, no set-up)",
    );
    let node_dir_s = node_dir.display().to_string();
    let node_listen = format!("127.0.0.1:{np}");
    let mut node = spawn(
        &["serve", "--data-dir", &node_dir_s, "--listen", &node_listen],
        &root.join("node.log"),
    )?;
    wait_ready(&node_url, &mut node)?;
    children.0.push(node);
    let node_key = KeyFile::read(&node_dir.join("node.key.json")).map_err(fail)?;
    ok(format!("node {node_url}, DID {}", node_key.did));
    let api = Api {
        base: node_url.clone(),
        audience: node_key.did.to_string(),
    };

    step(
        2,
        "导入演示数据（各部门数据）",
        "import the demo data (every catalog category)",
    );
    let data_file = root.join("records.jsonl");
    std::fs::write(&data_file, DEMO_RECORDS).map_err(fail)?;
    let out = import(&node_dir_s, &data_file)?;
    ok(String::from_utf8_lossy(&out.stdout).trim());

    step(
        3,
        "启动融资信用服务平台（独立进程）并由节点准入",
        "start a financing platform (its own process) and admit it",
    );
    let platform_dir_s = platform_dir.display().to_string();
    let platform_listen = format!("127.0.0.1:{pp}");
    let mut platform = spawn(
        &[
            "serve",
            "--role",
            "platform",
            "--node",
            &node_url,
            "--platform-uscc",
            PLATFORM,
            "--data-dir",
            &platform_dir_s,
            "--listen",
            &platform_listen,
        ],
        &root.join("platform.log"),
    )?;
    wait_ready(&platform_url, &mut platform)?;
    children.0.push(platform);
    let platform_key = KeyFile::read(&platform_dir.join("platform.key.json")).map_err(fail)?;
    expect(
        "admit platform",
        api.post(&node_key, "/v1/admin/platforms", &json!({"uscc": PLATFORM, "name": "示例融资信用服务平台", "did": platform_key.did.as_str(), "endpoint": platform_url}))?,
        201,
    )?;
    ok(format!("platform {PLATFORM} admitted, {platform_url}"));
    let papi = Api {
        base: platform_url.clone(),
        audience: platform_key.did.to_string(),
    };
    let bank_key = KeyFile::new(SecretKey::generate().map_err(fail)?);
    expect(
        "register bank",
        papi.post(
            &platform_key,
            "/v1/banks",
            &json!({"uscc": BANK, "name": "示例商业银行", "did": bank_key.did.as_str()}),
        )?,
        201,
    )?;
    ok(format!(
        "bank {BANK} registered by its platform (at the node and at the platform)"
    ));

    step(
        4,
        "企业注册并经节点审核",
        "the enterprise registers with its own key; the node approves",
    );
    let ent = KeyFile::new(SecretKey::generate().map_err(fail)?);
    let reg = auth::make_request(
        &ent,
        &api.audience,
        "register",
        json!({"uscc": ENTERPRISE, "name": ENTERPRISE_NAME}),
        SystemClock.now(),
    )
    .map_err(fail)?;
    expect("registration", api.post_text("/v1/registrations", &reg)?, 202)?;
    let approved = expect(
        "approval",
        api.post(
            &node_key,
            &format!("/v1/admin/registrations/{ENTERPRISE}/approve"),
            &json!({}),
        )?,
        200,
    )?;
    ok(format!(
        "{ENTERPRISE_NAME} {ENTERPRISE} bound to {} — identity credential issued by the node ({})",
        ent.did, approved["identityCredential"]["type"]
    ));

    step(
        5,
        "企业签署授权（eddsa-jcs-2022）",
        "the enterprise signs a grant (eddsa-jcs-2022)",
    );
    let slot = expect(
        "status slot",
        api.post(&ent, "/v1/status/slots", &json!({}))?,
        201,
    )?;
    let now = SystemClock.now();
    let mut draft = GrantDraft {
        id: GrantId::random(),
        issuer: ent.did.to_string(),
        terms: GrantTerms {
            enterprise: Enterprise {
                uscc: ENTERPRISE.into(),
                name: ENTERPRISE_NAME.into(),
            },
            grantee: Grantee {
                uscc: PLATFORM.into(),
                name: "示例融资信用服务平台".into(),
                role: GranteeRole::Platform,
            },
            onward_recipients: vec![OnwardRecipient {
                uscc: BANK.into(),
                name: "示例商业银行".into(),
                role: RecipientRole::Bank,
                categories: vec![
                    CategoryGrant {
                        code: "TAX-03".into(),
                        granularity: Granularity::Derived,
                    },
                    CategoryGrant {
                        code: "UTL-02".into(),
                        granularity: Granularity::Derived,
                    },
                ],
            }],
            // The platform also receives, derived, what the evaluation model reads.
            categories: ["TAX-01", "TAX-02", "TAX-03", "SOC-01", "SOC-02", "UTL-02"]
                .into_iter()
                .map(|code| CategoryGrant {
                    code: code.into(),
                    granularity: Granularity::Derived,
                })
                .collect(),
            purposes: vec![
                "credit-approval".into(),
                "financing-credit-evaluation".into(),
                "post-loan-management".into(),
            ],
            data_period: DataPeriod {
                from: "2025-01-01".into(),
                until: format!("{}-12-31", now.year()),
            },
            usage: Usage::Periodic {
                max_releases: 4,
                per: RatePeriod::Month,
            },
            letters: vec![],
            catalog_version: None,
        },
        valid_from: now - time::Duration::minutes(1),
        valid_until: now + time::Duration::days(180),
        status: StatusSlot {
            base: slot["statusList"].as_str().unwrap_or_default().to_owned(),
            index: slot["statusIndex"].as_u64().unwrap_or_default(),
        },
    };
    let letters = draft.attach_current_letters(&Catalog::builtin());
    let signed = create_proof(&draft.to_credential(), &ent, now).map_err(fail)?;
    let submitted = expect(
        "grant submission",
        api.post_text("/v1/grants", &signed.to_string())?,
        201,
    )?;
    ok(format!(
        "grant {} accepted (letters {}; log entry {})",
        draft.id,
        letters.join(", "),
        submitted["logIndex"]
    ));
    for line in crate::grant::summary::summarize(
        &draft.terms,
        draft.valid_from,
        draft.valid_until,
        &Catalog::builtin(),
    )
    .lines()
    .take(4)
    {
        println!("      {line}");
    }

    step(
        6,
        "银行经平台获取加工结果",
        "the bank asks its platform; the platform asks the node under the grant",
    );
    let ask = json!({"enterprise": ENTERPRISE, "grant": draft.id.as_str(), "categories": ["TAX-03", "UTL-02"], "purpose": "credit-approval"});
    let got = expect("release", papi.post(&bank_key, "/v1/releases", &ask)?, 200)?;
    let release_at_node = got["upstream"]["index"].clone();
    let tax = &got["data"]["TAX-03"];
    ok(format!(
        "derived results only: TAX-03 over {} whole quarters ({} filings), taxes paid ≈ {} (rounded to ¥1,000), sales trend {}; data SHA-256 {}",
        tax["releasedBlocks"].as_array().map_or(0, Vec::len),
        tax["indicators"]["filings"],
        tax["indicators"]["taxPaid"],
        tax["indicators"]["salesTrend"],
        got["dataSha256"]
    ));
    ok(format!(
        "platform log entry {} ← node log entry {} (hop by hop)",
        got["logIndex"], got["upstream"]["index"]
    ));

    step(
        7,
        "银行索取原始明细被拒绝",
        "the bank asks for raw records: refused",
    );
    let mut raw = ask.clone();
    raw["granularity"] = json!("raw");
    let refused = expect("raw refusal", papi.post(&bank_key, "/v1/releases", &raw)?, 403)?;
    ok(format!("refused: {}", reasons(&refused)));

    step(
        8,
        "银行经平台获得信用评价凭证",
        "the bank receives a credit evaluation through its platform, as a signed credential",
    );
    let got = expect(
        "evaluation",
        papi.post(
            &bank_key,
            "/v1/evaluations",
            &json!({"enterprise": ENTERPRISE, "grant": draft.id.as_str()}),
        )?,
        200,
    )?;
    let evaluation = &got["evaluation"];
    let checked = crate::credential::verify(
        serde_json::to_string(evaluation).unwrap_or_default().as_bytes(),
        SystemClock.now(),
    )
    .map_err(|e| fail(format!("the evaluation does not verify: {e}")))?;
    let s = &evaluation["credentialSubject"];
    ok(format!(
        "CreditEvaluation {}: grade {}, score {} (model {} v{}), signed by the node {}",
        evaluation["id"].as_str().unwrap_or(""),
        s["grade"].as_str().unwrap_or(""),
        s["score"],
        s["modelId"].as_str().unwrap_or(""),
        s["modelVersion"],
        checked.signer
    ));
    ok(format!(
        "platform log entry {} cites the evaluation's digest {} ← node log entry {}",
        got["logIndex"],
        got["evaluationSha256"].as_str().unwrap_or(""),
        got["upstream"]["index"]
    ));

    step(
        9,
        "企业授权通过苏信码公示信用评价",
        "the enterprise authorizes showing the evaluation publicly through its 苏信码",
    );
    let sxm = format!("{node_url}/v1/public/sxm/{ENTERPRISE}");
    let before = call(ureq::get(&sxm).call())?.1;
    ok(format!("before: {}", before["display"].as_str().unwrap_or("")));
    let consent = auth::make_request(
        &ent,
        &api.audience,
        "display-authorize",
        json!({"enterprise": ENTERPRISE, "display": "credit-evaluation"}),
        SystemClock.now(),
    )
    .map_err(fail)?;
    expect(
        "display consent",
        api.post_text("/v1/display/authorize", &consent)?,
        200,
    )?;
    let shown = call(ureq::get(&sxm).call())?.1;
    expect_display("after the display consent", &shown, "shown")?;
    if !shown["evaluation"]["credentialSubject"]["grade"].is_string() {
        return Err(fail(format!(
            "the shown page carries no graded evaluation: {shown}"
        )));
    }
    ok(format!(
        "{}: grade {} on {} (QR code: {}/qr.svg)",
        shown["display"].as_str().unwrap_or(""),
        shown["evaluation"]["credentialSubject"]["grade"]
            .as_str()
            .unwrap_or(""),
        shown["page"].as_str().unwrap_or(""),
        shown["page"].as_str().unwrap_or("")
    ));

    step(
        10,
        "企业撤销公示，页面不再展示评价",
        "the enterprise revokes the display: the page shows nothing of it",
    );
    let withdraw = auth::make_request(
        &ent,
        &api.audience,
        "display-revoke",
        json!({"enterprise": ENTERPRISE}),
        SystemClock.now(),
    )
    .map_err(fail)?;
    expect(
        "display revocation",
        api.post_text("/v1/display/revoke", &withdraw)?,
        200,
    )?;
    let hidden = call(ureq::get(&sxm).call())?.1;
    expect_display("after the display revocation", &hidden, "display-revoked")?;
    if !hidden["evaluation"].is_null() {
        return Err(fail(format!(
            "the revoked page still carries the evaluation: {hidden}"
        )));
    }
    ok(format!(
        "{}: {}",
        hidden["display"].as_str().unwrap_or(""),
        hidden["messageZh"].as_str().unwrap_or("")
    ));

    step(
        11,
        "银行经平台向节点反馈融资结果（签名，引用所依据的授权与调用记录）",
        "the bank reports the loan back through its platform (signed, citing the grant and the release it relied on)",
    );
    let (last_month, this_month) = months_around(SystemClock.now());
    let mut loan_state = Value::Null;
    for (id, event) in [
        (
            "demo-1",
            json!({"type": "decision", "decision": "approved", "amount": 800_000, "termMonths": 12,
                          "rateBand": "3-4", "security": "credit", "firstLoan": true, "on": format!("{last_month}-15")}),
        ),
        (
            "demo-2",
            json!({"type": "disbursement", "amount": 800_000, "on": format!("{last_month}-16")}),
        ),
        (
            "demo-3",
            json!({"type": "repayment", "status": "on-time", "amount": 70_000, "on": format!("{this_month}-01")}),
        ),
    ] {
        let report = json!({"reportId": id, "loan": "DEMO-LOAN-1", "enterprise": ENTERPRISE, "grant": draft.id.as_str(),
                            "releases": [release_at_node], "event": event});
        let token = auth::make_request(
            &bank_key,
            &api.audience,
            "loan-report",
            json!({"report": report}),
            SystemClock.now(),
        )
        .map_err(fail)?;
        loan_state = expect(
            "loan report",
            papi.post(&bank_key, "/v1/loan-reports", &json!({"request": token}))?,
            201,
        )?;
        ok(format!(
            "{}: loan {} (balance ¥{}) — platform entry {} ← node entry {}",
            loan_state["outcome"].as_str().unwrap_or(""),
            loan_state["state"].as_str().unwrap_or(""),
            loan_state["balance"],
            loan_state["logIndex"],
            loan_state["upstream"]["index"]
        ));
    }
    let _ = loan_state;

    step(
        12,
        "贷后监测：新增电费逾期记录，平台向放贷银行推送风险预警",
        "post-loan monitoring: an overdue electricity bill arrives; the bank holding the loan is alerted",
    );
    let today = SystemClock.now().date();
    let new_record = json!({"uscc": ENTERPRISE, "category": "UTL-02", "date": today.to_string(), "provider": "GRID",
        "fields": {"billingPeriod": format!("{this_month}"), "electricityKwh": 9800, "billAmount": 8120.4,
                   "amountPaid": 0.0, "overdueBalance": 8120.4, "status": "overdue"}});
    let new_file = root.join("new-record.jsonl");
    std::fs::write(&new_file, format!("{new_record}\n")).map_err(fail)?;
    import(&node_dir_s, &new_file)?;
    let waited = Instant::now();
    let alert = loop {
        let (_, list) = api.get(&bank_key, "/v1/alerts")?;
        if let Some(a) = list["alerts"].as_array().and_then(|a| a.first()) {
            break a.clone();
        }
        if waited.elapsed() > Duration::from_secs(20) {
            return Err(CliError::usage("demo: no risk alert arrived"));
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    ok(format!(
        "{} ({}, {}): {} — a release under the grant, log entry {}; no field value leaves the node",
        alert["nameZh"].as_str().unwrap_or(""),
        alert["nameEn"].as_str().unwrap_or(""),
        alert["severity"].as_str().unwrap_or(""),
        alert["rule"].as_str().unwrap_or(""),
        alert["logIndex"]
    ));

    step(
        13,
        "节点生成并签署上月通报（可由访问日志复算）",
        "the node makes and signs last month's bulletin (recomputable from the access log)",
    );
    let made = api.post(&node_key, "/v1/admin/bulletins", &json!({"month": last_month}))?;
    if made.0 != 201 && made.0 != 409 {
        return Err(CliError::usage(format!("demo: bulletin: {} {}", made.0, made.1)));
    }
    let (_, b) = api.get(&node_key, &format!("/v1/bulletins/{last_month}"))?;
    let total = &b["bulletin"]["loans"]["total"];
    ok(format!(
        "bulletin {last_month}: {} approval(s), ¥{} approved, credit-loan share {}, first loans {}, balance ¥{}; SHA-256 {}",
        total["approvals"],
        total["approvedAmount"],
        total["creditShare"].as_str().unwrap_or("-"),
        total["firstLoans"],
        total["balance"],
        b["sha256"].as_str().unwrap_or("")
    ));

    step(
        14,
        "企业撤销授权（签名请求留存为证据）",
        "the enterprise revokes (its signed request is kept as evidence)",
    );
    let rev = auth::make_request(
        &ent,
        &api.audience,
        "revoke",
        json!({"grant": draft.id.as_str()}),
        SystemClock.now(),
    )
    .map_err(fail)?;
    let revoked = expect(
        "revocation",
        api.post_text(&format!("/v1/grants/{}/revoke", draft.id), &rev)?,
        200,
    )?;
    ok(format!(
        "grant {} is {} (log entry {})",
        draft.id, revoked["state"], revoked["logIndex"]
    ));

    step(15, "撤销后再次请求被拒绝", "the next request is refused");
    let refused = expect(
        "refusal after revocation",
        papi.post(&bank_key, "/v1/releases", &ask)?,
        403,
    )?;
    ok(format!("refused: {}", reasons(&refused)));

    step(
        16,
        "企业免费查询被访问记录",
        "the enterprise reads who received its data, free of charge",
    );
    let history = api.get(&ent, "/v1/log/entries?limit=50")?;
    if history.0 == 200 {
        for e in history.1["entries"].as_array().into_iter().flatten() {
            println!(
                "      #{} {} {} {}",
                e["index"],
                e["time"],
                e["kind"],
                e["record"]["caller"]["uscc"].as_str().unwrap_or("")
            );
        }
    }
    let node_info = call(ureq::get(&format!("{node_url}/v1/node")).call())?.1;
    ok(format!(
        "node access log: {} entries, root {}",
        node_info["logSize"], node_info["logRoot"]
    ));

    println!(
        "\ndone in {:.1} s; logs and data in {}",
        started.elapsed().as_secs_f64(),
        root.display()
    );
    drop(children);
    if args.keep.is_none() {
        drop(tmp);
    }
    Ok(())
}

fn reasons(v: &Value) -> String {
    v["reasons"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["code"].as_str().unwrap_or("?").to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Last month and this month (China Standard Time), as `YYYY-MM`.
fn months_around(now: time::OffsetDateTime) -> (String, String) {
    let d = now
        .to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
        .date();
    let this = format!("{:04}-{:02}", d.year(), u8::from(d.month()));
    let prev = d
        .replace_day(1)
        .ok()
        .and_then(time::Date::previous_day)
        .map_or_else(
            || this.clone(),
            |p| format!("{:04}-{:02}", p.year(), u8::from(p.month())),
        );
    (prev, this)
}
