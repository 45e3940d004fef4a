//! Loan outcomes (`spec/loans.md`): a platform relays its bank's signed report, participants list
//! the loans they may see, and the monthly bulletins are archived, listed and downloaded.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::http::{Body, caller, caller_once, json, parse_body};
use crate::node::answers::PageQuery;
use crate::node::{Node, alerts, bulletins, feed, loans};
use crate::policy::Role;

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/loan-reports", web::post().to(report))
        .route("/v1/loans", web::get().to(list))
        .route("/v1/alerts", web::get().to(alert_list))
        .route("/v1/feed/subscriptions", web::post().to(feed_subscribe))
        .route("/v1/feed/subscriptions", web::get().to(feed_subscriptions))
        .route(
            "/v1/feed/subscriptions/{id}/delete",
            web::post().to(feed_unsubscribe),
        )
        .route("/v1/feed/batches", web::get().to(feed_batches))
        .route("/v1/feed/batches/{id}", web::get().to(feed_batch))
        .route("/v1/bulletins", web::get().to(bulletin_list))
        .route("/v1/bulletins/{month}", web::get().to(bulletin_get))
        .route("/v1/admin/bulletins", web::post().to(bulletin_create));
}

/// `POST /v1/loan-reports`: `201` with the loan as it now stands and the entry's receipt.
async fn report(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    // Who may send comes before what was sent: a bank's or an enterprise's body is never read.
    c.require(&[Role::Platform])?;
    let b: loans::ReportBody = parse_body(&body)?;
    Ok(json(StatusCode::CREATED, &loans::report(&node, &c, b).await?))
}

/// `GET /v1/loans`.
async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: loans::LoansQuery = crate::http::query(&req)?;
    Ok(json(StatusCode::OK, &loans::list(&node, &c, q).await?))
}

/// `GET /v1/bulletins`.
async fn bulletin_list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    crate::http::query::<Empty>(&req)?;
    Ok(json(StatusCode::OK, &bulletins::list(&node, &c).await?))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FormatQuery {
    format: Option<String>,
}

/// `GET /v1/bulletins/{month}`: the signed bulletin (JSON), or its figures as CSV (`format=csv`).
async fn bulletin_get(
    node: web::Data<Node>,
    req: HttpRequest,
    month: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: FormatQuery = crate::http::query(&req)?;
    let b = bulletins::get(&node, &c, &month).await?;
    match q.format.as_deref() {
        None | Some("json") => Ok(json(StatusCode::OK, &bulletins::envelope(&b))),
        Some("csv") => Ok(HttpResponse::Ok()
            .content_type(super::stats::CSV)
            .insert_header((
                "Content-Disposition",
                format!("attachment; filename=\"consentry-bulletin-{}.csv\"", b.month),
            ))
            .body(b.csv)),
        Some(other) => Err(Error::invalid(
            "invalid-query",
            format!("format={other:?}: use json or csv"),
        )),
    }
}

/// `POST /v1/admin/bulletins`: the operator archives a month's bulletin now (`201`).
async fn bulletin_create(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    c.require(&[Role::Node])?;
    let b: bulletins::GenerateBody = parse_body(&body)?;
    Ok(json(StatusCode::CREATED, &bulletins::create(&node, &c, b).await?))
}

/// `GET /v1/alerts`: the post-loan risk alerts the caller may see.
async fn alert_list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: PageQuery = crate::http::query(&req)?;
    Ok(json(StatusCode::OK, &alerts::list(&node, &c, q).await?))
}

/// `POST /v1/feed/subscriptions`: a bank subscribes to public categories by region (`201`).
async fn feed_subscribe(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    c.require(&[Role::Bank])?;
    let b: feed::SubscribeBody = parse_body(&body)?;
    Ok(json(StatusCode::CREATED, &feed::subscribe(&node, &c, b).await?))
}

/// `GET /v1/feed/subscriptions`.
async fn feed_subscriptions(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    crate::http::query::<Empty>(&req)?;
    Ok(json(StatusCode::OK, &feed::subscriptions(&node, &c).await?))
}

/// `POST /v1/feed/subscriptions/{id}/delete`.
async fn feed_unsubscribe(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    crate::http::no_body(&body)?;
    let c = caller(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &feed::unsubscribe(&node, &c, id.into_inner()).await?,
    ))
}

/// `GET /v1/feed/batches`.
async fn feed_batches(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: PageQuery = crate::http::query(&req)?;
    Ok(json(StatusCode::OK, &feed::batches(&node, &c, q).await?))
}

/// `GET /v1/feed/batches/{id}`.
async fn feed_batch(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &feed::batch(&node, &c, id.into_inner()).await?,
    ))
}
