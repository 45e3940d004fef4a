"""Client assertions and signed requests (src/node/auth.rs, spec/security.md).

* A **client assertion** (``typ`` ``consentry-assertion+jwt``) authenticates one HTTP request: it
  is single-use (random ``jti``), lives 120 s, is addressed to the server's DID (``aud``) and bound
  to the method (``htm``) and the path with its query (``htu``).
* A **signed request** (``typ`` ``consentry-request+jwt``) is a participant's own statement of what
  it asks (``register``, ``revoke``, ``suspend``, ``resume``, ``rotate-key``, display consent, loan
  reports…), kept by the node as evidence: claims ``action``, ``aud``, ``iat``, ``jti`` and the
  operation's own claims.
"""

from __future__ import annotations

import os
import time
from typing import Any, Mapping

from .jsonstrict import serialize_compact
from .jws import ASSERTION_TYP, REQUEST_TYP, sign_compact
from .keys import KeyPair

ASSERTION_LIFETIME = 120


def random_jti() -> str:
    """32 hex characters from the operating system's CSPRNG."""
    return os.urandom(16).hex()


def make_assertion(key: KeyPair, audience: str, method: str, path_and_query: str, now: float | None = None) -> str:
    """A fresh client assertion for one request (``Authorization: Bearer <assertion>``)."""
    t = int(now if now is not None else time.time())
    claims = {
        "iss": key.did.did,
        "aud": audience,
        "iat": t,
        "exp": t + ASSERTION_LIFETIME,
        "jti": random_jti(),
        "htm": method.upper(),
        "htu": path_and_query,
    }
    return sign_compact(serialize_compact(claims), ASSERTION_TYP, key)


def make_signed_request(
    key: KeyPair,
    audience: str,
    action: str,
    claims: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> str:
    """A signed request with ``action`` and ``claims``, addressed to ``audience`` (the node's DID)."""
    body: dict[str, Any] = dict(claims or {})
    body["action"] = action
    body["aud"] = audience
    body["iat"] = int(now if now is not None else time.time())
    body["jti"] = random_jti()
    return sign_compact(serialize_compact(body), REQUEST_TYP, key)
