//! The HTTP API (actix-web). Handlers are thin: authenticate, call the node's operation, answer.
//! Errors become RFC 9457 problems in one place ([`problem`]). The contract is `spec/openapi.yaml`;
//! a test compares it with [`ROUTES`] both ways.

pub mod problem;
pub mod routes;

use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, web};

use crate::error::Error;
use crate::node::{Caller, Node};
pub use crate::wire::{Body, MAX_BODY, accepted_media_type, json, no_body, parse_body, query};

/// Every route served: (method, path template as in the OpenAPI document).
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/livez"),
    ("GET", "/readyz"),
    ("GET", "/v1/node"),
    ("GET", "/v1/catalog"),
    ("GET", "/v1/catalog/derivations"),
    ("GET", "/v1/public/sxm/{uscc}"),
    ("POST", "/v1/display/{action}"),
    ("GET", "/v1/catalog/letters"),
    ("GET", "/v1/catalog/letters/{provider}/{version}"),
    ("GET", "/ns/v1"),
    ("GET", "/status/{list}/{purpose}"),
    ("POST", "/v1/registrations"),
    ("GET", "/v1/participants"),
    ("GET", "/v1/participants/me"),
    ("POST", "/v1/participants/me/keys"),
    ("GET", "/v1/participants/by-did/{did}"),
    ("POST", "/v1/banks"),
    ("POST", "/v1/banks/{uscc}/state"),
    ("POST", "/v1/delegations"),
    ("POST", "/v1/status/slots"),
    ("POST", "/v1/grants"),
    ("GET", "/v1/grants"),
    ("GET", "/v1/grants/{id}"),
    ("POST", "/v1/grants/{id}/revoke"),
    ("POST", "/v1/grants/{id}/suspend"),
    ("POST", "/v1/grants/{id}/resume"),
    ("POST", "/v1/consent-requests"),
    ("GET", "/v1/consent-requests"),
    ("GET", "/v1/consent-requests/{id}"),
    ("POST", "/v1/consent-requests/{id}/withdraw"),
    ("POST", "/v1/consent-requests/{id}/decline"),
    ("POST", "/v1/consent-requests/{id}/accept"),
    ("POST", "/v1/releases"),
    ("POST", "/v1/evaluations"),
    ("GET", "/v1/evaluations/{id}"),
    ("POST", "/v1/evaluations/{id}/withdraw"),
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
    ("GET", "/v1/log/keys"),
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
    ("GET", "/v1/stats/loans"),
    ("GET", "/v1/stats/enterprises"),
    ("POST", "/v1/loan-reports"),
    ("POST", "/v1/intake/batches"),
    ("GET", "/v1/intake/batches"),
    ("GET", "/v1/intake/batches/{id}"),
    ("POST", "/v1/admin/departments"),
    ("GET", "/v1/loans"),
    ("GET", "/v1/alerts"),
    ("POST", "/v1/feed/subscriptions"),
    ("GET", "/v1/feed/subscriptions"),
    ("POST", "/v1/feed/subscriptions/{id}/delete"),
    ("GET", "/v1/feed/batches"),
    ("GET", "/v1/feed/batches/{id}"),
    ("GET", "/v1/bulletins"),
    ("GET", "/v1/bulletins/{month}"),
    ("POST", "/v1/admin/bulletins"),
    ("GET", "/metrics"),
];

/// Registers every route, inside one scope that carries the middleware every answer needs (so the
/// service, the platform role and the tests serve exactly the same stack):
///
/// * [`security_headers`]: `X-Content-Type-Options: nosniff` on every answer, `Cache-Control:
///   no-store` on every `/v1` and `/portal/api` answer (they carry personal data and CSRF tokens);
/// * [`durable_assertions`]: an assertion id that authenticated a request is durably spent before
///   any error answer leaves (spec/security.md §3.3);
/// * [`observe`] (outermost): the request's id and log span, `X-Request-Id`, and the request's
///   count and latency in the metrics;
/// * unknown paths are `404 not-found`; a known path with another method is `405
///   method-not-allowed` with `Allow` (RFC 9110 §15.5.6).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(actix_web::middleware::from_fn(durable_assertions))
            .wrap(actix_web::middleware::from_fn(security_headers))
            .wrap(actix_web::middleware::from_fn(observe::<Node>))
            .configure(routes::metrics::configure::<Node>)
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| Error::invalid("invalid-path", e.to_string()).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| Error::invalid("invalid-query", e.to_string()).into()),
            )
            .configure(routes::public::configure)
            .configure(routes::participants::configure)
            .configure(routes::grants::configure)
            .configure(routes::consent::configure)
            .configure(routes::notifications::configure)
            .configure(routes::admin::configure)
            .configure(routes::audit::configure)
            .configure(routes::tiles::configure)
            .configure(routes::stats::configure)
            .configure(routes::loans::configure)
            .configure(routes::intake::configure)
            .configure(routes::objections::configure)
            .configure(crate::portal::configure)
            .default_service(web::to(not_routed)),
    );
}

/// The methods that `routes` (lists of method and path template) serve on `path`; `{x}` in a
/// template matches one non-empty segment.
pub fn allowed_methods(path: &str, routes: &[&[(&'static str, &'static str)]]) -> Vec<&'static str> {
    let segs: Vec<&str> = path.split('/').collect();
    let matches = |template: &str| {
        let t: Vec<&str> = template.split('/').collect();
        t.len() == segs.len()
            && t.iter().zip(&segs).all(|(t, s)| {
                if t.starts_with('{') && t.ends_with('}') {
                    !s.is_empty()
                } else {
                    t == s
                }
            })
    };
    let mut out: Vec<&'static str> = routes
        .iter()
        .flat_map(|r| r.iter())
        .filter(|(_, t)| matches(t))
        .map(|(m, _)| *m)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

async fn not_routed(req: HttpRequest) -> HttpResponse {
    not_routed_in(&req, &[ROUTES, crate::portal::ROUTES])
}

/// The answer to a request no route took: `405 method-not-allowed` with `Allow` when `routes` serve
/// its path with other methods, else `404 not-found`.
pub fn not_routed_in(req: &HttpRequest, routes: &[&[(&'static str, &'static str)]]) -> HttpResponse {
    let allowed = allowed_methods(req.path(), routes);
    if allowed.is_empty() {
        return actix_web::ResponseError::error_response(&Error::NotFound("no such endpoint".into()));
    }
    let err = Error::MethodNotAllowed(format!(
        "{} is not served on {}; use {}",
        req.method(),
        req.path(),
        allowed.join(", ")
    ));
    let mut resp = actix_web::ResponseError::error_response(&err);
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")) {
        resp.headers_mut().insert(actix_web::http::header::ALLOW, v);
    }
    resp
}

/// The id of the request being served (spec/ops/README.md §3): the `X-Request-Id` the client sent
/// (1–200 visible ASCII characters), else one made (`urn:uuid:…`). A release replaces it with the
/// `requestId` of its body when the body names one, so that the answer, the access-log entry, the
/// log lines and the `X-Request-Id` header all carry the same id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id of `req` ([`observe`] sets it; a request served without it gets a new one).
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map_or_else(new_request_id, |r| r.0.clone())
    }

    /// Makes `id` the request's id, for the answer's `X-Request-Id` (the operation that chose it
    /// records it in the request's log span).
    pub fn set(req: &HttpRequest, id: String) {
        req.extensions_mut().insert(RequestId(id));
    }
}

/// Whether a client's request id can be used as is: 1–200 visible ASCII characters (no spaces, no
/// control characters: it goes into log lines and a header).
pub fn usable_request_id(id: &str) -> bool {
    (1..=200).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
}

/// A new request id, `urn:uuid:` and a random (v4) UUID.
pub fn new_request_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// The method as a metric label (no allocation; `other` for an unusual one).
fn method_label(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// Observes every request (see [`configure`]): gives it its [`RequestId`] and a log span `request`
/// carrying it (so every line logged while it is served names it), answers with `X-Request-Id`, and
/// counts the answer by method, route template and status, with its latency, in the metrics of the
/// service `H` served (its app data; none counted when it is absent). The path itself is never
/// logged nor a label: it may hold a USCC or a grant id.
pub async fn observe<H: routes::audit::LogHost>(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use tracing::Instrument as _;
    let started = std::time::Instant::now();
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable_request_id(v))
        .map_or_else(new_request_id, str::to_owned);
    let method = method_label(req.method());
    let span = tracing::info_span!("request", request_id = %id, method);
    req.extensions_mut().insert(RequestId(id));
    let host = req.app_data::<web::Data<H>>().cloned();
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status().as_u16();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::debug!(status, route = %route, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "answered");
    });
    if let Some(h) = host {
        h.log_core().metrics.http_answered(
            &crate::metrics::HttpLabels {
                method,
                route,
                status,
            },
            elapsed,
        );
    }
    let id = res.request().extensions_mut().remove::<RequestId>().map(|r| r.0);
    if let Some(v) = id.and_then(|id| actix_web::http::header::HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            v,
        );
    }
    Ok(res)
}

/// Adds the headers every answer carries (see [`configure`]).
pub async fn security_headers(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::header::{CACHE_CONTROL, HeaderValue, X_CONTENT_TYPE_OPTIONS};
    let private = req.path().starts_with("/v1/") || req.path().starts_with("/portal/api/");
    let mut res = next.call(req).await?;
    let h = res.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if private && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// The assertion that authenticated a request, kept in the request's extensions by [`caller`] so
/// that [`durable_assertions`] can spend it if the operation answers with an error before its own
/// transaction spent it.
#[derive(Debug, Clone)]
struct SpentAssertion(crate::node::auth::Assertion, crate::node::Committer);

/// Makes "never accepted twice" hold across restarts for every answer: when a request authenticated
/// by a client assertion ends in an error (a bad body, a refused action, anything after the
/// signature checked out), its id is recorded durably in the shared register before the answer
/// leaves. Successful operations record it in their own transaction already; an id found already
/// recorded is fine. If it cannot be recorded, the answer becomes `503 storage-unavailable`.
pub async fn durable_assertions(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let res = next.call(req).await?;
    if !(res.status().is_client_error() || res.status().is_server_error()) {
        return Ok(res.map_into_left_body());
    }
    let spent = res.request().extensions().get::<SpentAssertion>().cloned();
    let Some(SpentAssertion(a, committer)) = spent else {
        return Ok(res.map_into_left_body());
    };
    let recorded = committer.run(move |tx| tx.consume_assertion(&a)).await;
    match recorded {
        Ok(()) | Err(Error::Unauthenticated(_)) => Ok(res.map_into_left_body()),
        Err(e) => {
            let (req, _) = res.into_parts();
            let resp = actix_web::ResponseError::error_response(&e);
            Ok(actix_web::dev::ServiceResponse::new(req, resp).map_into_right_body())
        }
    }
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
/// transaction ([`crate::storage::log_store::Tx::consume_assertion`]); otherwise use [`caller_once`].
pub async fn caller(node: &Node, req: &HttpRequest) -> Result<Caller, Error> {
    let token = bearer(req)?;
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |p| p.as_str().to_owned());
    let c = node.authenticate(token, req.method().as_str(), &path).await?;
    req.extensions_mut()
        .insert(SpentAssertion(c.assertion.clone(), node.committer.clone()));
    Ok(c)
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
            405 => Error::MethodNotAllowed(format!(
                "{} is not served on {}",
                res.request().method(),
                res.request().path()
            )),
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
