//! Caller authentication: a short-lived, single-use EdDSA JWT client assertion per request, signed
//! by the caller's registered key (in the spirit of RFC 7523 `private_key_jwt`, bound to the request
//! like RFC 9449 DPoP proofs).
//!
//! Header `{"alg":"EdDSA","typ":"consentry-assertion+jwt","kid":"did:key:z…#z…"}`; claims:
//!
//! | claim | rule |
//! |---|---|
//! | `iss` | the caller's did:key, equal to the key in `kid` |
//! | `aud` | this node's DID |
//! | `iat`, `exp` | `exp − iat` ≤ 300 s; `iat` not in the future, `exp` not past (60 s skew) |
//! | `jti` | 16–128 characters, never accepted twice (kept until `exp`) |
//! | `htm`, `htu` | the request's method and path (with query) |
//!
//! The key must be the participant's key valid now; the participant's state is checked by each
//! operation (some are open to pending enterprises).
//!
//! A `jti` is spent durably before any answer to the request that presented it: in the operation's
//! own transaction when it succeeds, otherwise by [`crate::http::durable_assertions`] before the
//! error leaves; a restart therefore never makes an assertion usable again.
//!
//! The assertion does not cover the body, by design (spec/security.md §3.3): every body that is a
//! commitment (grants, registrations, rotations, grant actions, objection steps, delegations) is
//! signed on its own by its author, and the rest are instructions of the authenticated caller that
//! only an attacker inside the TLS connection could swap — one who could read the answer as well.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::credential::jws;
use crate::error::Error;
use crate::identity::{DidKey, KeyFile, KeyResolver};

/// The assertion's `typ`.
pub const ASSERTION_TYP: &str = "consentry-assertion+jwt";
/// Longest allowed lifetime.
pub const MAX_LIFETIME_SECS: i64 = 300;
/// Clock skew tolerated.
pub const SKEW_SECS: i64 = 60;

const TYPES: jws::MediaTypes = jws::MediaTypes {
    typ: (&[ASSERTION_TYP], ASSERTION_TYP),
    typ_optional: false,
    cty: (&[], "(none)"),
};

/// The claims of a client assertion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssertionClaims {
    /// The caller's did:key.
    pub iss: String,
    /// The node's DID.
    pub aud: String,
    /// Issued at (s).
    pub iat: i64,
    /// Expires (s).
    pub exp: i64,
    /// Unique id.
    pub jti: String,
    /// HTTP method.
    pub htm: String,
    /// Path and query.
    pub htu: String,
}

/// A verified assertion.
#[derive(Debug, Clone)]
pub struct Assertion {
    /// The key that signed.
    pub signer: DidKey,
    /// Its id.
    pub jti: String,
    /// Its expiry (ms), until which the id is remembered.
    pub expires_ms: i64,
}

/// 16 bytes from the operating system's CSPRNG, hex-encoded: a fresh `jti` or nonce (`what` names
/// it in the error). A failing generator is an [`Error::Internal`], never a predictable id.
pub(crate) fn random_id(what: &str) -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    crate::crypto::ed25519::random_bytes(&mut bytes)
        .map_err(|e| Error::Internal(format!("cannot make a fresh {what}: {e}")))?;
    Ok(hex::encode(bytes))
}

/// Makes an assertion for one request (the client side: platforms, the CLI, tests). Fails only when
/// the operating system's random number generator does (no assertion with a predictable `jti`).
pub fn make(
    key: &KeyFile,
    audience: &str,
    method: &str,
    path: &str,
    now: OffsetDateTime,
) -> Result<String, Error> {
    let claims = AssertionClaims {
        iss: key.did.as_str().to_owned(),
        aud: audience.to_owned(),
        iat: now.unix_timestamp(),
        exp: now.unix_timestamp() + 120,
        jti: random_id("assertion jti")?,
        htm: method.to_ascii_uppercase(),
        htu: path.to_owned(),
    };
    Ok(jws::sign(
        &serde_json::to_vec(&claims).unwrap_or_default(),
        ASSERTION_TYP,
        key,
    ))
}

/// Who an assertion or a signed request may be addressed to (its `aud`).
pub trait Audience {
    /// Whether `aud` names this service.
    fn accepts(&self, aud: &str) -> bool;
}

/// One DID, exactly.
impl Audience for str {
    fn accepts(&self, aud: &str) -> bool {
        self == aud
    }
}

/// A node's or a platform's audience: the DIDs of the keys of its log's key history that no
/// emergency cut (spec/access-log.md §5.5.4), or, before the history's genesis, its current DID. A
/// client that read the service's DID before a planned rotation keeps working after it; a key an
/// emergency distrusted is refused — even the key this process still runs with, until it restarts
/// on the new one — so what a holder of that key obtained by posing as the service cannot be
/// replayed here.
pub struct ServiceAudience<'a> {
    /// The current DID.
    pub current: &'a str,
    /// The key history as this process last loaded it.
    pub ring: std::sync::Arc<super::keys::Ring>,
}

impl Audience for ServiceAudience<'_> {
    fn accepts(&self, aud: &str) -> bool {
        match self.ring.history() {
            None => aud == self.current,
            Some(_) => self.ring.speaks_for_log(aud),
        }
    }
}

/// Verifies an assertion for a request (`method`, `path_and_query`) addressed to `audience`.
pub fn verify(
    token: &str,
    method: &str,
    path_and_query: &str,
    audience: &(impl Audience + ?Sized),
    now: OffsetDateTime,
    keys: &KeyResolver,
) -> Result<Assertion, Error> {
    let fail = |m: String| Error::Unauthenticated(m);
    let v = jws::verify(token, TYPES, keys, &jws::strict_check).map_err(|e| fail(e.to_string()))?;
    let claims: AssertionClaims = crate::crypto::json::parse(&v.payload)
        .map_err(|e| fail(e.to_string()))
        .and_then(|n| crate::crypto::json::de::from_node(&n).map_err(|e| fail(format!("claims: {e}"))))?;
    if claims.iss != v.signer.as_str() {
        return Err(fail("iss is not the signing key".into()));
    }
    if !audience.accepts(&claims.aud) {
        return Err(fail(format!("assertion is for {}, not this node", claims.aud)));
    }
    let t = now.unix_timestamp();
    if claims.exp <= claims.iat || claims.exp - claims.iat > MAX_LIFETIME_SECS {
        return Err(fail(format!(
            "assertion lifetime must be 1–{MAX_LIFETIME_SECS} s"
        )));
    }
    if claims.iat > t + SKEW_SECS {
        return Err(fail("assertion issued in the future".into()));
    }
    if claims.exp + SKEW_SECS < t {
        return Err(fail("assertion expired".into()));
    }
    if !(16..=128).contains(&claims.jti.len()) {
        return Err(fail("jti must have 16–128 characters".into()));
    }
    if !claims.htm.eq_ignore_ascii_case(method) || claims.htu != path_and_query {
        return Err(fail(format!(
            "assertion is for {} {}, not this request",
            claims.htm, claims.htu
        )));
    }
    Ok(Assertion {
        signer: v.signer,
        jti: claims.jti,
        expires_ms: (claims.exp + SKEW_SECS) * 1000,
    })
}

/// Remembers assertion ids this process has seen, so a replay is refused at once; the durable,
/// cross-process record is the `seen_jti` table, written in the request's own transaction.
#[derive(Debug, Default)]
pub struct JtiGuard {
    seen: Mutex<HashMap<String, i64>>,
}

impl JtiGuard {
    /// Records `jti`; false if it was already seen and has not expired.
    pub fn first_use(&self, jti: &str, expires_ms: i64, now_ms: i64) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        if seen.len() > 200_000 {
            seen.retain(|_, exp| *exp > now_ms);
        }
        match seen.get(jti) {
            Some(exp) if *exp > now_ms => false,
            _ => {
                seen.insert(jti.to_owned(), expires_ms);
                true
            }
        }
    }
}

/// The `typ` of a signed request: an enterprise's own statement of what it asks (registration,
/// revocation, suspension, resumption, key rotation), kept as evidence.
pub const REQUEST_TYP: &str = "consentry-request+jwt";

const REQUEST_TYPES: jws::MediaTypes = jws::MediaTypes {
    typ: (&[REQUEST_TYP], REQUEST_TYP),
    typ_optional: false,
    cty: (&[], "(none)"),
};

/// A verified signed request.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// The key that signed.
    pub signer: DidKey,
    /// The claims (including `action`, `aud`, `iat`, `jti`).
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Its id.
    pub jti: String,
    /// Until when its id is remembered (ms).
    pub expires_ms: i64,
}

impl SignedRequest {
    /// A string claim.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(serde_json::Value::as_str)
    }
}

/// Makes a signed request with `action` and further `claims` (the client side). Fails only when the
/// operating system's random number generator does (no request with a predictable `jti`).
pub fn make_request(
    key: &KeyFile,
    audience: &str,
    action: &str,
    claims: serde_json::Value,
    now: OffsetDateTime,
) -> Result<String, Error> {
    let jti = random_id("signed request jti")?;
    let mut map = match claims {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    map.insert("action".into(), action.into());
    map.insert("aud".into(), audience.into());
    map.insert("iat".into(), now.unix_timestamp().into());
    map.insert("jti".into(), jti.into());
    Ok(jws::sign(
        &serde_json::to_vec(&map).unwrap_or_default(),
        REQUEST_TYP,
        key,
    ))
}

/// Verifies a signed request for `action` addressed to `audience`, issued within the last 10 minutes.
pub fn verify_request(
    token: &str,
    action: &str,
    audience: &(impl Audience + ?Sized),
    now: OffsetDateTime,
    keys: &KeyResolver,
) -> Result<SignedRequest, Error> {
    verify_statement(token, action, audience, now, keys, 600)
}

/// [`verify_request`] for signed statements that may be older: an objection filing or a platform's
/// receipt, relayed later (`max_age_secs`). Their one-time use is enforced by the caller (an
/// objection's filing digest is unique), not by the `jti` register.
pub fn verify_statement(
    token: &str,
    action: &str,
    audience: &(impl Audience + ?Sized),
    now: OffsetDateTime,
    keys: &KeyResolver,
    max_age_secs: i64,
) -> Result<SignedRequest, Error> {
    let fail = |m: String| Error::invalid("signed-request", m);
    let v = jws::verify(token, REQUEST_TYPES, keys, &jws::strict_check).map_err(|e| fail(e.to_string()))?;
    let claims = match crate::crypto::json::parse_strict(&v.payload).map_err(|e| fail(e.to_string()))? {
        serde_json::Value::Object(m) => m,
        _ => return Err(fail("claims must be a JSON object".into())),
    };
    let get = |k: &str| claims.get(k).and_then(serde_json::Value::as_str);
    if get("action") != Some(action) {
        return Err(fail(format!(
            "this request is for {:?}, not {action}",
            get("action").unwrap_or("(none)")
        )));
    }
    if !get("aud").is_some_and(|a| audience.accepts(a)) {
        return Err(fail("the request is not addressed to this node".into()));
    }
    let iat = claims
        .get("iat")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| fail("iat missing".into()))?;
    let t = now.unix_timestamp();
    if iat > t + SKEW_SECS || iat < t - max_age_secs {
        return Err(fail(format!(
            "the {action} statement must be signed within the last {} minutes",
            max_age_secs / 60
        )));
    }
    let jti = get("jti")
        .filter(|j| (16..=128).contains(&j.len()))
        .ok_or_else(|| fail("jti missing".into()))?
        .to_owned();
    Ok(SignedRequest {
        signer: v.signer,
        claims,
        jti,
        expires_ms: (iat + 660) * 1000,
    })
}

/// Client assertions and signed requests are spent once
/// ([`crate::storage::log_store::Tx::consume_assertion`]): their id, their signer, their expiry.
macro_rules! single_use {
    ($($t:ty),+) => {$(
        impl crate::storage::log_store::SingleUse for $t {
            fn jti(&self) -> &str {
                &self.jti
            }
            fn issuer(&self) -> &str {
                self.signer.as_str()
            }
            fn expires_ms(&self) -> i64 {
                self.expires_ms
            }
        }
    )+};
}

single_use!(Assertion, SignedRequest);
