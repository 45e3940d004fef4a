//! The HTTP API (actix-web). Handlers are thin: authenticate, call the node's operation, answer.
//! Errors become RFC 9457 problems in one place ([`problem`]). The contract is `spec/openapi.yaml`;
//! a test compares it with [`ROUTES`] both ways.

pub mod problem;
pub mod routes;

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::node::{Caller, Node};

/// Largest JSON body accepted by any endpoint (grants and credentials included).
pub const MAX_BODY: usize = 64 * 1024;

/// Every route served: (method, path template as in the OpenAPI document).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/v1/node"),
    ("GET", "/v1/catalog"),
    ("GET", "/v1/catalog/letters"),
    ("GET", "/v1/catalog/letters/{provider}/{version}"),
    ("GET", "/ns/v1"),
    ("GET", "/status/{list}/{purpose}"),
    ("POST", "/v1/registrations"),
    ("GET", "/v1/participants"),
    ("GET", "/v1/participants/me"),
    ("POST", "/v1/participants/me/keys"),
    ("POST", "/v1/banks"),
    ("POST", "/v1/delegations"),
    ("POST", "/v1/status/slots"),
    ("POST", "/v1/grants"),
    ("GET", "/v1/grants"),
    ("GET", "/v1/grants/{id}"),
    ("POST", "/v1/grants/{id}/revoke"),
    ("POST", "/v1/grants/{id}/suspend"),
    ("POST", "/v1/grants/{id}/resume"),
    ("POST", "/v1/releases"),
    ("GET", "/v1/enterprise/data"),
    ("GET", "/v1/notices"),
    ("POST", "/v1/objections"),
    ("GET", "/v1/objections"),
    ("GET", "/v1/objections/{id}"),
    ("POST", "/v1/objections/{id}/forward"),
    ("POST", "/v1/objections/{id}/review"),
    ("POST", "/v1/objections/{id}/resolve"),
    ("POST", "/v1/webhooks"),
    ("GET", "/v1/webhooks"),
    ("GET", "/v1/webhooks/{id}"),
    ("POST", "/v1/webhooks/{id}/rotate"),
    ("POST", "/v1/webhooks/{id}/delete"),
    ("GET", "/v1/webhooks/{id}/deliveries"),
    ("POST", "/v1/admin/platforms"),
    ("POST", "/v1/admin/regulators"),
    ("GET", "/v1/admin/registrations"),
    ("POST", "/v1/admin/registrations/{uscc}/approve"),
    ("POST", "/v1/admin/registrations/{uscc}/reject"),
    ("POST", "/v1/admin/participants/{role}/{uscc}/state"),
    ("POST", "/v1/admin/participants/{role}/{uscc}/recover-key"),
    ("POST", "/v1/admin/letters"),
    ("GET", "/v1/log/checkpoint"),
    ("GET", "/v1/log/checkpoints"),
    ("GET", "/v1/log/leaves"),
    ("GET", "/v1/log/proof/inclusion"),
    ("GET", "/v1/log/proof/consistency"),
    ("GET", "/v1/log/receipts/{index}"),
    ("GET", "/v1/log/entries"),
    ("GET", "/v1/log/export"),
    ("GET", "/v1/log/tile/{level}/{n}"),
    ("GET", "/v1/log/tile/entries/{n}"),
    ("GET", "/v1/stats"),
    ("GET", "/v1/stats/access"),
];

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::PathConfig::default().error_handler(|e, _| Error::invalid("invalid-path", e.to_string()).into()),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| Error::invalid("invalid-query", e.to_string()).into()),
    );
    routes::public::configure(cfg);
    routes::participants::configure(cfg);
    routes::grants::configure(cfg);
    routes::notifications::configure(cfg);
    routes::admin::configure(cfg);
    routes::audit::configure(cfg);
    routes::tiles::configure(cfg);
    routes::stats::configure(cfg);
    routes::objections::configure(cfg);
    crate::portal::configure(cfg);
    cfg.default_service(web::to(|| async {
        Err::<HttpResponse, Error>(Error::NotFound("no such endpoint".into()))
    }));
}

/// The bearer token of a request.
pub fn bearer(req: &HttpRequest) -> Result<&str, Error> {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(|| {
            Error::Unauthenticated("send a client assertion as Authorization: Bearer <jwt>".into())
        })
}

/// Authenticates the request's caller and records its assertion id durably at once (for operations
/// that do not record it in their own transaction).
pub async fn caller_once(node: &Node, req: &HttpRequest) -> Result<Caller, Error> {
    let c = caller(node, req).await?;
    c.consume(node).await?;
    Ok(c)
}

/// Authenticates the request's caller. The operation must consume the assertion id in its own
/// transaction ([`crate::storage::log_store::Tx::consume_jti`]); otherwise use [`caller_once`].
pub async fn caller(node: &Node, req: &HttpRequest) -> Result<Caller, Error> {
    let token = bearer(req)?;
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    node.authenticate(token, req.method().as_str(), &path).await
}

/// A JSON answer.
pub fn json(status: actix_web::http::StatusCode, body: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(body.to_string())
}

/// Reads a JSON body strictly (duplicate keys refused) into `T`.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let node =
        crate::crypto::json::parse(body).map_err(|e| Error::invalid("malformed-json", e.to_string()))?;
    crate::crypto::json::de::from_node(&node).map_err(|e| Error::invalid("invalid-body", e.to_string()))
}

/// A request body of at most [`MAX_BODY`] bytes; larger bodies are refused as RFC 9457 problems
/// (from `Content-Length` when it is given, before anything is read).
#[derive(Debug)]
pub struct Body(pub web::Bytes);

impl std::ops::Deref for Body {
    type Target = web::Bytes;
    fn deref(&self) -> &web::Bytes {
        &self.0
    }
}

impl actix_web::FromRequest for Body {
    type Error = Error;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let declared = req
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut stream = payload.take();
        Box::pin(async move {
            use futures_util::StreamExt as _;
            if declared.is_some_and(|n| n > MAX_BODY) {
                return Err(Error::TooLarge(MAX_BODY));
            }
            let mut buf = web::BytesMut::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| Error::invalid("malformed-body", e.to_string()))?;
                if buf.len() + chunk.len() > MAX_BODY {
                    return Err(Error::TooLarge(MAX_BODY));
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(Body(buf.freeze()))
        })
    }
}

/// Wraps an app so that the error answers actix-web makes itself (a path or query that does not
/// parse, a method a path does not serve) are RFC 9457 problems like every other error.
pub fn problems<B: 'static>() -> actix_web::middleware::ErrorHandlers<B> {
    use actix_web::dev::ServiceResponse;
    use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
    fn to_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
        let is_problem = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(problem::PROBLEM_JSON));
        if is_problem {
            return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
        }
        let status = res.status();
        let err = match status.as_u16() {
            404 => Error::NotFound("no such resource".into()),
            405 => Error::invalid(
                "method-not-allowed",
                format!(
                    "{} is not served on {}",
                    res.request().method(),
                    res.request().path()
                ),
            ),
            413 => Error::TooLarge(MAX_BODY),
            400..=499 => Error::invalid(
                "invalid-request",
                status.canonical_reason().unwrap_or("invalid request").to_owned(),
            ),
            _ => Error::Internal(status.to_string()),
        };
        let (req, _) = res.into_parts();
        let mut resp = actix_web::ResponseError::error_response(&err);
        *resp.status_mut() = status;
        Ok(ErrorHandlerResponse::Response(
            ServiceResponse::new(req, resp).map_into_right_body(),
        ))
    }
    ErrorHandlers::new().default_handler(to_problem)
}
