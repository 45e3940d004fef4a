//! Webhook endpoints (spec/notifications.md §4): register, list, read, rotate, delete, and the
//! delivery history — for active platforms, banks and enterprises, each seeing only its own.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::Error;
use crate::http::{Body, caller, caller_once, json, parse_body};
use crate::node::Node;
use crate::node::answers::webhooks::WebhookList;
use crate::node::notify::{self, EndpointBody};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/webhooks", web::post().to(register))
        .route("/v1/webhooks", web::get().to(list))
        .route("/v1/webhooks/{id}", web::get().to(get))
        .route("/v1/webhooks/{id}/rotate", web::post().to(rotate))
        .route("/v1/webhooks/{id}/delete", web::post().to(delete))
        .route("/v1/webhooks/{id}/deliveries", web::get().to(deliveries));
}

async fn register(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let b: EndpointBody = parse_body(&body)?;
    let v = notify::register(&node, &c, b).await?;
    Ok(json(StatusCode::CREATED, &v))
}

/// No query parameters: an unknown one is a `400 invalid-query`, as on every route.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let _: NoQuery = crate::http::query(&req)?;
    let webhooks = notify::list(&node, &c).await?;
    Ok(json(StatusCode::OK, &WebhookList { webhooks }))
}

async fn get(node: web::Data<Node>, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let _: NoQuery = crate::http::query(&req)?;
    let v = notify::get(&node, &c, id.into_inner()).await?;
    Ok(json(StatusCode::OK, &v))
}

async fn rotate(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let b: EndpointBody = parse_body(&body)?;
    let v = notify::rotate(&node, &c, id.into_inner(), b).await?;
    Ok(json(StatusCode::OK, &v))
}

async fn delete(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let v = notify::delete(&node, &c, id.into_inner()).await?;
    Ok(json(StatusCode::OK, &v))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

async fn deliveries(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: HistoryQuery = crate::http::query(&req)?;
    let v = notify::deliveries(&node, &c, id.into_inner(), q.before, q.limit).await?;
    Ok(json(StatusCode::OK, &v))
}
