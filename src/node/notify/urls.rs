//! Endpoint URLs: [`check_url`] checks and normalizes the URL an endpoint is registered with and that
//! each delivery is sent to (and signed for, as `@target-uri`).
//!
//! Guarantees: `https://` only, with a DNS name or IP literal, no user information or fragment, at
//! most [`MAX_URL_LEN`] bytes; `http://` only to a loopback host and only when insecure webhooks are
//! allowed. The normalized form is what is stored, so the signed `@target-uri` is the URL used.

use crate::crypto::httpsig;
use crate::error::{Error, Result};

/// Longest endpoint URL.
pub const MAX_URL_LEN: usize = 2000;

/// Checks and normalizes an endpoint URL: `https://` with a DNS name or IP literal, no user
/// information, no fragment, visible ASCII, at most [`MAX_URL_LEN`] bytes; `http://` only when
/// `allow_insecure` and the host is a loopback address (`localhost`, `127.0.0.0/8`, `[::1]`). The
/// result has a lowercase scheme and host, no default port and a non-empty path: the exact
/// `@target-uri` the deliveries are signed for.
pub fn check_url(url: &str, allow_insecure: bool) -> Result<String> {
    let bad = |m: String| Error::invalid("invalid-webhook-url", m);
    if url.len() > MAX_URL_LEN {
        return Err(bad(format!("url: at most {MAX_URL_LEN} bytes")));
    }
    let p = httpsig::target_parts(url).map_err(|e| bad(format!("url: {e}")))?;
    let host_ok = if p.authority.starts_with('[') {
        p.host
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
    } else {
        p.host
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
            && !p.host.starts_with(['.', '-'])
            && !p.host.ends_with('-')
    };
    if !host_ok {
        return Err(bad(format!("url: {:?} is not a host name or IP literal", p.host)));
    }
    let loopback = p.host == "localhost"
        || p.host == "::1"
        || p.host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|a| a.is_loopback());
    match p.scheme.as_str() {
        "https" => {}
        "http" if allow_insecure && loopback => {}
        "http" if allow_insecure => {
            return Err(bad(format!(
                "url: http:// is allowed only to a loopback host, not {}",
                p.host
            )));
        }
        _ => {
            return Err(bad(
                "url: webhook endpoints must be https:// (this node does not allow insecure webhooks)".into(),
            ));
        }
    }
    let mut out = format!("{}://{}{}", p.scheme, p.authority, p.path);
    if let Some(q) = &p.query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            check_url("HTTPS://Hooks.Example.com:443", false).unwrap(),
            "https://hooks.example.com/"
        );
        assert_eq!(
            check_url("https://h.example:8443/a/b?x=1", false).unwrap(),
            "https://h.example:8443/a/b?x=1"
        );
        assert_eq!(
            check_url("http://127.0.0.1:9000/hook", true).unwrap(),
            "http://127.0.0.1:9000/hook"
        );
        assert_eq!(check_url("http://[::1]/h", true).unwrap(), "http://[::1]/h");
        for (u, insecure) in [
            ("http://127.0.0.1:9000/hook", false),
            ("http://example.com/hook", true),
            ("http://10.0.0.1/hook", true),
            ("ftp://example.com/", true),
            ("https://user:pw@example.com/", false),
            ("https://example.com/#frag", false),
            ("https://exa mple.com/", false),
            ("https:///path", false),
            ("https://ex_ample.com/", false),
            ("https://example.com:99999999/", false),
            ("/relative", false),
            ("https://例子.com/", false),
        ] {
            let e = check_url(u, insecure).unwrap_err();
            assert_eq!(e.code(), "invalid-webhook-url", "{u}");
        }
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(2000)), false).is_err());
    }
}
