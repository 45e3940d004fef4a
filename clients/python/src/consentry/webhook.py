"""Verifying a signed webhook delivery in one call (spec/notifications.md §6): RFC 9421 HTTP
Message Signatures (Ed25519, tag ``consentry-webhook``) and RFC 9530 ``Content-Digest``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import InvalidKey, JsonError, SignatureError, WebhookVerificationError
from .jsonstrict import parse
from .keys import DidKey

COMPONENTS = (
    "@method", "@target-uri", "content-type", "content-digest",
    "consentry-event-id", "consentry-event-type", "consentry-sequence",
)
TAG = "consentry-webhook"
MAX_AGE = 300
SKEW = 5


def _fail(msg: str) -> WebhookVerificationError:
    return WebhookVerificationError(msg)


_TOKEN = re.compile(r"[A-Za-z*][A-Za-z0-9:/!#$%&'*+\-.^_`|~]*")
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")


class _P:
    """A small RFC 8941 parser for the dictionaries of Signature-Input and Signature."""

    def __init__(self, s: str) -> None:
        self.s, self.i = s, 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def key(self) -> str:
        m = _KEY.match(self.s, self.i)
        if not m:
            raise _fail(f"structured field: expected a key at {self.i}")
        self.i = m.end()
        return m.group(0)

    def bare(self) -> Any:
        s, i = self.s, self.i
        if i >= len(s):
            raise _fail("structured field: unexpected end")
        c = s[i]
        if c == '"':
            out = []
            i += 1
            while i < len(s):
                if s[i] == "\\":
                    if i + 1 >= len(s) or s[i + 1] not in '"\\':
                        raise _fail("structured field: bad escape")
                    out.append(s[i + 1])
                    i += 2
                    continue
                if s[i] == '"':
                    self.i = i + 1
                    return "".join(out)
                if not (0x20 <= ord(s[i]) < 0x7F):
                    raise _fail("structured field: bad string character")
                out.append(s[i])
                i += 1
            raise _fail("structured field: unterminated string")
        if c == ":":
            j = s.find(":", i + 1)
            if j < 0:
                raise _fail("structured field: unterminated byte sequence")
            try:
                self.i = j + 1
                return base64.b64decode(s[i + 1 : j], validate=True)
            except (binascii.Error, ValueError):
                raise _fail("structured field: bad byte sequence") from None
        if c == "?":
            if s[i + 1 : i + 2] in ("0", "1"):
                self.i = i + 2
                return s[i + 1] == "1"
            raise _fail("structured field: bad boolean")
        m = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?").match(s, i)
        if m:
            self.i = m.end()
            return float(m.group(0)) if m.group(1) else int(m.group(0))
        m = _TOKEN.match(s, i)
        if m:
            self.i = m.end()
            return ("token", m.group(0))
        raise _fail(f"structured field: unexpected {c!r}")

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while self.i < len(self.s) and self.s[self.i] == ";":
            self.i += 1
            self.ws()
            k = self.key()
            v: Any = True
            if self.i < len(self.s) and self.s[self.i] == "=":
                self.i += 1
                v = self.bare()
            out[k] = v
        return out

    def item_or_list(self) -> tuple[Any, dict[str, Any]]:
        if self.i < len(self.s) and self.s[self.i] == "(":
            self.i += 1
            items = []
            while True:
                self.ws()
                if self.i < len(self.s) and self.s[self.i] == ")":
                    self.i += 1
                    break
                v = self.bare()
                p = self.params()
                items.append((v, p))
                if self.i < len(self.s) and self.s[self.i] not in " )":
                    raise _fail("structured field: bad inner list")
            return items, self.params()
        return self.bare(), self.params()

    def dictionary(self) -> dict[str, tuple[Any, dict[str, Any]]]:
        out: dict[str, tuple[Any, dict[str, Any]]] = {}
        self.ws()
        while self.i < len(self.s):
            k = self.key()
            if self.i < len(self.s) and self.s[self.i] == "=":
                self.i += 1
                out[k] = self.item_or_list()
            else:
                out[k] = (True, self.params())
            self.ws()
            if self.i >= len(self.s):
                break
            if self.s[self.i] != ",":
                raise _fail("structured field: expected ','")
            self.i += 1
            self.ws()
            if self.i >= len(self.s):
                raise _fail("structured field: trailing comma")
        return out


def _serialize_bare(v: Any) -> str:
    if isinstance(v, bool):
        return "?1" if v else "?0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, tuple) and v[0] == "token":
        return str(v[1])
    raise _fail("structured field: unsupported value in signature params")


@dataclass(frozen=True)
class WebhookEvent:
    """A verified delivery: the event (parsed body), its id, type and sequence, and ``created``."""

    id: str
    type: str
    sequence: int
    created: int
    event: dict[str, Any]


def verify_webhook(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes,
    node_did: str,
    *,
    now: float | None = None,
    recipient: str | None = None,
) -> WebhookEvent:
    """Verifies one delivery: ``target_uri`` is the URL you registered (normalized, as
    ``GET /v1/webhooks/{id}`` shows it), ``node_did`` the pinned node DID. Raises
    :class:`~consentry.errors.WebhookVerificationError` with the reason."""
    h = {k.lower(): v.strip() for k, v in headers.items()}
    t = time.time() if now is None else now
    if "signature-input" not in h or "signature" not in h:
        raise _fail("no Signature-Input or Signature header")
    inputs = _P(h["signature-input"]).dictionary()
    sigs = _P(h["signature"]).dictionary()
    chosen = [k for k, (_, p) in inputs.items() if p.get("tag") == TAG]
    if len(chosen) != 1:
        raise _fail(f"expected exactly one signature tagged {TAG}, found {len(chosen)}")
    label = chosen[0]
    comps, params = inputs[label]
    if not isinstance(comps, list):
        raise _fail("Signature-Input member is not an inner list")
    names = []
    for v, p in comps:
        if not isinstance(v, str) or p or v != v.lower():
            raise _fail("covered components must be lowercase strings without parameters")
        names.append(v)
    missing = [c for c in COMPONENTS if c not in names]
    if missing:
        raise _fail(f"the signature does not cover {', '.join(missing)}")
    sig_item = sigs.get(label)
    if sig_item is None or not isinstance(sig_item[0], bytes) or len(sig_item[0]) != 64:
        raise _fail("Signature has no 64-byte value for the tagged label")
    if params.get("alg") != "ed25519":
        raise _fail(f"alg {params.get('alg')!r} is not ed25519")
    created = params.get("created")
    if isinstance(created, bool) or not isinstance(created, int):
        raise _fail("created is missing")
    if created > t + SKEW:
        raise _fail("created is in the future")
    if created < t - MAX_AGE:
        raise _fail("the delivery is older than 300 s")
    expires = params.get("expires")
    if expires is not None:
        if isinstance(expires, bool) or not isinstance(expires, int) or expires <= created:
            raise _fail("expires must be an integer after created")
        if expires < t:
            raise _fail("the signature has expired")
    try:
        pinned = DidKey.parse(node_did)
    except InvalidKey as e:
        raise _fail(f"pinned node DID: {e.message}") from None
    if params.get("keyid") != pinned.verification_method:
        raise _fail(f"keyid {params.get('keyid')!r} is not the pinned node key")
    lines = []
    for name in names:
        if name == "@method":
            value = method.upper()
        elif name == "@target-uri":
            value = target_uri
        elif name.startswith("@"):
            raise _fail(f"unsupported derived component {name}")
        else:
            if name not in h:
                raise _fail(f"covered header {name} is missing")
            value = h[name]
        lines.append(f'"{name}": {value}')
    sp = "(" + " ".join(f'"{n}"' for n in names) + ")" + "".join(
        f";{k}" + ("" if v is True else "=" + _serialize_bare(v)) for k, v in params.items()
    )
    lines.append(f'"@signature-params": {sp}')
    base = "\n".join(lines).encode("utf-8")
    try:
        pinned.public_key.verify(base, sig_item[0])
    except SignatureError:
        raise _fail("the RFC 9421 signature does not verify") from None
    digests = _P(h["content-digest"]).dictionary()
    d = digests.get("sha-256")
    if d is None or not isinstance(d[0], bytes):
        raise _fail("Content-Digest has no sha-256 member")
    if not hmac.compare_digest(d[0], hashlib.sha256(body).digest()):
        raise _fail("Content-Digest does not match the body")
    try:
        event = parse(body)
    except JsonError as e:
        raise _fail(f"body: {e.message}") from None
    if not isinstance(event, dict):
        raise _fail("the body is not a JSON object")
    if event.get("id") != h["consentry-event-id"] or event.get("type") != h["consentry-event-type"]:
        raise _fail("the body's id or type differs from the Consentry-Event-* headers")
    if recipient is not None and event.get("recipient") != recipient:
        raise _fail(f"the event is for {event.get('recipient')!r}, not {recipient!r}")
    try:
        seq = int(h["consentry-sequence"])
    except ValueError:
        raise _fail("Consentry-Sequence is not an integer") from None
    return WebhookEvent(str(event["id"]), str(event["type"]), seq, created, event)
