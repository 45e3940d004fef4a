//! The portal's static files, embedded in the binary: the pages load nothing from any other host.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::node::{Node, registry};
use crate::policy::{ParticipantState, Role};

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
        "pages/chain.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/pages/chain.js"),
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

/// The `scheme://host[:port]` origin of an admitted platform's endpoint, if it is a plain `http` or
/// `https` URL whose host and port hold only letters, digits, `.`, `-`, `[`, `]` and `:` (anything
/// else is left out of the policy rather than risk a character that changes its meaning).
pub fn endpoint_origin(endpoint: &str) -> Option<String> {
    let (scheme, rest) = endpoint.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let ok = !authority.is_empty()
        && !authority.contains('@')
        && authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    ok.then(|| format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// [`CSP`] with the given origins added to `connect-src`: the portal's page may read the logs of
/// the active platforms (the regulator's explorer across two hops, `#/chain`), nothing else.
pub fn csp_connecting(origins: &[String]) -> String {
    if origins.is_empty() {
        return CSP.to_owned();
    }
    CSP.replace(
        "connect-src 'self';",
        &format!("connect-src 'self' {};", origins.join(" ")),
    )
}

/// The page's policy: [`CSP`], with the origins of the active platforms' endpoints in `connect-src`
/// (sorted, each once). If the registry cannot be read, [`CSP`] alone.
async fn page_csp(node: &Node) -> String {
    let platforms = registry::list(
        node,
        Some(Role::Platform.as_str().into()),
        Some(ParticipantState::Active.as_str().into()),
        None,
    )
    .await
    .unwrap_or_default();
    let origins: std::collections::BTreeSet<String> = platforms
        .iter()
        .filter_map(|p| p.endpoint.as_deref().and_then(endpoint_origin))
        .collect();
    csp_connecting(&origins.into_iter().collect::<Vec<_>>())
}

/// Serves an embedded file (`/portal/` is `index.html`, whose policy is [`page_csp`]'s).
pub async fn serve(node: web::Data<Node>, req: HttpRequest) -> HttpResponse {
    let path = req.match_info().get("file").unwrap_or("");
    let path = if path.is_empty() { "index.html" } else { path };
    let csp = if path == "index.html" {
        page_csp(&node).await
    } else {
        CSP.to_owned()
    };
    match ASSETS.iter().find(|(p, _, _)| *p == path) {
        Some((_, ctype, body)) => HttpResponse::Ok()
            .content_type(*ctype)
            .insert_header(("Content-Security-Policy", csp))
            .insert_header(("X-Content-Type-Options", "nosniff"))
            .insert_header(("Referrer-Policy", "no-referrer"))
            .insert_header(("Cache-Control", "no-cache"))
            .body(*body),
        None => actix_web::ResponseError::error_response(&crate::error::Error::NotFound(format!(
            "no portal file {path}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_of_endpoints() {
        assert_eq!(
            endpoint_origin("https://Platform.example:8443/base/path?x=1").as_deref(),
            Some("https://platform.example:8443")
        );
        assert_eq!(
            endpoint_origin("http://127.0.0.1:4000").as_deref(),
            Some("http://127.0.0.1:4000")
        );
        for bad in [
            "ftp://platform.example",
            "https://",
            "platform.example",
            "https://a;b.example",
            "https://user@platform.example",
            "https://platform.example' 'unsafe-inline",
            "https://pl atform.example",
        ] {
            assert_eq!(endpoint_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_policy_connects_to_the_given_origins_only() {
        assert_eq!(csp_connecting(&[]), CSP);
        let p = csp_connecting(&["https://a.example".into(), "http://b.example:81".into()]);
        assert!(
            p.contains("connect-src 'self' https://a.example http://b.example:81;"),
            "{p}"
        );
        assert_eq!(p.replace(" https://a.example http://b.example:81", ""), CSP);
    }
}
