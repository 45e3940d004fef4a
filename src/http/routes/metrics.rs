//! `GET /metrics` (spec/ops/README.md §2): every metric of the process in the Prometheus text
//! format, for the node and a platform alike. Default deny: on the main listener it is served only
//! when a metrics token is configured, to that token's bearer (`401` to others, `404` when no token
//! is set); a separate listener (`metrics-listen`, [`serve_dedicated`]) serves it alone.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::audit::LogHost;
use crate::error::Error;
use crate::metrics::Access;

/// Marks the app of the separate metrics listener (`metrics-listen`).
#[derive(Debug, Clone, Copy)]
pub struct DedicatedListener;

/// Serves `GET /metrics` for `H` (the node, or a platform).
pub fn configure<H: LogHost>(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics::<H>));
}

async fn metrics<H: LogHost>(host: web::Data<H>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let node = host.log_core();
    let dedicated = req.app_data::<web::Data<DedicatedListener>>().is_some();
    match node.metrics.access(dedicated, crate::http::bearer(&req).ok()) {
        Access::NotServed => Err(Error::NotFound("no such endpoint".into())),
        Access::Denied => Err(Error::Unauthenticated(
            "send the metrics token as Authorization: Bearer <token>".into(),
        )),
        Access::Granted => Ok(HttpResponse::build(StatusCode::OK)
            .content_type(crate::metrics::CONTENT_TYPE)
            .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
            .body(crate::node::metrics::scrape(node).await)),
    }
}

/// Starts the separate metrics listener on `addr` (one worker) serving `GET /metrics` of `host`
/// only, on the current actix runtime; returns the address it listens on.
pub fn serve_dedicated<H: LogHost>(host: web::Data<H>, addr: &str) -> std::io::Result<String> {
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(host.clone())
            .app_data(web::Data::new(DedicatedListener))
            .configure(configure::<H>)
            .default_service(web::to(|| async {
                actix_web::ResponseError::error_response(&Error::NotFound("no such endpoint".into()))
            }))
    })
    .workers(1)
    .bind(addr)?;
    let bound = server
        .addrs()
        .iter()
        .map(|a| format!("http://{a}"))
        .collect::<Vec<_>>()
        .join(", ");
    actix_web::rt::spawn(server.run());
    Ok(bound)
}
