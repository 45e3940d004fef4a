//! The portal's static files, embedded in the binary: the pages load nothing from any other host.

use actix_web::{HttpRequest, HttpResponse};

/// `(path under /portal/, content type, bytes)`.
pub const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("static/index.html"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/api.js"),
    ),
    (
        "crypto.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/crypto.js"),
    ),
    (
        "i18n.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/i18n.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/ui.js"),
    ),
    (
        "uscc.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/uscc.js"),
    ),
    (
        "verify.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/verify.js"),
    ),
    (
        "sxm.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/sxm.js"),
    ),
    (
        "pages/parties.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/parties.js"),
    ),
    (
        "pages/entries.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/entries.js"),
    ),
    (
        "pages/enterprise.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/enterprise.js"),
    ),
    (
        "pages/objections.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/objections.js"),
    ),
    (
        "pages/operator.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/operator.js"),
    ),
    (
        "pages/regulator.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/regulator.js"),
    ),
    (
        "pages/signin.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/signin.js"),
    ),
    (
        "pages/wizard.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/wizard.js"),
    ),
];

/// The public 苏信码 page (`/sxm/{uscc}`), the same for every enterprise.
pub const SXM_PAGE: &[u8] = include_bytes!("static/sxm.html");

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
