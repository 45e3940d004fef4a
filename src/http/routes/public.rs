//! Unauthenticated reads: health (liveness `/livez`, readiness `/readyz` and its alias `/healthz`),
//! node description, catalog, letters, the JSON-LD context, status lists.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use crate::error::Error;
use crate::http::json;
use crate::node::Node;
use crate::status::StatusPurpose;

/// The JSON-LD context of the grant vocabulary, served at /ns/v1.
const CONTEXT: &str = include_str!("../../../spec/context/v1.jsonld");

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health))
        .route("/livez", web::get().to(live))
        .route("/readyz", web::get().to(health))
        .route("/v1/node", web::get().to(node_info))
        .route("/v1/catalog", web::get().to(catalog))
        .route("/v1/catalog/derivations", web::get().to(derivations))
        .route("/v1/public/sxm/{uscc}", web::get().to(sxm))
        .route("/v1/display/{action}", web::post().to(display_change))
        .route("/v1/catalog/letters", web::get().to(letters))
        .route("/v1/catalog/letters/{provider}/{version}", web::get().to(letter))
        .route("/ns/v1", web::get().to(context))
        .route("/status/{list}/{purpose}", web::get().to(status_list));
}

async fn health(node: web::Data<Node>) -> Result<HttpResponse, Error> {
    ready(&node).await
}

/// Liveness: the process answers. Never touches the database.
pub async fn live() -> HttpResponse {
    json(StatusCode::OK, &crate::node::health::live())
}

/// Readiness ([`crate::node::health`]): `200` with the log's size and every check `ok`, or `503`
/// `storage-unavailable` (with `Retry-After`) listing the checks.
pub async fn ready(node: &Node) -> Result<HttpResponse, Error> {
    Ok(json(StatusCode::OK, &crate::node::health::ready(node).await?))
}

async fn node_info(node: web::Data<Node>) -> Result<HttpResponse, Error> {
    Ok(json(
        StatusCode::OK,
        &crate::node::health::describe(node.into_inner()).await?,
    ))
}

async fn catalog(node: web::Data<Node>) -> HttpResponse {
    let c = node.catalog();
    json(
        StatusCode::OK,
        &json!({
            "catalogVersion": c.version(),
            "providers": c.providers().collect::<Vec<_>>(),
            "categories": c.categories().collect::<Vec<_>>(),
            "purposes": c.purposes().collect::<Vec<_>>(),
        }),
    )
}

/// What the 苏信码 page of an enterprise may show (spec/evaluation.md §6). Public.
async fn sxm(node: web::Data<Node>, uscc: web::Path<String>) -> Result<HttpResponse, Error> {
    let v = crate::node::display::public_view(&node, &uscc).await?;
    let mut resp = json(StatusCode::OK, &v);
    // Revocation must show on the next load: never cached.
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

/// The enterprise's signed request authorizing or revoking the display (the body is the request).
async fn display_change(
    node: web::Data<Node>,
    action: web::Path<String>,
    body: crate::http::Body,
) -> Result<HttpResponse, Error> {
    let action = crate::node::display::DisplayAction::parse(&action)
        .ok_or_else(|| Error::NotFound(format!("no display action {action}")))?;
    let token = std::str::from_utf8(&body)
        .map_err(|_| Error::invalid("malformed-body", "body must be a signed request"))?
        .trim();
    Ok(json(
        StatusCode::OK,
        &crate::node::display::change(&node, action, token).await?,
    ))
}

/// Every derived-form definition set the node holds, oldest first (spec/derivations.md).
async fn derivations(node: web::Data<Node>) -> HttpResponse {
    let c = node.catalog();
    json(
        StatusCode::OK,
        &json!({"catalogVersion": c.version(), "sets": c.derivations().sets()}),
    )
}

async fn letters(node: web::Data<Node>) -> HttpResponse {
    json(StatusCode::OK, &crate::node::letters::list(&node))
}

async fn letter(node: web::Data<Node>, path: web::Path<(String, u32)>) -> Result<HttpResponse, Error> {
    let (provider, version) = path.into_inner();
    Ok(json(
        StatusCode::OK,
        &crate::node::letters::get(&node, &provider, version)?,
    ))
}

async fn context() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/ld+json")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(CONTEXT)
}

async fn status_list(
    node: web::Data<Node>,
    path: web::Path<(i64, String)>,
    req: HttpRequest,
) -> Result<HttpResponse, Error> {
    let (n, purpose) = path.into_inner();
    let purpose = match purpose.as_str() {
        "revocation" => StatusPurpose::Revocation,
        "suspension" => StatusPurpose::Suspension,
        _ => return Err(Error::NotFound(format!("status list purpose {purpose}"))),
    };
    let list = crate::node::status::list_credential(&node, n, purpose).await?;
    let etag = format!("\"{n}-{}-{}\"", purpose.as_str(), list.version);
    let cache = format!("public, max-age={}", crate::node::status::TTL_MS / 1000);
    if req.headers().get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Ok(HttpResponse::NotModified()
            .insert_header(("ETag", etag))
            .insert_header(("Cache-Control", cache))
            .finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("application/vc")
        .insert_header(("ETag", etag))
        .insert_header(("Cache-Control", cache))
        .body(list.body.as_str().to_owned()))
}
