//! Loan outcomes (`spec/loans.md`): a platform relays its bank's signed report, and participants
//! list the loans they may see.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::http::{Body, caller, caller_once, json, parse_body};
use crate::node::{Node, loans};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/loan-reports", web::post().to(report))
        .route("/v1/loans", web::get().to(list));
}

/// `POST /v1/loan-reports`: `201` with the loan as it now stands and the entry's receipt.
async fn report(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let b: loans::ReportBody = parse_body(&body)?;
    Ok(json(StatusCode::CREATED, &loans::report(&node, &c, b).await?))
}

/// `GET /v1/loans`.
async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    let q: loans::LoansQuery = crate::http::query(&req)?;
    Ok(json(StatusCode::OK, &loans::list(&node, &c, q).await?))
}
