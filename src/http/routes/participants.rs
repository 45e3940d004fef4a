//! Registration, the caller's own record, key rotation, banks, delegations, participant lists,
//! notices and the enterprise's free self-query.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::Error;
use crate::http::{Body, caller, caller_once, json, parse_body};
use crate::node::Node;
use crate::node::answers::registry::ParticipantList;
use crate::node::registry::{self, NewMember};
use crate::policy::Role;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/registrations", web::post().to(register))
        .route("/v1/participants", web::get().to(list))
        .route("/v1/participants/me", web::get().to(me))
        .route("/v1/participants/me/keys", web::post().to(rotate))
        .route("/v1/participants/by-did/{did}", web::get().to(by_did))
        .route("/v1/banks", web::post().to(add_bank))
        .route("/v1/banks/{uscc}/state", web::post().to(set_bank_state))
        .route("/v1/delegations", web::post().to(add_delegation))
        .route("/v1/notices", web::get().to(notices))
        .route("/v1/enterprise/data", web::get().to(own_data));
}

fn text(body: &Body) -> Result<&str, Error> {
    std::str::from_utf8(body)
        .map(str::trim)
        .map_err(|_| Error::invalid("malformed-body", "body must be UTF-8 text"))
}

async fn register(node: web::Data<Node>, body: Body) -> Result<HttpResponse, Error> {
    let p = registry::submit_registration(&node, text(&body)?).await?;
    Ok(json(StatusCode::ACCEPTED, &p))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    role: Option<String>,
    state: Option<String>,
}

async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: ListQuery = crate::http::query(&req)?;
    // Node operators and regulators see everyone; a platform sees its own banks.
    let platform = match c.role {
        Role::Node | Role::Regulator => None,
        Role::Platform => Some(c.uscc().to_owned()),
        _ => {
            return Err(Error::Forbidden(
                "only the node, regulators and platforms list participants".into(),
            ));
        }
    };
    c.require(&[Role::Node, Role::Regulator, Role::Platform])?;
    let role = if platform.is_some() {
        Some("bank".to_owned())
    } else {
        q.role
    };
    let participants = registry::list(&node, role, q.state, platform).await?;
    Ok(json(StatusCode::OK, &ParticipantList { participants }))
}

async fn me(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &registry::describe(&node, c.participant.id).await?,
    ))
}

/// `GET /v1/participants/by-did/{did}`: who holds a key, for platforms only (an active platform
/// resolving a regulator's or an enterprise's assertion it received: spec/access-log.md §1.1).
async fn by_did(
    node: web::Data<Node>,
    req: HttpRequest,
    did: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    c.require(&[Role::Platform])?;
    Ok(json(
        StatusCode::OK,
        &registry::key_holder(&node, did.into_inner()).await?,
    ))
}

async fn rotate(node: web::Data<Node>, body: Body) -> Result<HttpResponse, Error> {
    let v = registry::rotate_key(&node, text(&body)?).await?;
    Ok(json(StatusCode::OK, &v))
}

async fn add_bank(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let m: NewMember = parse_body(&body)?;
    let (p, created) = registry::register_bank(&node, &c, m).await?;
    Ok(json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &p,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateBody {
    state: String,
}

/// `POST /v1/banks/{uscc}/state`: a platform suspends, resumes or removes one of its banks.
async fn set_bank_state(
    node: web::Data<Node>,
    req: HttpRequest,
    uscc: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    c.require(&[Role::Platform])?;
    let b: StateBody = parse_body(&body)?;
    let state = registry::settable_state(&b.state)?;
    Ok(json(
        StatusCode::OK,
        &registry::set_bank_state(&node, &c, uscc.into_inner(), state).await?,
    ))
}

async fn add_delegation(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let d = registry::add_delegation(&node, &c, &body).await?;
    Ok(json(StatusCode::CREATED, &d))
}

async fn notices(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &crate::node::grants::notices_for(&node, &c).await?,
    ))
}

async fn own_data(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    c.require(&[Role::Enterprise])?;
    Ok(json(
        StatusCode::OK,
        &crate::node::data::own_records(&node, c.uscc().to_owned()).await?,
    ))
}
