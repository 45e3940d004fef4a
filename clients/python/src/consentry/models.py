"""Typed shapes of the API's main requests and answers (hand-written from spec/openapi.yaml).

They are ``TypedDict``\\ s: the values are the parsed JSON objects themselves, so members the
server adds later are kept, and type checkers see the documented members.
"""

from __future__ import annotations

import sys
from typing import Any, Literal, TypedDict

if sys.version_info >= (3, 11):
    from typing import NotRequired
else:  # pragma: no cover
    from typing_extensions import NotRequired

Granularity = Literal["raw", "derived"]


class NodeInfo(TypedDict):
    """``GET /v1/node``."""

    did: str
    logOrigin: str
    logSize: int
    logRoot: str
    catalogVersion: NotRequired[str]
    publicUrl: NotRequired[str]
    didDocument: NotRequired[dict[str, Any]]


class PlatformInfo(TypedDict):
    """``GET /v1/platform``."""

    uscc: str
    did: str
    node: str
    nodeDid: str | None
    logOrigin: str
    logSize: int
    logRoot: str


class ReasonJson(TypedDict):
    """A reason ``{code, message}``."""

    code: str
    message: str


class StatusSlot(TypedDict):
    """``POST /v1/status/slots``: the list-pair base URL and the index."""

    statusList: str
    statusIndex: int


class RegistrationAccepted(TypedDict):
    """``POST /v1/registrations`` (202)."""

    uscc: str
    name: str
    state: Literal["pending"]


class RegistrationDecision(TypedDict):
    """``POST /v1/admin/registrations/{uscc}/approve|reject``."""

    uscc: str
    state: Literal["active", "rejected"]
    identityCredential: dict[str, Any] | None


class BankCreated(TypedDict):
    """``POST /v1/banks``."""

    uscc: str
    name: str
    role: Literal["bank"]
    state: str
    platform: str | None


class MemberCreated(TypedDict):
    """``POST /v1/admin/platforms``, ``/v1/admin/regulators``."""

    uscc: str
    name: str
    role: str
    state: str


class Grant(TypedDict):
    """``POST /v1/grants`` answer and list items."""

    id: str
    state: str
    logIndex: NotRequired[int]


class GrantStatusChanged(TypedDict):
    """``POST /v1/grants/{id}/revoke|suspend|resume``."""

    id: str
    state: Literal["active", "suspended", "revoked"]
    logIndex: int


class ReleaseRequest(TypedDict):
    """``POST /v1/releases`` body."""

    enterprise: str
    categories: list[str]
    granularity: Granularity
    purpose: str
    grant: NotRequired[str | None]
    onBehalfOf: NotRequired[str | None]
    requestId: NotRequired[str | None]


class InclusionPromise(TypedDict):
    """The signed inclusion promise of a release (spec/access-log.md §6.1)."""

    type: Literal["inclusion-promise"]
    origin: str
    index: int
    leafHash: str
    timeMs: int
    signer: str
    signature: str
    proof: str


class Upstream(TypedDict):
    """An onward release's node entry."""

    origin: str
    index: int
    leafHash: str


class ReleaseAnswer(TypedDict):
    """``POST /v1/releases`` (200)."""

    requestId: str
    enterprise: str
    grant: str | None
    purpose: str
    granularity: Granularity
    onBehalfOf: str | None
    data: dict[str, Any]
    dataSha256: str
    logIndex: int
    leafHash: str
    receipt: InclusionPromise
    upstream: NotRequired[Upstream]


class InclusionProofJson(TypedDict):
    """``GET /v1/log/proof/inclusion``."""

    index: int
    size: int
    leafHash: str
    proof: list[str]


class ConsistencyProofJson(TypedDict):
    """``GET /v1/log/proof/consistency``."""

    to: int
    proof: list[str]


class CheckpointItem(TypedDict):
    """An item of ``GET /v1/log/checkpoints``."""

    size: int
    note: str
    createdAt: str
