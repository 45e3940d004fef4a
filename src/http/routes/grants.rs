//! Status slots, grant submission and views, signed status changes, releases and credit evaluations.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::grant::GrantAction;
use crate::http::{Body, caller, caller_once, json, no_body};
use crate::node::{Node, evaluations, grants, release};

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/status/slots", web::post().to(slot))
        .route("/v1/grants", web::post().to(submit))
        .route("/v1/grants", web::get().to(list))
        .route("/v1/grants/{id}", web::get().to(get))
        .route("/v1/grants/{id}/revoke", web::post().to(revoke))
        .route("/v1/grants/{id}/suspend", web::post().to(suspend))
        .route("/v1/grants/{id}/resume", web::post().to(resume))
        .route("/v1/releases", web::post().to(release_handler))
        .route("/v1/evaluations", web::post().to(evaluate_handler))
        .route("/v1/evaluations/{id}", web::get().to(evaluation_handler))
        .route("/v1/evaluations/{id}/withdraw", web::post().to(withdraw_handler));
}

async fn slot(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    crate::http::no_body(&body)?;
    Ok(json(
        StatusCode::CREATED,
        &grants::allocate_slot(&node, &c).await?,
    ))
}

async fn submit(node: web::Data<Node>, body: Body) -> Result<HttpResponse, Error> {
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

async fn list(node: web::Data<Node>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    if !c.active() {
        return Err(Error::Forbidden(format!(
            "{} is {}",
            c.uscc(),
            c.participant.state
        )));
    }
    let q: grants::GrantsQuery = crate::wire::query(&req)?;
    Ok(json(StatusCode::OK, &grants::list_for(&node, &c, q).await?))
}

async fn get(node: web::Data<Node>, req: HttpRequest, id: web::Path<String>) -> Result<HttpResponse, Error> {
    let c = caller_once(&node, &req).await?;
    if !c.active() {
        return Err(Error::Forbidden(format!(
            "{} is {}",
            c.uscc(),
            c.participant.state
        )));
    }
    Ok(json(
        StatusCode::OK,
        &grants::get_for(&node, &c, id.into_inner()).await?,
    ))
}

async fn change(node: &Node, action: GrantAction, id: &str, body: &Body) -> Result<HttpResponse, Error> {
    let token = std::str::from_utf8(body)
        .map_err(|_| Error::invalid("malformed-body", "body must be a signed request"))?
        .trim();
    let v = grants::change_status(node, action, token).await?;
    if v.id != id {
        return Err(Error::Internal(
            "changed another grant than the path names".into(),
        ));
    }
    Ok(json(StatusCode::OK, &v))
}

/// The path's grant id must be the one the signed request names; checked before anything changes.
fn same_grant(node: &Node, id: &str, action: GrantAction, body: &Body) -> Result<(), Error> {
    let token = std::str::from_utf8(body)
        .map_err(|_| Error::invalid("malformed-body", "body must be a signed request"))?
        .trim();
    let req = node.verify_request(token, action.as_str())?;
    if req.str("grant") != Some(id) {
        return Err(Error::invalid(
            "signed-request",
            "the signed request names another grant than the URL",
        ));
    }
    Ok(())
}

async fn revoke(node: web::Data<Node>, id: web::Path<String>, body: Body) -> Result<HttpResponse, Error> {
    same_grant(&node, &id, GrantAction::Revoke, &body)?;
    change(&node, GrantAction::Revoke, &id, &body).await
}

async fn suspend(node: web::Data<Node>, id: web::Path<String>, body: Body) -> Result<HttpResponse, Error> {
    same_grant(&node, &id, GrantAction::Suspend, &body)?;
    change(&node, GrantAction::Suspend, &id, &body).await
}

async fn resume(node: web::Data<Node>, id: web::Path<String>, body: Body) -> Result<HttpResponse, Error> {
    same_grant(&node, &id, GrantAction::Resume, &body)?;
    change(&node, GrantAction::Resume, &id, &body).await
}

async fn release_handler(node: web::Data<Node>, req: HttpRequest, body: Body) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    let mut id = crate::http::RequestId::of(&req);
    let answer = release::release(&node, &c, &body, &mut id).await;
    crate::http::RequestId::set(&req, id);
    Ok(json(StatusCode::OK, &answer?))
}

async fn evaluate_handler(
    node: web::Data<Node>,
    req: HttpRequest,
    body: Body,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &evaluations::evaluate(&node, &c, &body).await?,
    ))
}

async fn evaluation_handler(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let c = caller(&node, &req).await?;
    Ok(json(StatusCode::OK, &evaluations::view(&node, &c, &id).await?))
}

async fn withdraw_handler(
    node: web::Data<Node>,
    req: HttpRequest,
    id: web::Path<String>,
    body: Body,
) -> Result<HttpResponse, Error> {
    no_body(&body)?;
    let c = caller(&node, &req).await?;
    Ok(json(
        StatusCode::OK,
        &evaluations::withdraw(&node, &c, &id).await?,
    ))
}
