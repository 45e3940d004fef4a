//! The node operators' API (callers holding the node's key, role `node`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::catalog::Letter;
use crate::error::Error;
use crate::http::{Body, caller, json, parse_body};
use crate::node::answers::registry::RegistrationList;
use crate::node::registry::{self, Actor, NewMember, RegistrationDecision};
use crate::node::{Caller, Node};
use crate::policy::{ParticipantState, Role};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/admin/platforms", web::post().to(admit_platform))
        .route("/v1/admin/regulators", web::post().to(add_regulator))
        .route("/v1/admin/departments", web::post().to(add_department))
        .route("/v1/admin/registrations", web::get().to(registrations))
        .route("/v1/admin/registrations/{uscc}/approve", web::post().to(approve))
        .route("/v1/admin/registrations/{uscc}/reject", web::post().to(reject))
        .route(
            "/v1/admin/participants/{role}/{uscc}/state",
            web::post().to(set_state),
        )
        .route(
            "/v1/admin/participants/{role}/{uscc}/recover-key",
            web::post().to(recover_key),
        )
        .route("/v1/admin/letters", web::post().to(publish_letter));
}

async fn operator(node: &Node, req: &HttpRequest) -> Result<Caller, Error> {
    let c = caller(node, req).await?;
    c.require(&[Role::Node])?;
    c.consume(node).await?;
    Ok(c)
}

async fn admit_platform(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    let m: NewMember = parse_body(&body)?;
    let p = registry::admit_platform(&node, m, Actor::caller(&c)).await?;
    Ok(json(StatusCode::CREATED, &p))
}

async fn add_regulator(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    let m: NewMember = parse_body(&body)?;
    let p = registry::add_regulator(&node, m, Actor::caller(&c)).await?;
    Ok(json(StatusCode::CREATED, &p))
}

/// The body of `POST /v1/admin/departments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentBody {
    uscc: String,
    name: String,
    did: String,
    provider: String,
}

/// `POST /v1/admin/departments`: registers a providing department bound to a catalog provider.
async fn add_department(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    let b: DepartmentBody = parse_body(&body)?;
    let m = NewMember {
        uscc: b.uscc,
        name: b.name,
        did: b.did,
        endpoint: None,
        regions: vec![],
        industry: None,
    };
    Ok(json(
        StatusCode::CREATED,
        &registry::add_department(&node, m, b.provider, Actor::caller(&c)).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct StateQuery {
    state: Option<String>,
}

async fn registrations(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    operator(&node, &req).await?;
    let q: StateQuery = crate::http::query(&req)?;
    let state = q
        .state
        .unwrap_or_else(|| ParticipantState::Pending.as_str().into());
    let registrations = registry::list(&node, Some("enterprise".into()), Some(state), None).await?;
    Ok(json(StatusCode::OK, &RegistrationList { registrations }))
}

async fn approve(
    node: web::Data<Node>,
    req: HttpRequest,
    uscc: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &registry::decide_registration(
            &node,
            uscc.into_inner(),
            RegistrationDecision::Approve,
            Actor::caller(&c),
        )
        .await?,
    ))
}

async fn reject(
    node: web::Data<Node>,
    req: HttpRequest,
    uscc: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &registry::decide_registration(
            &node,
            uscc.into_inner(),
            RegistrationDecision::Reject,
            Actor::caller(&c),
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
}

fn role_of(s: &str) -> Result<Role, Error> {
    Role::parse(s).ok_or_else(|| Error::invalid("invalid-role", format!("unknown role {s}")))
}

async fn set_state(
    node: web::Data<Node>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    let (role, uscc) = path.into_inner();
    let b: StateBody = parse_body(&body)?;
    let state = registry::settable_state(&b.state)?;
    Ok(json(
        StatusCode::OK,
        &registry::set_state(&node, uscc, role_of(&role)?, state, Actor::caller(&c)).await?,
    ))
}

async fn recover_key(
    node: web::Data<Node>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = operator(&node, &req).await?;
    let (role, uscc) = path.into_inner();
    let pop = std::str::from_utf8(&body)
        .map_err(|_| {
            Error::invalid(
                "malformed-body",
                "body must be the new key's signed accept-key request",
            )
        })?
        .trim();
    Ok(json(
        StatusCode::OK,
        &registry::recover_key(&node, uscc, role_of(&role)?, pop, Actor::caller(&c)).await?,
    ))
}

async fn publish_letter(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    operator(&node, &req).await?;
    let letter: Letter = parse_body(&body)?;
    let v = crate::node::letters::publish(&node, letter).await?;
    Ok(json(StatusCode::CREATED, &v))
}
