"""Consentry client library: identities, grants, status lists, the access log, signed webhooks,
and the node / platform HTTP API.

See the README for an example. Every verification raises a typed exception carrying a stable
``code``; nothing fails silently.
"""

from __future__ import annotations

from .auth import make_assertion, make_signed_request
from .client import NodeClient, PlatformClient
from .dataintegrity import VerifiedProof, create_proof, verify_proof
from .errors import (
    ApiError,
    BadRequest,
    Conflict,
    ConsentryError,
    Forbidden,
    GrantInvalid,
    GrantRejected,
    GrantStatusError,
    InvalidKey,
    JsonError,
    LogVerificationError,
    NotFound,
    ProofError,
    Reason,
    ReleaseRefused,
    ServiceUnavailable,
    SignatureError,
    StatusError,
    TransportError,
    Unauthenticated,
    WebhookVerificationError,
)
from .grant import (
    Catalog,
    CategoryGrant,
    GrantDraft,
    OnwardRecipient,
    VerifiedGrant,
    VerifiedGrantCache,
    verify_grant,
)
from .jsonstrict import canonicalize, parse as parse_json
from .jws import sign_vc_jwt, verify_vc_jwt
from .keys import DidKey, KeyPair, PublicKey
from .log import (
    Checkpoint,
    NoteVerifier,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_inclusion_promise,
    verify_receipt,
)
from .status import StatusChecker, StatusList, check_credential_status, verify_status_list
from .webhook import WebhookEvent, verify_webhook
from .uscc import is_valid_uscc

__version__ = "0.1.0"

__all__ = [
    "ApiError", "BadRequest", "Catalog", "CategoryGrant", "Checkpoint", "Conflict", "ConsentryError",
    "DidKey", "Forbidden", "GrantDraft", "GrantInvalid", "GrantRejected", "GrantStatusError",
    "InvalidKey", "JsonError", "KeyPair", "LogVerificationError", "NodeClient", "NotFound",
    "NoteVerifier", "OnwardRecipient", "PlatformClient", "ProofError", "PublicKey", "Reason",
    "ReleaseRefused", "ServiceUnavailable", "SignatureError", "StatusChecker", "StatusError",
    "StatusList", "TransportError", "Unauthenticated", "VerifiedGrant", "VerifiedGrantCache", "VerifiedProof",
    "WebhookVerificationError", "canonicalize", "create_proof", "is_valid_uscc", "make_assertion",
    "make_signed_request", "parse_json", "sign_vc_jwt", "verify_checkpoint", "verify_consistency",
    "verify_grant", "verify_inclusion", "verify_inclusion_promise", "verify_proof", "verify_receipt",
    "verify_status_list", "verify_vc_jwt", "verify_webhook", "WebhookEvent", "check_credential_status",
    "__version__",
]
