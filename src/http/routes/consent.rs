//! Consent requests (`spec/consent-requests.md`): a platform or bank asks, the enterprise answers
//! with a grant within the request or declines, the requester may withdraw.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::http::{Body, caller, caller_once, json, no_body, parse_body};
use crate::node::{Node, consent};
use crate::policy::Role;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/consent-requests", web::post().to(create))
        .route("/v1/consent-requests", web::get().to(list))
        .route("/v1/consent-requests/{id}", web::get().to(get))
        .route("/v1/consent-requests/{id}/withdraw", web::post().to(withdraw))
        .route("/v1/consent-requests/{id}/decline", web::post().to(decline))
        .route("/v1/consent-requests/{id}/accept", web::post().to(accept));
}

/// `POST /v1/consent-requests`: `201` with the pending request.
async fn create(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    // Who may ask comes before what was asked: an enterprise's or a regulator's body is never read.
    c.require(&[Role::Platform, Role::Bank])?;
    let b: consent::CreateBody = parse_body(&body)?;
    Ok(json(StatusCode::CREATED, &consent::create(&node, &c, b).await?))
}

/// `GET /v1/consent-requests`.
async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: consent::ListQuery = crate::http::query(&req)?;
    Ok(json(StatusCode::OK, &consent::list(&node, &c, q).await?))
}

/// `GET /v1/consent-requests/{id}`.
async fn get(node: web::Data<Node>, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    Ok(json(StatusCode::OK, &consent::get(&node, &c, &id).await?))
}

/// `POST /v1/consent-requests/{id}/withdraw`.
async fn withdraw(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    no_body(&body)?;
    Ok(json(
        StatusCode::OK,
        &consent::withdraw(&node, &c, id.into_inner()).await?,
    ))
}

/// `POST /v1/consent-requests/{id}/decline`: an empty body or `{"reason": …}`.
async fn decline(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    c.require(&[Role::Enterprise])?;
    let b: consent::DeclineBody = if body.iter().all(u8::is_ascii_whitespace) {
        consent::DeclineBody::default()
    } else {
        parse_body(&body)?
    };
    Ok(json(
        StatusCode::OK,
        &consent::decline(&node, &c, id.into_inner(), b).await?,
    ))
}

/// `POST /v1/consent-requests/{id}/accept`: the signed grant, as for `POST /v1/grants` (its
/// signature authenticates it): `201` (`200` when these bytes already answered this request).
async fn accept(node: web::Data<Node>, id: web::Path<String>, body: Body) -> Result<HttpResponse, Error> {
    let (v, created) = consent::accept(&node, id.into_inner(), body.to_vec(), None).await?;
    Ok(json(
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        &v,
    ))
}
