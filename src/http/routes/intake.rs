//! Signed data intake (`spec/intake.md`): departments submit signed batches and read their own;
//! the node's operators and regulators read every batch.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::http::{Body, caller, caller_once, json, parse_body};
use crate::node::answers::PageQuery;
use crate::node::{Node, intake};
use crate::policy::Role;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/intake/batches", web::post().to(submit))
        .route("/v1/intake/batches", web::get().to(list))
        .route("/v1/intake/batches/{id}", web::get().to(get));
}

/// `POST /v1/intake/batches`: `201` with the batch when it is new, `200` with the batch as first
/// recorded when the node already held it (nothing written).
async fn submit(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    // Who may send comes before what was sent: another role's body is never read.
    c.require(&[Role::Department, Role::Node])?;
    let b: intake::SubmitBody = parse_body(&body)?;
    let batch = intake::submit(&node, &c, b).await?;
    let status = if batch.resubmitted {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json(status, &batch))
}

/// `GET /v1/intake/batches`.
async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: PageQuery = crate::http::query(&req)?;
    Ok(json(StatusCode::OK, &intake::list(&node, &c, q).await?))
}

/// `GET /v1/intake/batches/{id}`.
async fn get(node: web::Data<Node>, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &intake::get(&node, &c, id.into_inner()).await?,
    ))
}
