//! The access log over HTTP: checkpoints, leaves, proofs and receipts (public: no business data),
//! access chains and evidence bundles (for those entitled to the records).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::error::Error;
use crate::http::{caller_once, json};
use crate::node::Node;
use crate::node::audit::{self, EntryQuery};
use crate::policy::Role;

/// The service whose access log is served: the node, or a platform (spec/access-log.md §1: each
/// serves its own log, from the same code).
pub trait LogHost: Send + Sync + 'static {
    /// The service core holding the log.
    fn log_core(&self) -> &Node;
}

impl LogHost for Node {
    fn log_core(&self) -> &Node {
        self
    }
}

pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    configure_log::<Node>(cfg);
}

/// The whole HTTP face of `H`'s log: the public part ([`configure_public`]) and the parts for
/// authenticated callers, scoped by role ([`AUDIT_ROUTES`]: access chains and evidence bundles).
/// The node and a platform serve their logs with it (spec/access-log.md §1).
pub fn configure_log<H: LogHost>(cfg: &mut web::ServiceConfig) {
    configure_public::<H>(cfg);
    cfg.route("/v1/log/entries", web::get().to(entries::<H>))
        .route("/v1/log/export", web::get().to(export::<H>));
}

/// The authenticated routes of [`configure_log`] (method, path), for a service's route list.
pub const AUDIT_ROUTES: &[(&str, &str)] = &[("GET", "/v1/log/entries"), ("GET", "/v1/log/export")];

/// The public part of a log's HTTP face (no business data: checkpoints, leaves, proofs, receipts),
/// served for `H`'s log.
pub fn configure_public<H: LogHost>(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/log/checkpoint", web::get().to(checkpoint::<H>))
        .route("/v1/log/checkpoints", web::get().to(checkpoints::<H>))
        .route("/v1/log/keys", web::get().to(keys::<H>))
        .route("/v1/log/leaves", web::get().to(leaves::<H>))
        .route("/v1/log/proof/inclusion", web::get().to(inclusion::<H>))
        .route("/v1/log/proof/consistency", web::get().to(consistency::<H>))
        .route("/v1/log/receipts/{index}", web::get().to(receipt::<H>));
}

/// The routes of [`configure_public`] (method, path), for a service's route list.
pub const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/log/checkpoint"),
    ("GET", "/v1/log/checkpoints"),
    ("GET", "/v1/log/keys"),
    ("GET", "/v1/log/leaves"),
    ("GET", "/v1/log/proof/inclusion"),
    ("GET", "/v1/log/proof/consistency"),
    ("GET", "/v1/log/receipts/{index}"),
];

async fn checkpoint<H: LogHost>(host: web::Data<H>) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let cp = node.store.call(audit::latest_checkpoint).await?;
    let (_, note) = cp.ok_or_else(|| Error::NotFound("no checkpoint yet: the log is empty".into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-cache"))
        .body(note))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct After {
    after: Option<u64>,
    limit: Option<i64>,
}

async fn checkpoints<H: LogHost>(host: web::Data<H>, q: web::Query<After>) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let q = q.into_inner();
    let list = node
        .store
        .call(move |c| audit::checkpoints_after(c, q.after.unwrap_or(0), q.limit))
        .await?;
    Ok(json(StatusCode::OK, &list))
}

/// `GET /v1/log/keys`: the log's key history (spec/access-log.md §5.5).
async fn keys<H: LogHost>(host: web::Data<H>) -> Result<HttpResponse, Error> {
    let answer = actix_web::rt::task::spawn_blocking({
        let host = host.clone();
        move || {
            let node = host.log_core();
            let mut c = node.store.conn()?;
            crate::node::keys::answer(&mut c, node)
        }
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))??;
    Ok(json(StatusCode::OK, &answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Range {
    from: Option<u64>,
    limit: Option<i64>,
}

async fn leaves<H: LogHost>(host: web::Data<H>, q: web::Query<Range>) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let q = q.into_inner();
    let bytes = node
        .store
        .call(move |c| audit::leaves(c, q.from.unwrap_or(0), q.limit))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .body(bytes))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InclusionQuery {
    index: u64,
    size: Option<u64>,
}

async fn inclusion<H: LogHost>(
    host: web::Data<H>,
    q: web::Query<InclusionQuery>,
) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let q = q.into_inner();
    Ok(json(
        StatusCode::OK,
        &node
            .store
            .call(move |c| audit::inclusion(c, q.index, q.size))
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

async fn consistency<H: LogHost>(
    host: web::Data<H>,
    q: web::Query<ConsistencyQuery>,
) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let q = q.into_inner();
    Ok(json(
        StatusCode::OK,
        &node
            .store
            .call(move |c| audit::consistency(c, q.from, q.to))
            .await?,
    ))
}

async fn receipt<H: LogHost>(host: web::Data<H>, index: web::Path<u64>) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let index = index.into_inner();
    match node.store.call(move |c| audit::receipt(c, index)).await? {
        Some(text) => Ok(HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body(text)),
        None => {
            let size = node.store.call(audit::head).await?.0;
            if index >= size {
                return Err(Error::NotFound(format!("no entry {index}: the log has {size}")));
            }
            // Durable but not yet checkpointed: checkpoints follow within the interval.
            let mut resp = actix_web::ResponseError::error_response(&Error::NotFound(format!(
                "entry {index} is logged; no checkpoint covers it yet — retry in a second"
            )));
            resp.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from_static("1"),
            );
            Ok(resp)
        }
    }
}

async fn entries<H: LogHost>(host: web::Data<H>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let c = caller_once(node, &req).await?;
    let q: EntryQuery = crate::http::query(&req)?;
    if !c.active() {
        return Err(Error::Forbidden(format!(
            "{} is {}",
            c.uscc(),
            c.participant.state
        )));
    }
    Ok(json(
        StatusCode::OK,
        &node.store.call(move |conn| audit::entries(conn, &c, q)).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    to: Option<u64>,
}

async fn export<H: LogHost>(host: web::Data<H>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let c = caller_once(node, &req).await?;
    let q: ExportQuery = crate::http::query(&req)?;
    c.require(&[Role::Node, Role::Regulator])?;
    let to = q.to;
    let n = host.clone().into_inner();
    // A connection before answering: a node that cannot reach its database says so with a 503
    // problem rather than a 200 with an empty body.
    let store = node.store.clone();
    let mut conn = actix_web::rt::task::spawn_blocking(move || store.conn())
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    // The bundle is written by a blocking task page by page into a bounded channel and streamed
    // out as it comes: memory stays at a few chunks whatever the log's size. A failure part-way
    // ends the stream early; the verifier then finds the bundle shorter than its header announces.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, Error>>(4);
    actix_web::rt::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            buf: Vec::with_capacity(CHUNK),
            tx: tx.clone(),
        };
        let result = audit::export(n.log_core(), &mut conn, to, &mut out)
            .and_then(|()| std::io::Write::flush(&mut out).map_err(|e| Error::Internal(e.to_string())));
        if let Err(e) = result {
            tracing::warn!(error = %e, "evidence bundle export ended early");
            let _ = tx.blocking_send(Err(e));
        }
    });
    let body =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .streaming(body))
}

/// Bytes per streamed chunk of an evidence bundle.
const CHUNK: usize = 256 * 1024;

/// An `io::Write` that hands full chunks to the response stream (blocking: it runs on the export's
/// own thread, so a slow client slows the export, never the server).
struct ChunkWriter {
    buf: Vec<u8>,
    tx: tokio::sync::mpsc::Sender<Result<web::Bytes, Error>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = web::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
