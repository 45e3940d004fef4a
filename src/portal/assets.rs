//! The portal's static files, embedded in the binary: the pages load nothing from any other host.

use actix_web::{HttpRequest, HttpResponse};

/// `(path under /portal/, content type, bytes)`.
pub const ASSETS: &[(&str, &str, &[u8])] = &[(
    "index.html",
    "text/html; charset=utf-8",
    include_bytes!("static/index.html"),
)];

/// Content-Security-Policy of every page: scripts, styles, images and connections from this origin only.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                       frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Serves an embedded file (`/portal/` is `index.html`).
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = req.match_info().get("file").unwrap_or("");
    let path = if path.is_empty() { "index.html" } else { path };
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, ctype, body)) => HttpResponse::Ok()
            .content_type(*ctype)
            .insert_header(("Content-Security-Policy", CSP))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .insert_header(("Cache-Control", "no-cache"))
            .body(*body),
        None => actix_web::ResponseError::error_response(&crate::error::Error::NotFound(format!(
            "no portal file {path}"
        ))),
    }
}
