//! The web portal, served by the node at `/portal`: enterprises register, sign grants and
//! revocations in the browser (their key never leaves it), watch who received their data (each
//! receipt verified in the page), query their own data for free and object to a data item or an
//! access entry (a filing signed in the browser); regulators explore access chains, statistics and
//! objections; node operators approve registrations, admit platforms and review objections;
//! platforms see their banks (and suspend, resume or remove them), the consent requests they made
//! (create, withdraw), the grants naming them, their releases in the log and their statistics;
//! banks the same for their consent requests, their releases' receipts (each verified in the page)
//! and the loans they reported.
//!
//! The pages are static files embedded in the binary ([`assets`]; no external network). The API
//! under `/portal/api` authenticates with a session cookie opened by a signed challenge
//! ([`session`]) and requires the CSRF token on every state-changing call. It reuses the node's
//! operations: the portal adds no rule of its own.

pub mod assets;
pub mod session;
pub mod stats;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::grant::GrantAction;
use crate::node::answers::Paged;
use crate::node::answers::registry::{Participant, RegistrationList};
use crate::node::objections::{self, ListQuery, Lodge, StepBody};
use crate::node::registry::{self, Actor, NewMember, RegistrationDecision};
use crate::node::{Node, audit, consent, grants};
use crate::policy::{ParticipantState, Role};
use crate::wire::{Body, json, parse_body, query};
use session::Session;

/// The portal's API routes (method, path template), for `405` answers with `Allow`
/// ([`crate::http::allowed_methods`]); [`configure`] serves exactly these, plus the static pages.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/portal"),
    ("GET", "/"),
    ("GET", "/portal/api/challenge"),
    ("POST", "/portal/api/session"),
    ("POST", "/portal/api/logout"),
    ("GET", "/portal/api/me"),
    ("POST", "/portal/api/register"),
    ("GET", "/portal/api/directory"),
    ("POST", "/portal/api/slots"),
    ("POST", "/portal/api/grants"),
    ("GET", "/portal/api/grants"),
    ("GET", "/portal/api/grants/{id}"),
    ("POST", "/portal/api/grants/{id}/{action}"),
    ("GET", "/portal/api/consent-requests"),
    ("POST", "/portal/api/consent-requests"),
    ("GET", "/portal/api/consent-requests/{id}"),
    ("POST", "/portal/api/consent-requests/{id}/withdraw"),
    ("POST", "/portal/api/consent-requests/{id}/accept"),
    ("POST", "/portal/api/consent-requests/{id}/decline"),
    ("GET", "/portal/api/history"),
    ("GET", "/portal/api/data"),
    ("GET", "/portal/api/notices"),
    ("POST", "/portal/api/objections"),
    ("GET", "/portal/api/objections"),
    ("GET", "/portal/api/objections/{id}"),
    ("POST", "/portal/api/objections/{id}/{action}"),
    ("GET", "/portal/api/entries"),
    ("GET", "/portal/api/stats"),
    ("GET", "/portal/api/charts/{name}"),
    ("GET", "/portal/api/registrations"),
    ("POST", "/portal/api/registrations/{uscc}/{decision}"),
    ("GET", "/portal/api/platforms"),
    ("POST", "/portal/api/platforms"),
    ("POST", "/portal/api/platforms/{uscc}/state"),
    ("GET", "/portal/api/banks"),
    ("POST", "/portal/api/banks/{uscc}/state"),
    ("GET", "/portal/api/loans"),
    ("GET", "/portal/api/summary"),
    ("GET", "/portal/api/display"),
    ("POST", "/portal/api/display/{action}"),
    ("GET", "/sxm/{uscc}"),
    ("GET", "/sxm/{uscc}/qr.svg"),
];

/// Registers the portal's pages and API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/portal",
        web::get().to(|| async {
            HttpResponse::Found()
                .insert_header(("Location", "/portal/"))
                .finish()
        }),
    )
    .route(
        "/",
        web::get().to(|| async {
            HttpResponse::Found()
                .insert_header(("Location", "/portal/"))
                .finish()
        }),
    )
    .route("/portal/api/challenge", web::get().to(challenge))
    .route("/portal/api/session", web::post().to(sign_in))
    .route("/portal/api/logout", web::post().to(logout))
    .route("/portal/api/me", web::get().to(me))
    .route("/portal/api/register", web::post().to(register))
    .route("/portal/api/directory", web::get().to(directory))
    .route("/portal/api/slots", web::post().to(slot))
    .route("/portal/api/grants", web::post().to(submit_grant))
    .route("/portal/api/grants", web::get().to(list_grants))
    .route("/portal/api/grants/{id}", web::get().to(get_grant))
    .route("/portal/api/grants/{id}/{action}", web::post().to(change_grant))
    .route(
        "/portal/api/consent-requests",
        web::get().to(list_consent_requests),
    )
    .route(
        "/portal/api/consent-requests",
        web::post().to(create_consent_request),
    )
    .route(
        "/portal/api/consent-requests/{id}",
        web::get().to(get_consent_request),
    )
    .route(
        "/portal/api/consent-requests/{id}/withdraw",
        web::post().to(withdraw_consent_request),
    )
    .route(
        "/portal/api/consent-requests/{id}/accept",
        web::post().to(accept_consent_request),
    )
    .route(
        "/portal/api/consent-requests/{id}/decline",
        web::post().to(decline_consent_request),
    )
    .route("/portal/api/history", web::get().to(history))
    .route("/portal/api/data", web::get().to(own_data))
    .route("/portal/api/notices", web::get().to(notices))
    .route("/portal/api/objections", web::post().to(file_objection))
    .route("/portal/api/objections", web::get().to(list_objections))
    .route("/portal/api/objections/{id}", web::get().to(get_objection))
    .route(
        "/portal/api/objections/{id}/{action}",
        web::post().to(decide_objection),
    )
    .route("/portal/api/entries", web::get().to(entries))
    .route("/portal/api/stats", web::get().to(stats_json))
    .route("/portal/api/charts/{name}", web::get().to(chart))
    .route("/portal/api/registrations", web::get().to(registrations))
    .route(
        "/portal/api/registrations/{uscc}/{decision}",
        web::post().to(decide),
    )
    .route("/portal/api/platforms", web::get().to(platforms))
    .route("/portal/api/platforms", web::post().to(admit_platform))
    .route(
        "/portal/api/platforms/{uscc}/state",
        web::post().to(platform_state),
    )
    .route("/portal/api/banks", web::get().to(own_banks))
    .route("/portal/api/banks/{uscc}/state", web::post().to(bank_state))
    .route("/portal/api/loans", web::get().to(loans))
    .route("/portal/api/summary", web::get().to(own_summary))
    .route("/portal/api/display", web::get().to(own_display))
    .route("/portal/api/display/{action}", web::post().to(change_display))
    .route("/sxm/{uscc}", web::get().to(sxm_page))
    .route("/sxm/{uscc}/qr.svg", web::get().to(sxm_qr))
    .route("/portal/{file:.*}", web::get().to(assets::serve));
}

fn secure(node: &Node) -> bool {
    node.public_url.starts_with("https://")
}

async fn session(node: &Node, req: &HttpRequest) -> Result<Session> {
    let token = req
        .cookie(session::COOKIE)
        .ok_or_else(|| Error::Unauthenticated("no session: sign in".into()))?;
    session::lookup(node, token.value()).await
}

/// A session for a state-changing call: the CSRF header must match.
async fn session_csrf(node: &Node, req: &HttpRequest) -> Result<Session> {
    let s = session(node, req).await?;
    let given = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if given.is_empty() || given != s.csrf {
        return Err(Error::Forbidden("missing or wrong X-CSRF-Token".into()));
    }
    Ok(s)
}

fn need(s: &Session, roles: &[Role]) -> Result<()> {
    if !roles.contains(&s.role) {
        return Err(Error::Forbidden(format!(
            "this page is not for a {}",
            s.role.as_str()
        )));
    }
    if s.participant.state != ParticipantState::Active {
        return Err(Error::Forbidden(format!(
            "{} is {}",
            s.participant.uscc, s.participant.state
        )));
    }
    Ok(())
}

fn who(s: &Session) -> Value {
    json!({"uscc": s.participant.uscc, "name": s.participant.name, "role": s.role.as_str(), "state": s.participant.state, "did": s.did.as_str(), "platform": s.participant.platform_uscc})
}

async fn challenge(node: web::Data<Node>) -> Result<HttpResponse> {
    Ok(json(
        StatusCode::OK,
        &json!({"challenge": session::challenge(&node)?, "nodeDid": node.did(), "text": "consentry-portal-login\\n<nodeDid>\\n<challenge>\\n"}),
    ))
}

async fn sign_in(node: web::Data<Node>, body: Body) -> Result<HttpResponse> {
    let req: session::SignIn = parse_body(&body)?;
    let s = session::sign_in(&node, req).await?;
    let cookie = Cookie::build(session::COOKIE, s.token)
        .path("/portal")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(&node))
        .max_age(actix_web::cookie::time::Duration::milliseconds(session::MAX_MS))
        .finish();
    let p = &s.participant;
    Ok(HttpResponse::Ok()
        .cookie(cookie)
        .content_type("application/json")
        .body(json!({"csrf": s.csrf, "participant": {"uscc": p.uscc, "name": p.name, "role": p.role, "state": p.state}}).to_string()))
}

async fn logout(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    session::end(&node, &s).await?;
    let mut gone = Cookie::build(session::COOKIE, "")
        .path("/portal")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(&node))
        .finish();
    gone.make_removal();
    Ok(HttpResponse::Ok()
        .cookie(gone)
        .content_type("application/json")
        .body("{\"signedOut\":true}"))
}

async fn me(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &json!({"participant": who(&s), "csrf": s.csrf, "nodeDid": node.did(), "logOrigin": node.origin}),
    ))
}

async fn register(node: web::Data<Node>, body: Body) -> Result<HttpResponse> {
    let token = std::str::from_utf8(&body)
        .map_err(|_| Error::invalid("malformed-body", "body must be a signed request"))?
        .trim();
    let p = registry::submit_registration(&node, token).await?;
    Ok(json(StatusCode::ACCEPTED, &p))
}

/// Admitted platforms with their banks: what an enterprise picks from in the grant wizard.
async fn directory(node: web::Data<Node>) -> Result<HttpResponse> {
    let platforms = registry::list(
        &node,
        Some("platform".into()),
        Some(ParticipantState::Active.as_str().into()),
        None,
    )
    .await?;
    let banks = registry::list(
        &node,
        Some("bank".into()),
        Some(ParticipantState::Active.as_str().into()),
        None,
    )
    .await?;
    let out: Vec<Value> = platforms
        .into_iter()
        .map(|p| {
            let mine: Vec<Value> = banks
                .iter()
                .filter(|b| b.platform.as_deref() == Some(p.uscc.as_str()))
                .map(|b| json!({"uscc": b.uscc, "name": b.name}))
                .collect();
            json!({"uscc": p.uscc, "name": p.name, "banks": mine})
        })
        .collect();
    Ok(json(StatusCode::OK, &json!({"platforms": out})))
}

async fn slot(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    Ok(json(
        StatusCode::CREATED,
        &grants::allocate_slot(&node, &s.caller(&node)?).await?,
    ))
}

async fn submit_grant(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    // The session's enterprise must be the grant's: a signed-in enterprise cannot submit in another's name.
    let quick = crate::grant::verify::verify_using(&body, &node.catalog(), &node.keys, node.clock.now());
    if let Ok(g) = &quick {
        if g.enterprise().as_str() != s.participant.uscc {
            return Err(Error::Forbidden("the grant is for another enterprise".into()));
        }
    }
    let (v, created) = grants::submit(&node, body.to_vec()).await?;
    Ok(json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &v,
    ))
}

/// The roles that read their own share of consent requests and grants in the portal, as at
/// `GET /v1/consent-requests` and `GET /v1/grants`: the node narrows each answer to the caller
/// (regulators and the node: all).
const SHARE_READERS: &[Role] = &[
    Role::Enterprise,
    Role::Regulator,
    Role::Node,
    Role::Platform,
    Role::Bank,
];

/// The consent requests addressed to the signed-in enterprise, or made by the signed-in platform or
/// bank (regulators and the node: all), as `GET /v1/consent-requests` answers them.
async fn list_consent_requests(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, SHARE_READERS)?;
    let q: consent::ListQuery = query(&req)?;
    Ok(json(
        StatusCode::OK,
        &consent::list(&node, &s.caller(&node)?, q).await?,
    ))
}

async fn get_consent_request(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, SHARE_READERS)?;
    Ok(json(
        StatusCode::OK,
        &consent::get(&node, &s.caller(&node)?, &id).await?,
    ))
}

/// The signed-in platform or bank asks an enterprise for a grant, exactly as
/// `POST /v1/consent-requests` (the requester is the session's participant, never the body's).
async fn create_consent_request(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    // Who may ask comes before what was asked, as in `/v1`.
    need(&s, &[Role::Platform, Role::Bank])?;
    let b: consent::CreateBody = parse_body(&body)?;
    Ok(json(
        StatusCode::CREATED,
        &consent::create(&node, &s.caller(&node)?, b).await?,
    ))
}

/// The signed-in platform or bank withdraws its own pending request
/// (`POST /v1/consent-requests/{id}/withdraw`).
async fn withdraw_consent_request(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Platform, Role::Bank])?;
    Ok(json(
        StatusCode::OK,
        &consent::withdraw(&node, &s.caller(&node)?, id.into_inner()).await?,
    ))
}

/// The signed-in enterprise answers a request with the grant it signed in this browser (the body):
/// the grant must be its own, and within the request (`crate::node::consent::accept`).
async fn accept_consent_request(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    let (v, created) = consent::accept(
        &node,
        id.into_inner(),
        body.to_vec(),
        Some(s.participant.uscc.clone()),
    )
    .await?;
    Ok(json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &v,
    ))
}

async fn decline_consent_request(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    let b: consent::DeclineBody = if body.iter().all(u8::is_ascii_whitespace) {
        consent::DeclineBody::default()
    } else {
        parse_body(&body)?
    };
    Ok(json(
        StatusCode::OK,
        &consent::decline(&node, &s.caller(&node)?, id.into_inner(), b).await?,
    ))
}

async fn list_grants(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, SHARE_READERS)?;
    Ok(json(
        StatusCode::OK,
        &grants::list_for(&node, &s.caller(&node)?, query(&req)?).await?,
    ))
}

async fn get_grant(node: web::Data<Node>, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, SHARE_READERS)?;
    Ok(json(
        StatusCode::OK,
        &grants::get_for(&node, &s.caller(&node)?, id.into_inner()).await?,
    ))
}

async fn change_grant(
    node: web::Data<Node>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    let (id, action) = path.into_inner();
    let action = GrantAction::parse(&action).ok_or_else(|| Error::NotFound(format!("no action {action}")))?;
    let token = signed_body(&body)?;
    let signed = node.verify_request(token, action.as_str())?;
    if signed.str("grant") != Some(id.as_str()) {
        return Err(Error::invalid(
            "signed-request",
            "the signed request names another grant than the URL",
        ));
    }
    if signed.signer.as_str() != s.did.as_str() {
        return Err(Error::Forbidden(
            "sign the request with the key you signed in with".into(),
        ));
    }
    Ok(json(
        StatusCode::OK,
        &grants::change_status(&node, action, token).await?,
    ))
}

/// The enterprise's own access history (free), with each entry's leaf, record and salt so the page
/// can check the commitment, fetch the receipt and verify it against a signed checkpoint.
async fn history(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    let q: audit::EntryQuery = query(&req)?;
    need(&s, &[Role::Enterprise])?;
    let caller = s.caller(&node)?;
    Ok(json(
        StatusCode::OK,
        &node.store.call(move |c| audit::entries(c, &caller, q)).await?,
    ))
}

async fn own_data(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    Ok(json(
        StatusCode::OK,
        &crate::node::data::own_records(&node, s.participant.uscc.clone()).await?,
    ))
}

async fn notices(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &grants::notices_for(&node, &s.caller(&node)?).await?,
    ))
}

/// The body of a portal call that carries one signed request (compact JWS), as text.
fn signed_body(body: &Body) -> Result<&str> {
    Ok(std::str::from_utf8(body)
        .map_err(|_| Error::invalid("malformed-body", "body must be a signed request"))?
        .trim())
}

/// An enterprise files an objection (spec/objections.md) signed in the browser: the node receives
/// and takes it at once, exactly as `POST /v1/objections` does for an enterprise. The filing must be
/// signed with the key the session was opened with.
async fn file_objection(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    let token = signed_body(&body)?;
    let filing = objections::parse_filing(&node, token)?;
    if filing.signer != s.did.as_str() {
        return Err(Error::Forbidden(
            "sign the objection with the key you signed in with".into(),
        ));
    }
    if filing.enterprise != s.participant.uscc {
        return Err(Error::Forbidden("the objection is for another enterprise".into()));
    }
    let lodge = Lodge {
        filing: token.to_owned(),
        receipt: None,
        forward: None,
    };
    Ok(json(
        StatusCode::CREATED,
        &objections::file(&node, &s.caller(&node)?, lodge).await?,
    ))
}

/// Objections the session may see: an enterprise its own (each with its steps, statements and
/// corrections), regulators and the operator all of them, filtered as `GET /v1/objections`.
async fn list_objections(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    let q: ListQuery = query(&req)?;
    need(&s, &[Role::Enterprise, Role::Regulator, Role::Node])?;
    let actor = objections::Actor::from(&s.caller(&node)?);
    let page = objections::list(&node, &actor, q).await?;
    if s.role == Role::Enterprise {
        let mut items = Vec::with_capacity(page.items.len());
        for o in page.items {
            items.push(objections::get(&node, &actor, o.id).await?);
        }
        return Ok(json(
            StatusCode::OK,
            &Paged {
                items,
                next: page.next,
            },
        ));
    }
    Ok(json(StatusCode::OK, &page))
}

async fn get_objection(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Enterprise, Role::Regulator, Role::Node])?;
    let actor = objections::Actor::from(&s.caller(&node)?);
    Ok(json(
        StatusCode::OK,
        &objections::get(&node, &actor, id.into_inner()).await?,
    ))
}

/// The operator opens the review of an objection or resolves it, with a statement signed in the
/// browser by the node key the session was opened with (what `consentry admin objection review` /
/// `resolve` sign at the command line).
async fn decide_objection(
    node: web::Data<Node>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Node])?;
    let (id, action) = path.into_inner();
    let act: &'static str = match action.as_str() {
        "review" => objections::action::REVIEW,
        "resolve" => objections::action::RESOLVE,
        other => return Err(Error::NotFound(format!("no action {other}"))),
    };
    let token = signed_body(&body)?;
    let signed = node.verify_request(token, act)?;
    if signed.signer.as_str() != s.did.as_str() {
        return Err(Error::Forbidden(
            "sign the statement with the key you signed in with".into(),
        ));
    }
    let step = StepBody {
        statement: token.to_owned(),
    };
    Ok(json(
        StatusCode::OK,
        &objections::decide(&node, &s.caller(&node)?, id, act, step).await?,
    ))
}

/// Log entries with their leaves and records: regulators and the operator all of them, a platform
/// or a bank those naming it (narrowed by `crate::node::audit::entries`, as `GET /v1/log/entries`).
async fn entries(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    let q: audit::EntryQuery = query(&req)?;
    need(&s, &[Role::Regulator, Role::Node, Role::Platform, Role::Bank])?;
    let caller = s.caller(&node)?;
    Ok(json(
        StatusCode::OK,
        &node.store.call(move |c| audit::entries(c, &caller, q)).await?,
    ))
}

async fn stats_json(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Regulator, Role::Node])?;
    Ok(json(StatusCode::OK, &stats::compute(&node).await?))
}

async fn chart(node: web::Data<Node>, req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Regulator, Role::Node])?;
    let st = stats::compute(&node).await?;
    let svg = stats::chart(&name, &st).ok_or_else(|| Error::NotFound(format!("no chart {name}")))?;
    Ok(HttpResponse::Ok().content_type("image/svg+xml").body(svg))
}

async fn registrations(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Node])?;
    Ok(json(
        StatusCode::OK,
        &RegistrationList {
            registrations: registry::list(
                &node,
                Some("enterprise".into()),
                Some(ParticipantState::Pending.as_str().into()),
                None,
            )
            .await?,
        },
    ))
}

async fn decide(
    node: web::Data<Node>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Node])?;
    let (uscc, decision) = path.into_inner();
    let decision = RegistrationDecision::parse(&decision)
        .ok_or_else(|| Error::NotFound(format!("no decision {decision}")))?;
    Ok(json(
        StatusCode::OK,
        &registry::decide_registration(&node, uscc, decision, Actor::caller(&s.caller(&node)?)).await?,
    ))
}

/// A platform as the portal's platform page lists it: its registry record with its banks'
/// records appended (`banks`).
#[derive(Debug, serde::Serialize)]
struct PlatformWithBanks {
    /// The platform's record (its members, flattened).
    #[serde(flatten)]
    platform: Participant,
    /// The records of the banks it registered.
    banks: Vec<Participant>,
}

async fn platforms(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Node, Role::Regulator])?;
    let platforms = registry::list(&node, Some("platform".into()), None, None).await?;
    let banks = registry::list(&node, Some("bank".into()), None, None).await?;
    let out: Vec<PlatformWithBanks> = platforms
        .into_iter()
        .map(|p| PlatformWithBanks {
            banks: banks
                .iter()
                .filter(|b| b.platform.as_deref() == Some(p.uscc.as_str()))
                .cloned()
                .collect(),
            platform: p,
        })
        .collect();
    Ok(json(StatusCode::OK, &json!({"platforms": out})))
}

async fn admit_platform(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Node])?;
    let m: NewMember = parse_body(&body)?;
    let p = registry::admit_platform(&node, m, Actor::caller(&s.caller(&node)?)).await?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"uscc": p.uscc, "name": p.name, "state": p.state}),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
}

async fn platform_state(
    node: web::Data<Node>,
    req: HttpRequest,
    uscc: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Node])?;
    let b: StateBody = parse_body(&body)?;
    let state = registry::settable_state(&b.state)?;
    Ok(json(
        StatusCode::OK,
        &registry::set_state(
            &node,
            uscc.into_inner(),
            Role::Platform,
            state,
            Actor::caller(&s.caller(&node)?),
        )
        .await?,
    ))
}

/// The signed-in platform's banks with their states (`GET /v1/participants` for a platform).
async fn own_banks(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Platform])?;
    let banks = registry::list(&node, Some("bank".into()), None, Some(s.participant.uscc.clone())).await?;
    Ok(json(StatusCode::OK, &json!({"participants": banks})))
}

/// The signed-in platform suspends, resumes or removes one of its banks, as
/// `POST /v1/banks/{uscc}/state` (another platform's bank is `404`).
async fn bank_state(
    node: web::Data<Node>,
    req: HttpRequest,
    uscc: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Platform])?;
    let b: StateBody = parse_body(&body)?;
    let state = registry::settable_state(&b.state)?;
    Ok(json(
        StatusCode::OK,
        &registry::set_bank_state(&node, &s.caller(&node)?, uscc.into_inner(), state).await?,
    ))
}

/// Loans the session may see, as `GET /v1/loans` (a platform those reported through it, a bank its
/// own).
async fn loans(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Platform, Role::Bank, Role::Regulator, Role::Node])?;
    let q: crate::node::loans::LoansQuery = query(&req)?;
    Ok(json(
        StatusCode::OK,
        &crate::node::loans::list(&node, &s.caller(&node)?, q).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryQuery {
    from: Option<String>,
    until: Option<String>,
}

/// The statistics summary in the session's scope, as `GET /v1/stats` answers it (a platform or a
/// bank: its own figures only).
async fn own_summary(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    use crate::node::stats::{Period, Scope, summary};
    let s = session(&node, &req).await?;
    need(&s, &[Role::Platform, Role::Bank, Role::Regulator, Role::Node])?;
    let q: SummaryQuery = query(&req)?;
    let scope = Scope::of(&s.caller(&node)?)?;
    let period = Period::parse(q.from.as_deref(), q.until.as_deref(), node.now_ms())?;
    Ok(json(
        StatusCode::OK,
        &summary(&node, scope, period).await?.answer(),
    ))
}

/// The signed-in enterprise's 苏信码: what its public page shows now (spec/evaluation.md §6).
async fn own_display(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse> {
    let s = session(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    Ok(json(
        StatusCode::OK,
        &crate::node::display::public_view(&node, &s.participant.uscc).await?,
    ))
}

/// Authorizes or revokes the display by a request signed in the browser with the key the
/// enterprise signed in with.
async fn change_display(
    node: web::Data<Node>,
    req: HttpRequest,
    action: web::Path<String>,
    body: Body,
) -> Result<HttpResponse> {
    let s = session_csrf(&node, &req).await?;
    need(&s, &[Role::Enterprise])?;
    let action = crate::node::display::DisplayAction::parse(&action)
        .ok_or_else(|| Error::NotFound(format!("no display action {action}")))?;
    let token = signed_body(&body)?;
    let signed = node.verify_request(token, action.as_str())?;
    if signed.signer.as_str() != s.did.as_str()
        || signed.str("enterprise") != Some(s.participant.uscc.as_str())
    {
        return Err(Error::Forbidden(
            "sign the request for your own enterprise with the key you signed in with".into(),
        ));
    }
    Ok(json(
        StatusCode::OK,
        &crate::node::display::change(&node, action, token).await?,
    ))
}

/// The public 苏信码 page (no sign-in): the same page for every enterprise, which reads
/// `/v1/public/sxm/{uscc}` and verifies the credential in the browser. `404` (with the page, which
/// says so) for an enterprise the node does not have, `400` for a malformed code.
async fn sxm_page(node: web::Data<Node>, uscc: web::Path<String>) -> HttpResponse {
    let status = match crate::node::display::public_view(&node, &uscc).await {
        Ok(_) => StatusCode::OK,
        Err(e) => actix_web::ResponseError::status_code(&e),
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", assets::CSP))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-store"))
        .body(assets::SXM_PAGE)
}

/// The page's URL as a QR code.
async fn sxm_qr(node: web::Data<Node>, uscc: web::Path<String>) -> Result<HttpResponse> {
    let svg = crate::node::display::qr_svg(&node, &uscc).await?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"sxm-{uscc}.svg\""),
        ))
        .body(svg))
}
