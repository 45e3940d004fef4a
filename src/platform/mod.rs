//! The platform role (`consentry serve --role platform --node URL --platform-uscc USCC`).
//!
//! A financing platform is a separate operator with its own key, database and access log. It
//! serves its banks: a bank asks the platform (client assertion addressed to the platform), the
//! platform verifies the bank and the grant itself — the grant offline, its status against the
//! node's signed status lists (cached for their `ttl`) — then fetches from the node under the grant
//! (its own assertion, `onBehalfOf` the bank), hands the bank derived results only for non-public
//! data, and records the onward release in its own log with a reference to the node's entry, so the
//! chain department → node → platform → bank can be followed hop by hop.
//!
//! Its banks are registered through it: `POST /v1/banks` (signed by the platform's own key)
//! registers the bank at the node and in the platform's registry.

pub mod callers;
pub mod client;
pub mod loans;
pub mod objections;
pub mod release;

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::http::{Body, json, parse_body};
use crate::node::Node;
use crate::node::registry::{Actor, NewMember};
use crate::policy::Role;

/// A platform: the shared service core (its own store, log, key) plus the way to the node.
pub struct Platform {
    /// The service core (key, database, log, caches).
    pub core: Node,
    /// This platform's USCC.
    pub uscc: String,
    /// The node.
    pub node: client::NodeClient,
    /// Status lists fetched from the node.
    pub lists: release::ListCache,
    /// Callers the node registered, resolved at the node (also installed as the core's
    /// [`crate::node::Node::foreign_callers`]; spec/access-log.md §1.1).
    pub callers: Arc<callers::NodeCallers>,
    /// The platform's own evaluation model (`evaluation-model`), sent with its banks' evaluation
    /// requests; `None`: the node's built-in model.
    pub evaluation_model: Option<serde_json::Value>,
}

/// Reads and checks the platform's own evaluation model file against `catalog`
/// ([`crate::evaluation::Model::own`]). The error names the file and the problem.
pub fn load_evaluation_model(
    path: &std::path::Path,
    catalog: &crate::catalog::Catalog,
) -> Result<serde_json::Value> {
    let bad = |e: String| {
        Error::invalid(
            "invalid-evaluation-model",
            format!("evaluation model file {}: {e}", path.display()),
        )
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    crate::evaluation::Model::own(&text, catalog).map_err(|e| bad(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| bad(e.to_string()))
}

impl Platform {
    /// Opens the platform of `config` (platform role): its service core, the way to the node, and
    /// its own evaluation model if one is configured, checked here so that a bad file stops the
    /// start. Also returns whether the platform key was created now.
    pub fn open(config: &Config, clock: Arc<dyn crate::clock::Clock>) -> Result<(Self, bool)> {
        let (core, created) = crate::node::start::open(config, clock)?;
        let uscc = config
            .platform_uscc
            .clone()
            .ok_or_else(|| Error::Internal("platform USCC".into()))?;
        let node_url = config
            .node_url
            .clone()
            .ok_or_else(|| Error::Internal("node URL".into()))?;
        let evaluation_model = match &config.evaluation_model {
            Some(path) => Some(load_evaluation_model(path, &core.catalog())?),
            None => None,
        };
        let node = client::NodeClient::new(&node_url, core.key.clone());
        // Regulators, enterprises and the node's operator are registered at the node: their keys
        // are resolved there (spec/access-log.md §1.1), for every route of the platform.
        let resolver = Arc::new(callers::NodeCallers::new(
            node.clone(),
            std::time::Duration::from_secs(callers::CACHE_SECS),
        ));
        let _ = core.foreign_callers.set(resolver.clone());
        Ok((
            Self {
                core,
                uscc,
                node,
                lists: release::ListCache::default(),
                callers: resolver,
                evaluation_model,
            },
            created,
        ))
    }
}

/// Starts the platform's background work on the current actix runtime: a signed checkpoint of its
/// log every `interval_secs` (at least 1), which its receipts and audits read.
pub fn spawn_background(p: web::Data<Platform>, interval_secs: u64) {
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(interval_secs.max(1)));
        loop {
            tick.tick().await;
            if let Err(e) = crate::node::checkpoints::publish(&p.core).await {
                if !e.is_outage() {
                    tracing::warn!(error = %e, "checkpoint not published");
                }
            }
        }
    });
}

/// Runs the platform service until stopped.
pub fn serve(config: Config) -> Result<()> {
    let (platform, created) = Platform::open(&config, Arc::new(SystemClock))?;
    let node_url = config.node_url.clone().unwrap_or_default();
    let (core, uscc) = (&platform.core, platform.uscc.clone());
    if created {
        println!(
            "first start: created the platform key {}; the node operator admits it with:",
            core.did()
        );
        println!(
            "  consentry admin platform add --uscc {uscc} --name NAME --did {} --endpoint {}",
            core.did(),
            config.public_url
        );
    }
    let platform = web::Data::new(platform);
    actix_web::rt::System::new().block_on(async move {
        spawn_background(platform.clone(), config.checkpoint_interval_secs);
        let data = platform.clone();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(crate::http::problems())
                .app_data(data.clone())
                .configure(configure)
        })
        .workers(config.workers)
        .bind(&config.listen)
        .map_err(|e| Error::Internal(format!("cannot listen on {}: {e}", config.listen)))?;
        let addrs: Vec<String> = server.addrs().iter().map(|a| format!("http://{a}")).collect();
        println!(
            "consentry platform {} listening on {} (DID {}, node {})",
            platform.uscc,
            addrs.join(", "),
            platform.core.did(),
            node_url
        );
        if let Some(addr) = &config.metrics_listen {
            let bound = crate::http::routes::metrics::serve_dedicated(platform.clone(), addr)
                .map_err(|e| Error::Internal(format!("cannot listen on {addr} (metrics): {e}")))?;
            println!("metrics on {bound}/metrics");
        }
        server.run().await.map_err(|e| Error::Internal(e.to_string()))
    })
}

/// The platform's routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(actix_web::middleware::from_fn(crate::http::durable_assertions))
            .wrap(actix_web::middleware::from_fn(crate::http::security_headers))
            .wrap(actix_web::middleware::from_fn(log_cors))
            .wrap(actix_web::middleware::from_fn(crate::http::observe::<Platform>))
            .configure(crate::http::routes::metrics::configure::<Platform>)
            .route("/healthz", web::get().to(health))
            .route("/readyz", web::get().to(health))
            .route("/livez", web::get().to(crate::http::routes::public::live))
            .route("/v1/platform", web::get().to(info))
            .route("/v1/banks", web::post().to(add_bank))
            .route("/v1/banks", web::get().to(list_banks))
            .route("/v1/banks/{uscc}/state", web::post().to(set_bank_state))
            .route("/v1/releases", web::post().to(release_handler))
            .route("/v1/evaluations", web::post().to(evaluation_handler))
            .route("/v1/loan-reports", web::post().to(loan_report_handler))
            .route("/v1/objections", web::post().to(objection_handler))
            .route("/v1/enterprise/recipients", web::get().to(recipients_handler))
            // The platform's own access log (spec/access-log.md §1, §4–§7): the same handlers as
            // the node's, over the platform's log — public reads, and access chains and evidence
            // bundles for callers scoped by role (those the node registered resolved there).
            .configure(crate::http::routes::audit::configure_log::<Platform>)
            .configure(crate::http::routes::tiles::configure_for::<Platform>)
            .default_service(web::to(|req: HttpRequest| async move {
                crate::http::not_routed_in(&req, &all_routes())
            })),
    );
}

/// Whether `path` is one of the platform's reads a page of another origin may make (CORS): its
/// description (`/v1/platform`) and its log (`/v1/log/…`, public reads and the access chains an
/// authenticated caller asks for).
fn cross_origin_read(path: &str) -> bool {
    path == "/v1/platform" || path.starts_with("/v1/log/")
}

/// CORS for the platform's log (spec/openapi-platform.yaml, "Cross-origin reads"), so that the
/// regulator's explorer in the node's portal follows a release from the platform's log to the node's
/// (spec/portal.md, `#/chain`). A `GET` of `/v1/platform` or `/v1/log/…` answers
/// `Access-Control-Allow-Origin: *` (and exposes `Retry-After`); a preflight of such a `GET` (an
/// `OPTIONS` with `Access-Control-Request-Method: GET`) answers `204` allowing the `Authorization`
/// header. Nothing else changes: no cookie is ever read (the log's callers authenticate with client
/// assertions in `Authorization`, which a page of another origin can only send with a key it holds),
/// no other route or method is opened, and a preflight for any other method gets no CORS headers.
pub async fn log_cors(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> std::result::Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_web::http::Method;
    use actix_web::http::header::{self, HeaderValue};
    if !cross_origin_read(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let asks_get = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
        .is_some_and(|m| m.as_bytes() == b"GET");
    if req.method() == Method::OPTIONS && asks_get {
        let resp = HttpResponse::NoContent()
            .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET"))
            .insert_header((header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization"))
            .insert_header((header::ACCESS_CONTROL_MAX_AGE, "600"))
            .finish();
        return Ok(req.into_response(resp).map_into_right_body());
    }
    let get = req.method() == Method::GET;
    let mut res = next.call(req).await?;
    if get {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Retry-After"),
        );
    }
    Ok(res.map_into_left_body())
}

/// The platform's routes (method, path), for `405` answers with `Allow`; [`configure`] serves
/// exactly these, with the node API's middleware (spec/security.md §3.3, §3.6).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/metrics"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/livez"),
    ("GET", "/v1/platform"),
    ("POST", "/v1/banks"),
    ("GET", "/v1/banks"),
    ("POST", "/v1/banks/{uscc}/state"),
    ("POST", "/v1/releases"),
    ("POST", "/v1/evaluations"),
    ("POST", "/v1/loan-reports"),
    ("POST", "/v1/objections"),
    ("GET", "/v1/enterprise/recipients"),
];

/// Every route the platform serves (spec/openapi-platform.yaml, compared both ways by
/// `tests/integration/openapi_platform.rs`): its own, and its log's ([`crate::http::routes::audit::PUBLIC_ROUTES`],
/// [`crate::http::routes::audit::AUDIT_ROUTES`], [`crate::http::routes::tiles::ROUTES`]).
pub fn all_routes() -> [&'static [(&'static str, &'static str)]; 4] {
    [
        ROUTES,
        crate::http::routes::audit::PUBLIC_ROUTES,
        crate::http::routes::audit::AUDIT_ROUTES,
        crate::http::routes::tiles::ROUTES,
    ]
}

impl crate::http::routes::audit::LogHost for Platform {
    fn log_core(&self) -> &Node {
        &self.core
    }
}

/// Readiness (`/readyz`, alias `/healthz`): the platform's own database, committer and checkpoints.
async fn health(p: web::Data<Platform>) -> Result<HttpResponse> {
    crate::http::routes::public::ready(&p.core).await
}

async fn info(p: web::Data<Platform>) -> Result<HttpResponse> {
    let (size, root) = p.core.store.call(crate::storage::log_store::head).await?;
    // The node's DID is the audience of the signed requests a bank relays through here (loan
    // reports); absent while the node cannot be reached.
    let node_did = {
        let node = p.node.clone();
        actix_web::rt::task::spawn_blocking(move || node.node_did().ok())
            .await
            .ok()
            .flatten()
    };
    Ok(json(
        StatusCode::OK,
        &crate::node::answers::health::PlatformInfo {
            uscc: p.uscc.clone(),
            did: p.core.did().to_owned(),
            node: p.node.base.clone(),
            node_did,
            log_origin: p.core.origin.clone(),
            log_size: size,
            log_root: hex::encode(root),
        },
    ))
}

/// The node's answer to a change the platform asked for one of its banks: the node's verdict is the
/// answer (a 409 stays a conflict, a 404 a not-found: retrying cannot help); only a node that failed
/// is an upstream problem.
fn node_verdict((status, text): (u16, String)) -> Result<serde_json::Value> {
    if (200..300).contains(&status) {
        return Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null));
    }
    let detail = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["detail"].as_str().map(str::to_owned))
        .unwrap_or(text);
    let said = format!("the node refused the bank: {detail}");
    Err(match status {
        409 => Error::Conflict(said),
        404 => Error::NotFound(said),
        400 => Error::invalid("invalid-body", said),
        403 => Error::Forbidden(said),
        s => Error::Upstream(format!("the node answered {s} for the bank: {detail}")),
    })
}

/// The caller, who must be this platform's own key (its operator).
async fn operator(p: &Platform, req: &HttpRequest) -> Result<crate::node::Caller> {
    let caller = crate::http::caller(&p.core, req).await?;
    caller.require(&[Role::Platform])?;
    if caller.uscc() != p.uscc {
        return Err(Error::Forbidden(
            "only this platform's own key manages its banks".into(),
        ));
    }
    Ok(caller)
}

/// `GET /v1/banks` on a platform (its inline schema in spec/openapi-platform.yaml): the banks as
/// its own registry holds them, each as the node's `Participant`.
#[derive(Debug, serde::Serialize)]
struct BankList {
    /// The banks, in registry order.
    banks: Vec<crate::node::answers::registry::Participant>,
}

/// `GET /v1/banks`: the platform's banks as it holds them (its operator only), with their states.
async fn list_banks(p: web::Data<Platform>, req: HttpRequest) -> Result<HttpResponse> {
    operator(&p, &req).await?;
    let banks = crate::node::registry::list(&p.core, Some("bank".into()), None, None).await?;
    Ok(json(StatusCode::OK, &BankList { banks }))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
}

/// `POST /v1/banks/{uscc}/state`: the platform's operator suspends, resumes or removes one of its
/// banks — at the node first (which logs it, tells the bank and, on removal, suspends every grant
/// naming the bank), then here, in the platform's own log. The node's refusal is the answer, and
/// nothing changes here.
async fn set_bank_state(
    p: web::Data<Platform>,
    req: HttpRequest,
    uscc: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let caller = operator(&p, &req).await?;
    let b: StateBody = parse_body(&body)?;
    let state = crate::node::registry::settable_state(&b.state)?;
    let uscc = uscc.into_inner();
    // Checked before it goes into the node's URL.
    crate::ids::Uscc::parse(&uscc).map_err(|e| Error::invalid("invalid-uscc", format!("uscc: {e}")))?;
    let at_node = {
        let (node, path) = (p.node.clone(), format!("/v1/banks/{uscc}/state"));
        let body = json!({"state": state});
        actix_web::rt::task::spawn_blocking(move || node.post(&path, &body))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
    };
    // A removal the node already made (a retry after this side failed) is finished here.
    let at_node = match node_verdict(at_node) {
        Err(Error::Conflict(_)) if state == crate::policy::ParticipantState::Removed => {
            json!({"suspendedGrants": 0})
        }
        other => other?,
    };
    let here = crate::node::registry::set_state_spending(
        &p.core,
        uscc,
        Role::Bank,
        state,
        Actor::caller(&caller),
        Some(caller.assertion.clone()),
    )
    .await?;
    // The node's count of the grants it suspended; a node answer without one counts none.
    Ok(json(
        StatusCode::OK,
        &crate::node::answers::registry::StateChanged {
            suspended_grants: at_node["suspendedGrants"].as_u64().unwrap_or(0),
            ..here
        },
    ))
}

/// The platform's operator (holding the platform key) registers a bank, at the node and here.
async fn add_bank(p: web::Data<Platform>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let caller = operator(&p, &req).await?;
    let m: NewMember = parse_body(&body)?;
    let at_node = {
        let (node, m) = (p.node.clone(), m.clone());
        actix_web::rt::task::spawn_blocking(move || {
            node.post("/v1/banks", &serde_json::to_value(&m).unwrap_or_default())
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??
    };
    // Only a bank the node registered for this platform (201, or 200 when it already had) is
    // recorded here: a 409 means the code names another participant at the node.
    node_verdict(at_node)?;
    let actor = Actor::caller(&caller);
    let (a, uscc) = (caller.assertion.clone(), p.uscc.clone());
    let bank = p
        .core
        .committer
        .run(move |tx| {
            tx.consume_assertion(&a)?;
            crate::node::registry::add_bank_locally(tx, &m, &uscc, &actor)
        })
        .await?;
    Ok(json(StatusCode::CREATED, &bank))
}

async fn release_handler(p: web::Data<Platform>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let caller = crate::http::caller(&p.core, &req).await?;
    Ok(json(StatusCode::OK, &release::release(&p, &caller, &body).await?))
}

async fn evaluation_handler(p: web::Data<Platform>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let caller = crate::http::caller(&p.core, &req).await?;
    Ok(json(
        StatusCode::OK,
        &release::evaluate(&p, &caller, &body).await?,
    ))
}

async fn loan_report_handler(p: web::Data<Platform>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let caller = crate::http::caller_once(&p.core, &req).await?;
    caller.require(&[Role::Bank])?;
    let b: crate::node::loans::ReportBody = parse_body(&body)?;
    loans::relay(&p, &caller, b).await
}

/// `POST /v1/objections`: an enterprise's objection filed here (or handed on by one of its banks),
/// forwarded to the node in the same call ([`objections::lodge`]).
async fn objection_handler(p: web::Data<Platform>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let caller = crate::http::caller(&p.core, &req).await?;
    let b: objections::LodgeBody = parse_body(&body)?;
    objections::lodge(&p, &caller, b).await
}

/// `GET /v1/enterprise/recipients`: the enterprise's own onward releases here, free
/// ([`objections::recipients`]).
async fn recipients_handler(p: web::Data<Platform>, req: HttpRequest) -> Result<HttpResponse> {
    let caller = crate::http::caller_once(&p.core, &req).await?;
    let q: objections::RecipientsQuery = crate::http::query(&req)?;
    Ok(json(
        StatusCode::OK,
        &objections::recipients(&p, caller, q).await?,
    ))
}
