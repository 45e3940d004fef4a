//! Portal sign-in and sessions.
//!
//! Sign-in is a challenge signed by the participant's own key, in the browser:
//!
//! 1. `GET /portal/api/challenge` gives `challenge` = base64url(JSON `{nonce, exp}`) `.` base64url(
//!    HMAC-SHA256(k, payload)) — stateless, bound to this node, valid for two minutes;
//! 2. the page signs `consentry-portal-login\n<node DID>\n<challenge>\n` with Ed25519 (WebCrypto);
//! 3. `POST /portal/api/session {did, challenge, signature}`: the MAC, expiry, signature under the
//!    participant's *current* key are checked, and the nonce is consumed (never accepted twice, across
//!    processes); a session is created.
//!
//! The session is a random 256-bit token in an `HttpOnly; SameSite=Strict; Path=/portal` cookie
//! (`Secure` when the node is served over https); the database keeps only its SHA-256. It expires
//! after 30 minutes without use and 8 hours in any case; sign-out ends it. Every state-changing call
//! must carry the session's CSRF token in `X-CSRF-Token`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crypto::Sha256Digest;
use crate::error::{Error, Result};
use crate::identity::DidKey;
use crate::node::sessions::{self, SessionRow};
use crate::node::{Caller, Node, Participant, auth::Assertion};
use crate::policy::Role;

/// The session cookie's name.
pub const COOKIE: &str = "consentry_session";
/// Idle timeout.
pub const IDLE_MS: i64 = 30 * 60 * 1000;
/// Absolute lifetime.
pub const MAX_MS: i64 = 8 * 60 * 60 * 1000;
/// Lifetime of a challenge.
pub const CHALLENGE_MS: i64 = 2 * 60 * 1000;

#[derive(Serialize, Deserialize)]
struct ChallengePayload {
    nonce: String,
    exp: i64,
}

fn mac_key(node: &Node) -> [u8; 32] {
    Sha256Digest::of_parts(&[b"consentry/portal-challenge/v1", &node.key.secret.seed()]).0
}

fn mac(node: &Node, payload: &[u8]) -> Vec<u8> {
    let Ok(mut m) = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key(node)) else {
        return Vec::new();
    };
    m.update(payload);
    m.finalize().into_bytes().to_vec()
}

/// A fresh challenge. Fails only when the operating system's random number generator does (no
/// challenge with a predictable nonce).
pub fn challenge(node: &Node) -> Result<String> {
    let payload = serde_json::to_vec(&ChallengePayload {
        nonce: crate::node::auth::random_id("login challenge nonce")?,
        exp: node.now_ms() + CHALLENGE_MS,
    })
    .unwrap_or_default();
    Ok(format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(mac(node, &payload))
    ))
}

/// The exact text the browser signs for a challenge.
pub fn login_text(node_did: &str, challenge: &str) -> String {
    format!("consentry-portal-login\n{node_did}\n{challenge}\n")
}

/// A sign-in request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The participant's did:key.
    pub did: String,
    /// The challenge as received.
    pub challenge: String,
    /// base64url Ed25519 signature over [`login_text`].
    pub signature: String,
}

/// A new session: the cookie token (only ever in the cookie) and the CSRF token.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The cookie's value.
    pub token: String,
    /// The CSRF token the page sends back in `X-CSRF-Token`.
    pub csrf: String,
    /// Who signed in.
    pub participant: Participant,
}

/// Checks a signed challenge and opens a session.
pub async fn sign_in(node: &Node, req: SignIn) -> Result<NewSession> {
    let fail = |m: &str| Error::Unauthenticated(format!("sign-in: {m}"));
    let (p64, m64) = req
        .challenge
        .split_once('.')
        .ok_or_else(|| fail("malformed challenge"))?;
    let payload = URL_SAFE_NO_PAD
        .decode(p64)
        .map_err(|_| fail("malformed challenge"))?;
    let given_mac = URL_SAFE_NO_PAD
        .decode(m64)
        .map_err(|_| fail("malformed challenge"))?;
    let Ok(mut m) = <Hmac<Sha256> as KeyInit>::new_from_slice(&mac_key(node)) else {
        return Err(fail("internal"));
    };
    m.update(&payload);
    m.verify_slice(&given_mac)
        .map_err(|_| fail("the challenge was not issued by this node"))?;
    let c: ChallengePayload = serde_json::from_slice(&payload).map_err(|_| fail("malformed challenge"))?;
    let now = node.now_ms();
    if c.exp < now {
        return Err(fail("the challenge expired; ask for a new one"));
    }
    let key = DidKey::parse(&req.did).map_err(|e| fail(&e.to_string()))?;
    let sig = URL_SAFE_NO_PAD
        .decode(&req.signature)
        .map_err(|_| fail("signature is not base64url"))?;
    key.public_key()
        .verify(login_text(node.did(), &req.challenge).as_bytes(), &sig)
        .map_err(|_| fail("the signature does not verify"))?;
    let found = sessions::key_holder(node, req.did.clone()).await?;
    let (participant, k) = found.ok_or_else(|| fail("this key is not registered"))?;
    if k.valid_until.is_some_and(|u| u <= now) {
        return Err(fail("this key was replaced; sign in with the current key"));
    }
    if participant.state.is_barred() {
        return Err(fail(&format!("{} is {}", participant.uscc, participant.state)));
    }
    let mut token = [0u8; 32];
    let mut csrf = [0u8; 16];
    crate::crypto::ed25519::random_bytes(&mut token).map_err(|e| Error::Internal(e.to_string()))?;
    crate::crypto::ed25519::random_bytes(&mut csrf).map_err(|e| Error::Internal(e.to_string()))?;
    let (token, csrf) = (URL_SAFE_NO_PAD.encode(token), hex::encode(csrf));
    let row = SessionRow {
        token_sha256: Sha256Digest::of(token.as_bytes()).to_hex(),
        participant_id: participant.id,
        did: req.did.clone(),
        csrf: csrf.clone(),
        created_at: now,
        last_seen: now,
        expires_at: now + MAX_MS,
        ended_at: None,
    };
    // The nonce is single-use for everyone sharing the database.
    let jti = format!("portal-login-{}", c.nonce);
    sessions::open(node, row, jti, req.did.clone(), c.exp).await?;
    Ok(NewSession {
        token,
        csrf,
        participant,
    })
}

/// An open session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub participant: Participant,
    /// Its role.
    pub role: Role,
    /// The key that signed in.
    pub did: DidKey,
    /// The CSRF token.
    pub csrf: String,
    token_sha256: String,
}

impl Session {
    /// The session as a caller of the node's operations. Each use gets a fresh one-time id, so the
    /// operations' replay checks hold; the session itself is the credential (cookie + CSRF). Fails
    /// only when the operating system's random number generator does.
    pub fn caller(&self, node: &Node) -> Result<Caller> {
        let jti = crate::node::auth::random_id("portal caller jti")?;
        Ok(Caller {
            participant: self.participant.clone(),
            role: self.role,
            assertion: Assertion {
                signer: self.did.clone(),
                jti: format!("portal-{jti}"),
                expires_ms: node.now_ms() + IDLE_MS,
            },
        })
    }
}

/// The session for a cookie token, if open; touches its idle timer. A session is open while it has
/// not been ended, is within its idle and absolute limits, the key that opened it is still the
/// participant's current key, and the participant is neither suspended, removed nor rejected: a
/// rotation, recovery, suspension or removal ends it at once (they also end it in storage, in their
/// own transaction; this re-check holds even for sessions another process opened meanwhile).
pub async fn lookup(node: &Node, token: &str) -> Result<Session> {
    let hash = Sha256Digest::of(token.as_bytes()).to_hex();
    let now = node.now_ms();
    let found = sessions::find(node, hash.clone()).await?;
    let ended = || Error::Unauthenticated("the session has ended: sign in again".into());
    let (row, key) = found.ok_or_else(|| Error::Unauthenticated("no session: sign in".into()))?;
    if row.ended_at.is_some() || row.expires_at <= now || row.last_seen + IDLE_MS <= now {
        return Err(ended());
    }
    let (participant, key) = key.ok_or_else(ended)?;
    if participant.id != row.participant_id
        || key.valid_until.is_some_and(|u| u <= now)
        || participant.state.is_barred()
    {
        return Err(ended());
    }
    sessions::touch(node, hash.clone(), now).await?;
    let role = participant.role;
    let did = DidKey::parse(&row.did).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Session {
        participant,
        role,
        did,
        csrf: row.csrf,
        token_sha256: hash,
    })
}

/// Ends a session.
pub async fn end(node: &Node, session: &Session) -> Result<()> {
    sessions::end(node, session.token_sha256.clone(), node.now_ms()).await
}
