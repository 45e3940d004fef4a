"""Exceptions raised by the library.

Every failure is an exception with a stable ``code`` (the violation, reason or problem code the
specification uses) and a human-readable message; nothing fails silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class ConsentryError(Exception):
    """Base class of every error this library raises. ``code`` is a stable machine-readable code."""

    code: str = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human-readable message."""
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class JsonError(ConsentryError):
    """A JSON text is not strict I-JSON. ``code`` is ``malformed-json``; ``reason`` says which
    rule: ``invalid-json``, ``duplicate-key``, ``unsafe-integer`` or ``not-a-finite-number``."""

    code = "malformed-json"

    def __init__(self, message: str, reason: str = "invalid-json") -> None:
        super().__init__(message)
        self.reason = reason


class EncodingError(ConsentryError):
    """A base64url, base64 or base58 text is not canonical or does not decode."""

    code = "encoding"


class InvalidKey(ConsentryError):
    """A key, key file or did:key is refused (malformed, other codec, weak or non-canonical point)."""

    code = "invalid-key"


class SignatureError(ConsentryError):
    """An Ed25519 signature does not verify (strict RFC 8032 §5.1.7 verification)."""

    code = "bad-signature"


@dataclass(frozen=True)
class Reason:
    """One reason of a refusal: a stable ``code`` and a ``message``."""

    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        """The ``{"code", "message"}`` object."""
        return {"code": self.code, "message": self.message}


class ProofError(ConsentryError):
    """A Data Integrity proof or a JWS does not verify; ``code`` is the spec/grant.md §5 proof code."""

    code = "bad-signature"


class GrantInvalid(ConsentryError):
    """A grant does not verify: ``reasons`` lists every violation (spec/grant.md §4, §5)."""

    code = "grant-invalid"

    def __init__(self, reasons: list[Reason]) -> None:
        self.reasons = list(reasons)
        first = reasons[0].code if reasons else "grant-invalid"
        super().__init__("; ".join(f"{r.code}: {r.message}" for r in reasons) or "invalid", first)

    def __str__(self) -> str:
        return "invalid grant: " + self.message

    @property
    def codes(self) -> list[str]:
        """The codes of every reason, in order."""
        return [r.code for r in self.reasons]


class StatusError(ConsentryError):
    """A status list cannot be used (proof, purpose, length, encoding, index out of range)."""

    code = "status-list"


class GrantStatusError(ConsentryError):
    """A grant is revoked or suspended (``code`` is ``grant-revoked`` or ``grant-suspended``)."""

    code = "grant-revoked"


class LogVerificationError(ConsentryError):
    """A receipt, inclusion or consistency proof, checkpoint or cosignature does not verify."""

    code = "log-verification"


class WebhookVerificationError(ConsentryError):
    """A signed webhook does not verify (RFC 9421 signature, Content-Digest, freshness)."""

    code = "webhook-signature"


@dataclass
class _ProblemFields:
    status: int
    type: str
    title: str
    detail: str
    reasons: list[Reason] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)


class ApiError(ConsentryError):
    """An RFC 9457 problem answered by a node or platform.

    ``type`` is the problem type URI, ``problem_code`` its part after ``#`` (spec/problems.md),
    ``status`` the HTTP status, ``detail`` the server's explanation, ``reasons`` every reason (for
    refusals), ``log_index`` the logged refusal's index when the server gives one and ``body`` the
    whole problem object.
    """

    def __init__(
        self,
        status: int,
        type_: str,
        title: str,
        detail: str,
        reasons: list[Reason] | None = None,
        body: dict[str, Any] | None = None,
    ) -> None:
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.reasons = list(reasons or [])
        self.body = dict(body or {})
        code = type_.rsplit("#", 1)[-1] if "#" in type_ else (type_ or f"http-{status}")
        self.problem_code = code
        msg = f"HTTP {status} {title}: {detail}" if detail else f"HTTP {status} {title}"
        if self.reasons:
            msg += " [" + "; ".join(f"{r.code}: {r.message}" for r in self.reasons) + "]"
        super().__init__(msg, code)

    @property
    def reason_codes(self) -> list[str]:
        """The codes of every reason."""
        return [r.code for r in self.reasons]

    @property
    def log_index(self) -> int | None:
        """``logIndex`` of a ``release-refused`` problem."""
        v = self.body.get("logIndex")
        return v if isinstance(v, int) else None


class BadRequest(ApiError):
    """400: the request is malformed or a value is invalid."""


class Unauthenticated(ApiError):
    """401: the client assertion or signed request was refused."""


class Forbidden(ApiError):
    """403 ``forbidden``: authenticated, but not allowed."""


class ReleaseRefused(Forbidden):
    """403 ``release-refused``: ``reasons`` lists every reason, ``log_index`` the logged refusal."""


class ReportRefused(Forbidden):
    """403 ``report-refused``."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409 ``conflict`` or ``report-conflict``."""


class GrantRejected(ApiError):
    """422 ``grant-invalid``: the node refused a submitted grant; ``reasons`` lists every failure."""


class ServiceUnavailable(ApiError):
    """503 ``storage-unavailable`` or ``upstream-unavailable``."""


class TransportError(ConsentryError):
    """The server could not be reached, or answered something that is not the expected JSON."""

    code = "transport"
