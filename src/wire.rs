//! The request and answer plumbing that the HTTP API ([`crate::http`]) and the portal
//! ([`crate::portal`]) both serve through: the size-limited [`Body`], strict JSON bodies and typed
//! queries, JSON answers. Its own module so that neither of the two names the other's internals:
//! `http` mounts the portal's routes, and the portal takes these helpers from here, not from `http`
//! (`tests/integration/architecture.rs`, rule 5).

use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::Error;

/// Largest JSON body accepted by any endpoint (grants and credentials included).
pub const MAX_BODY: usize = 64 * 1024;

/// A request's query string parsed into `T`, for handlers that must authenticate before they look at
/// the query (an unauthenticated caller learns nothing about which queries are valid): `400
/// invalid-query` if it does not parse (a repeated parameter included).
pub fn query<T: serde::de::DeserializeOwned>(req: &HttpRequest) -> Result<T, Error> {
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| Error::invalid("invalid-query", e.to_string()))
}

/// A JSON answer: `body` serialized (an answer type of [`crate::node::answers`], or a JSON value).
pub fn json<T: serde::Serialize + ?Sized>(status: actix_web::http::StatusCode, body: &T) -> HttpResponse {
    match serde_json::to_string(body) {
        Ok(text) => HttpResponse::build(status)
            .content_type("application/json")
            .body(text),
        Err(e) => actix_web::ResponseError::error_response(&Error::Internal(format!("answer: {e}"))),
    }
}

/// Reads a JSON body strictly (duplicate keys refused) into `T`.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    let node =
        crate::crypto::json::parse(body).map_err(|e| Error::invalid("malformed-json", e.to_string()))?;
    crate::crypto::json::de::from_node(&node).map_err(|e| Error::invalid("invalid-body", e.to_string()))
}

/// Checks the body of an operation that takes none: empty, or an empty JSON object `{}` (what
/// JSON clients send by habit). Anything else is `400 malformed-json` or `400 invalid-body`, so that
/// a client that thinks it is sending parameters learns that they are not read.
pub fn no_body(body: &[u8]) -> Result<(), Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    let node =
        crate::crypto::json::parse(body).map_err(|e| Error::invalid("malformed-json", e.to_string()))?;
    match node.as_object() {
        Some(members) if members.is_empty() => Ok(()),
        _ => Err(Error::invalid(
            "invalid-body",
            "this operation takes no body (send none, or {})",
        )),
    }
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
        let media = req
            .headers()
            .get("content-type")
            .map(|v| v.to_str().map(media_type).unwrap_or_default());
        let mut stream = payload.take();
        Box::pin(async move {
            if let Some(m) = media {
                if !accepted_media_type(&m) {
                    return Err(Error::invalid(
                        "content-type",
                        format!(
                            "Content-Type {m:?} is not accepted: send application/json (or a +json type) \
                             for JSON bodies, application/jwt (or a +jwt type, or text/plain) for a \
                             compact JWS"
                        ),
                    ));
                }
            }
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

/// The media type of a `Content-Type` value, lower-cased, without parameters.
fn media_type(v: &str) -> String {
    v.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Whether a body declared as `media` is one the API reads: JSON (`application/json`, any
/// `application/*+json`), a compact JWS (`application/jwt`, any `application/*+jwt`, `text/plain`)
/// or a credential (`application/vc`). Forms, multipart, XML and octet streams are refused with
/// `400 content-type` before the body is read; an absent `Content-Type` is accepted.
pub fn accepted_media_type(media: &str) -> bool {
    matches!(
        media,
        "application/json" | "application/jwt" | "application/vc" | "text/plain"
    ) || media
        .strip_prefix("application/")
        .is_some_and(|sub| sub.ends_with("+json") || sub.ends_with("+jwt"))
}
