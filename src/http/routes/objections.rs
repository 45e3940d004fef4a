//! Objections (spec/objections.md): lodging, the receivers' hand-over, the node's review and
//! resolution, and the views.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::http::{Body, caller_once, json, parse_body};
use crate::node::objections::{self, ListQuery, Lodge, StepBody, action};
use crate::node::{Caller, Node};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/objections", web::post().to(lodge))
        .route("/v1/objections", web::get().to(list))
        .route("/v1/objections/{id}", web::get().to(get))
        .route("/v1/objections/{id}/forward", web::post().to(forward))
        .route("/v1/objections/{id}/review", web::post().to(review))
        .route("/v1/objections/{id}/resolve", web::post().to(resolve));
}

async fn active(node: &Node, req: &HttpRequest) -> Result<Caller, Error> {
    let c = caller_once(node, req).await?;
    if !c.active() {
        return Err(Error::Forbidden(format!(
            "{} is {}",
            c.uscc(),
            c.participant.state
        )));
    }
    Ok(c)
}

async fn lodge(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = active(&node, &req).await?;
    let body: Lodge = parse_body(&body)?;
    Ok(json(
        StatusCode::CREATED,
        &objections::file(&node, &c, body).await?,
    ))
}

async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = active(&node, &req).await?;
    let q: ListQuery = crate::http::query(&req)?;
    Ok(json(
        StatusCode::OK,
        &objections::list(&node, &(&c).into(), q).await?,
    ))
}

async fn get(node: web::Data<Node>, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let c = active(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &objections::get(&node, &(&c).into(), id.into_inner()).await?,
    ))
}

/// Which step a statement takes.
#[derive(Clone, Copy)]
enum Act {
    Forward,
    Review,
    Resolve,
}

async fn step(
    node: &Node,
    req: &HttpRequest,
    id: String,
    body: &Body,
    act: Act,
) -> Result<HttpResponse, Error> {
    let c = active(node, req).await?;
    let body: StepBody = parse_body(body)?;
    let v = match act {
        Act::Forward => objections::forward(node, &c, id, body).await?,
        Act::Review => objections::decide(node, &c, id, action::REVIEW, body).await?,
        Act::Resolve => objections::decide(node, &c, id, action::RESOLVE, body).await?,
    };
    Ok(json(StatusCode::OK, &v))
}

async fn forward(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    step(&node, &req, id.into_inner(), &body, Act::Forward).await
}

async fn review(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    step(&node, &req, id.into_inner(), &body, Act::Review).await
}

async fn resolve(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    step(&node, &req, id.into_inner(), &body, Act::Resolve).await
}
