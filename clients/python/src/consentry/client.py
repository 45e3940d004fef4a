"""HTTP clients for a Consentry node (:class:`NodeClient`) and a financing platform
(:class:`PlatformClient`), on the standard library (``urllib``).

Every authenticated call carries a fresh client assertion (single use, bound to the method, the
path with its query and the server's DID). Answers are parsed as strict JSON; RFC 9457 problems
become :class:`~consentry.errors.ApiError` subclasses carrying ``type``, ``detail`` and
``reasons``. Retries happen only where safe: GETs on transport errors and ``503``, and any call
answered ``503`` with ``Retry-After`` (the server changed nothing; a new assertion is made).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Mapping, cast

from .auth import make_assertion, make_signed_request
from .errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    GrantRejected,
    JsonError,
    NotFound,
    Reason,
    ReleaseRefused,
    ReportRefused,
    ServiceUnavailable,
    TransportError,
    Unauthenticated,
)
from .jsonstrict import parse, serialize_compact
from .keys import KeyPair
from .models import (
    BankCreated,
    CheckpointItem,
    ConsistencyProofJson,
    Grant,
    GrantStatusChanged,
    InclusionProofJson,
    MemberCreated,
    NodeInfo,
    PlatformInfo,
    RegistrationAccepted,
    RegistrationDecision,
    ReleaseAnswer,
    ReleaseRequest,
    StatusSlot,
)

__all__ = ["Response", "NodeClient", "PlatformClient"]

USER_AGENT = "consentry-python/0.1.0"


class Response:
    """A raw answer: status, headers (lower-case names) and body bytes."""

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self) -> Any:
        """The body as strict JSON; :class:`TransportError` if it is not."""
        try:
            return parse(self.body)
        except JsonError as e:
            raise TransportError(f"HTTP {self.status}: the answer is not strict JSON: {e.message}") from None

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise TransportError(f"HTTP {self.status}: the answer is not UTF-8") from None


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: GrantRejected,
    503: ServiceUnavailable,
}


def _problem(resp: Response) -> ApiError:
    body: dict[str, Any] = {}
    try:
        parsed = parse(resp.body) if resp.body else {}
        if isinstance(parsed, dict):
            body = parsed
    except JsonError:
        pass
    type_ = body.get("type") if isinstance(body.get("type"), str) else ""
    title = body.get("title") if isinstance(body.get("title"), str) else ""
    detail = body.get("detail") if isinstance(body.get("detail"), str) else ""
    if not body and resp.body:
        detail = resp.body[:300].decode("utf-8", "replace")
    reasons = [
        Reason(str(r.get("code", "")), str(r.get("message", "")))
        for r in body.get("reasons", []) or []
        if isinstance(r, dict)
    ]
    code = str(type_).rsplit("#", 1)[-1]
    cls: type[ApiError] = _BY_STATUS.get(resp.status, ApiError)
    if code == "release-refused":
        cls = ReleaseRefused
    elif code == "report-refused":
        cls = ReportRefused
    return cls(resp.status, str(type_), str(title), str(detail), reasons, body)


class _Http:
    def __init__(
        self,
        base_url: str,
        key: KeyPair | None = None,
        *,
        audience: str | None = None,
        timeout: float = 15.0,
        retries: int = 2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self._audience = audience
        self.timeout = timeout
        self.retries = retries

    # -- plumbing ---------------------------------------------------------------------------------

    def _fetch_audience(self) -> str:
        raise NotImplementedError

    @property
    def audience(self) -> str:
        """The server's DID (fetched once from its info route when not given)."""
        if self._audience is None:
            self._audience = self._fetch_audience()
        return self._audience

    def with_key(self, key: KeyPair) -> "_Http":
        """The same server, calling as ``key``."""
        clone = type(self)(self.base_url, key, audience=self._audience, timeout=self.timeout, retries=self.retries)
        return clone

    def _once(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> Response:
        req = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310 - caller's URL
                return Response(r.status, dict(r.headers.items()), r.read())
        except urllib.error.HTTPError as e:
            data = e.read() if e.fp is not None else b""
            return Response(e.code, dict(e.headers.items()) if e.headers else {}, data)
        except (urllib.error.URLError, OSError) as e:
            raise TransportError(f"{method} {self.base_url}{path}: {e}") from None

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Any = None,
        text_body: str | None = None,
        content_type: str | None = None,
        auth: bool = True,
        key: KeyPair | None = None,
        expect: tuple[int, ...] = (200, 201, 202),
        retry_post: bool = True,
    ) -> Response:
        """Sends one request (with retries where safe); raises the typed problem on failure."""
        if query:
            q = {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in query.items() if v is not None}
            if q:
                path = path + "?" + urllib.parse.urlencode(q)
        body: bytes | None = None
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json, application/problem+json, */*"}
        if json_body is not None:
            body = serialize_compact(json_body)
            headers["Content-Type"] = "application/json"
        elif text_body is not None:
            body = text_body.encode("utf-8")
            headers["Content-Type"] = content_type or "text/plain"
        elif method == "POST":
            body = b""
        signer = key or self.key
        attempt = 0
        while True:
            if auth:
                if signer is None:
                    raise ValueError(f"{method} {path} needs a key (client assertion)")
                headers["Authorization"] = "Bearer " + make_assertion(signer, self.audience, method, path)
            try:
                resp = self._once(method, path, body, headers)
            except TransportError:
                if method == "GET" and attempt < self.retries:
                    attempt += 1
                    time.sleep(0.2 * attempt)
                    continue
                raise
            if resp.status == 503 and attempt < self.retries:
                ra = resp.headers.get("retry-after")
                if method == "GET" or (ra is not None and retry_post):
                    attempt += 1
                    try:
                        delay = min(float(ra), 10.0) if ra is not None else 0.5 * attempt
                    except ValueError:
                        delay = 1.0
                    time.sleep(max(delay, 0.0))
                    continue
            if resp.status in expect:
                return resp
            if 200 <= resp.status < 300:
                return resp
            raise _problem(resp)

    def _get(self, path: str, *, auth: bool = False, query: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, auth=auth, query=query).json()

    def _post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, json_body=body if body is not None else {}, **kw).json()

    def health(self) -> Any:
        """``GET /healthz``."""
        return self._get("/healthz")


def _seg(s: str) -> str:
    return urllib.parse.quote(s, safe=":")


class NodeClient(_Http):
    """A client of the provincial node's API, calling as ``key`` (any participant, or the operator).

    ``audience`` defaults to the node's DID from ``GET /v1/node``.
    """

    def _fetch_audience(self) -> str:
        return self.node_info()["did"]

    # -- public -----------------------------------------------------------------------------------

    def node_info(self) -> NodeInfo:
        """``GET /v1/node``: DID, log origin, size and root, catalog version."""
        return cast(NodeInfo, self._get("/v1/node"))

    def catalog(self) -> dict[str, Any]:
        """``GET /v1/catalog``."""
        return cast(dict[str, Any], self._get("/v1/catalog"))

    def catalog_derivations(self) -> dict[str, Any]:
        """``GET /v1/catalog/derivations``."""
        return cast(dict[str, Any], self._get("/v1/catalog/derivations"))

    def letters(self) -> dict[str, Any]:
        """``GET /v1/catalog/letters``."""
        return cast(dict[str, Any], self._get("/v1/catalog/letters"))

    def letter(self, provider: str, version: int) -> dict[str, Any]:
        """``GET /v1/catalog/letters/{provider}/{version}``."""
        return cast(dict[str, Any], self._get(f"/v1/catalog/letters/{_seg(provider)}/{version}"))

    def status_list_credential(self, url_or_path: str) -> dict[str, Any]:
        """A status list credential (``GET /status/{list}/{purpose}``), by its URL or path."""
        path = urllib.parse.urlsplit(url_or_path).path if "://" in url_or_path else url_or_path
        return cast(dict[str, Any], self._get(path))

    def public_sxm(self, uscc: str) -> dict[str, Any]:
        """``GET /v1/public/sxm/{uscc}``: the public view of an enterprise's evaluation."""
        return cast(dict[str, Any], self._get(f"/v1/public/sxm/{_seg(uscc)}"))

    # -- registry ---------------------------------------------------------------------------------

    def register_enterprise(
        self, key: KeyPair, uscc: str, name: str, industry: str | None = None
    ) -> RegistrationAccepted:
        """``POST /v1/registrations``: the enterprise registers ``key`` (a signed ``register``)."""
        claims: dict[str, Any] = {"uscc": uscc, "name": name}
        if industry is not None:
            claims["industry"] = industry
        token = make_signed_request(key, self.audience, "register", claims)
        return cast(RegistrationAccepted, self._post_text("/v1/registrations", token))

    def _post_text(self, path: str, text: str, content_type: str = "text/plain") -> Any:
        return self.request(
            "POST", path, text_body=text, content_type=content_type, auth=False, retry_post=False
        ).json()

    def participants(self, role: str | None = None, state: str | None = None) -> dict[str, Any]:
        """``GET /v1/participants``."""
        return cast(dict[str, Any], self._get("/v1/participants", auth=True, query={"role": role, "state": state}))

    def me(self) -> dict[str, Any]:
        """``GET /v1/participants/me``."""
        return cast(dict[str, Any], self._get("/v1/participants/me", auth=True))

    def rotate_key(self, new_key: KeyPair, claims: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST /v1/participants/me/keys``: a ``rotate-key`` signed request by the current key
        naming ``new_key`` (claim ``newDid``; extra claims as the API documents)."""
        if self.key is None:
            raise ValueError("rotate_key needs the current key")
        c = {"newDid": new_key.did.did, **dict(claims or {})}
        token = make_signed_request(self.key, self.audience, "rotate-key", c)
        return cast(dict[str, Any], self._post_text("/v1/participants/me/keys", token))

    def register_bank(self, uscc: str, name: str, did: str, endpoint: str | None = None) -> BankCreated:
        """``POST /v1/banks`` (role platform)."""
        body: dict[str, Any] = {"uscc": uscc, "name": name, "did": did}
        if endpoint is not None:
            body["endpoint"] = endpoint
        return cast(BankCreated, self._post("/v1/banks", body, auth=True))

    def add_delegation(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/delegations``."""
        return cast(dict[str, Any], self._post("/v1/delegations", dict(body), auth=True))

    def notices(self) -> dict[str, Any]:
        """``GET /v1/notices``."""
        return cast(dict[str, Any], self._get("/v1/notices", auth=True))

    # -- grants -----------------------------------------------------------------------------------

    def allocate_status_slot(self) -> StatusSlot:
        """``POST /v1/status/slots`` (role enterprise): a slot for the next grant."""
        return cast(StatusSlot, self._post("/v1/status/slots", {}, auth=True))

    def submit_grant(self, secured: str | bytes | Mapping[str, Any]) -> Grant:
        """``POST /v1/grants``: the exact signed grant (Data Integrity JSON text or a VC-JWT).

        Pass the bytes as signed; a dict is serialized compactly first.
        """
        if isinstance(secured, Mapping):
            text = serialize_compact(dict(secured)).decode("utf-8")
        elif isinstance(secured, bytes):
            text = secured.decode("utf-8")
        else:
            text = secured
        ctype = "application/json" if text.lstrip().startswith("{") else "application/vc+jwt"
        return cast(Grant, self._post_text("/v1/grants", text, ctype))

    def grants(self, **filters: Any) -> dict[str, Any]:
        """``GET /v1/grants``: one page, newest first. Filters as the API names them
        (``enterprise``, ``platform``, ``bank``, ``category``, ``state``, ``submittedFrom``,
        ``submittedUntil``, ``after``, ``limit``); pass the answer's ``next`` as ``after``."""
        return cast(dict[str, Any], self._get("/v1/grants", auth=True, query=filters))

    def grant(self, grant_id: str) -> dict[str, Any]:
        """``GET /v1/grants/{id}``."""
        return cast(dict[str, Any], self._get(f"/v1/grants/{_seg(grant_id)}", auth=True))

    def _grant_action(self, action: str, grant_id: str, key: KeyPair | None) -> GrantStatusChanged:
        signer = key or self.key
        if signer is None:
            raise ValueError(f"{action} needs the enterprise's key")
        token = make_signed_request(signer, self.audience, action, {"grant": grant_id})
        return cast(GrantStatusChanged, self._post_text(f"/v1/grants/{_seg(grant_id)}/{action}", token))

    def revoke_grant(self, grant_id: str, key: KeyPair | None = None) -> GrantStatusChanged:
        """``POST /v1/grants/{id}/revoke`` (a signed ``revoke`` by the enterprise)."""
        return self._grant_action("revoke", grant_id, key)

    def suspend_grant(self, grant_id: str, key: KeyPair | None = None) -> GrantStatusChanged:
        """``POST /v1/grants/{id}/suspend``."""
        return self._grant_action("suspend", grant_id, key)

    def resume_grant(self, grant_id: str, key: KeyPair | None = None) -> GrantStatusChanged:
        """``POST /v1/grants/{id}/resume``."""
        return self._grant_action("resume", grant_id, key)

    # -- releases, evaluations, data --------------------------------------------------------------

    def release(self, request: ReleaseRequest | Mapping[str, Any]) -> ReleaseAnswer:
        """``POST /v1/releases``; a refusal is :class:`~consentry.errors.ReleaseRefused`."""
        return cast(ReleaseAnswer, self._post("/v1/releases", dict(request), auth=True))

    def request_evaluation(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/evaluations``."""
        return cast(dict[str, Any], self._post("/v1/evaluations", dict(body), auth=True))

    def evaluation(self, evaluation_id: str) -> dict[str, Any]:
        """``GET /v1/evaluations/{id}``."""
        return cast(dict[str, Any], self._get(f"/v1/evaluations/{_seg(evaluation_id)}", auth=True))

    def withdraw_evaluation(self, evaluation_id: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST /v1/evaluations/{id}/withdraw``."""
        return cast(dict[str, Any], self._post(f"/v1/evaluations/{_seg(evaluation_id)}/withdraw", dict(body or {}), auth=True))

    def change_display(self, action: str, key: KeyPair | None = None, claims: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST /v1/display/{authorize|revoke}``: the enterprise's signed consent."""
        signer = key or self.key
        if signer is None:
            raise ValueError("change_display needs the enterprise's key")
        token = make_signed_request(signer, self.audience, f"display-{action}", dict(claims or {}))
        return cast(dict[str, Any], self._post_text(f"/v1/display/{_seg(action)}", token))

    def enterprise_data(self) -> dict[str, Any]:
        """``GET /v1/enterprise/data``: the enterprise's own records."""
        return cast(dict[str, Any], self._get("/v1/enterprise/data", auth=True))

    # -- objections, webhooks, loans, feed, bulletins ---------------------------------------------

    def file_objection(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/objections`` (the body carries the signed ``statement``)."""
        return cast(dict[str, Any], self._post("/v1/objections", dict(body), auth=True))

    def objections(self, **filters: Any) -> dict[str, Any]:
        """``GET /v1/objections`` (filters: state, overdue, deadlineUnknown, enterprise, ``before``,
        ``limit`` 1–500, default 50; another limit is ``400 invalid-query``). Newest first; pass the
        answer's ``next`` as ``before`` for the following page."""
        return cast(dict[str, Any], self._get("/v1/objections", auth=True, query=filters))

    def objection(self, objection_id: str) -> dict[str, Any]:
        """``GET /v1/objections/{id}``."""
        return cast(dict[str, Any], self._get(f"/v1/objections/{_seg(objection_id)}", auth=True))

    def objection_step(self, objection_id: str, step: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/objections/{id}/{forward|review|resolve}``."""
        return cast(dict[str, Any], self._post(f"/v1/objections/{_seg(objection_id)}/{step}", dict(body), auth=True))

    def create_webhook(self, url: str, events: list[str] | None = None, **extra: Any) -> dict[str, Any]:
        """``POST /v1/webhooks``."""
        body: dict[str, Any] = {"url": url, **extra}
        if events is not None:
            body["events"] = events
        return cast(dict[str, Any], self._post("/v1/webhooks", body, auth=True))

    def webhooks(self) -> dict[str, Any]:
        """``GET /v1/webhooks``."""
        return cast(dict[str, Any], self._get("/v1/webhooks", auth=True))

    def webhook(self, webhook_id: str) -> dict[str, Any]:
        """``GET /v1/webhooks/{id}``."""
        return cast(dict[str, Any], self._get(f"/v1/webhooks/{_seg(webhook_id)}", auth=True))

    def rotate_webhook(self, webhook_id: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``POST /v1/webhooks/{id}/rotate``."""
        return cast(dict[str, Any], self._post(f"/v1/webhooks/{_seg(webhook_id)}/rotate", dict(body or {}), auth=True))

    def delete_webhook(self, webhook_id: str) -> dict[str, Any]:
        """``POST /v1/webhooks/{id}/delete``."""
        return cast(dict[str, Any], self._post(f"/v1/webhooks/{_seg(webhook_id)}/delete", {}, auth=True))

    def webhook_deliveries(self, webhook_id: str) -> dict[str, Any]:
        """``GET /v1/webhooks/{id}/deliveries``."""
        return cast(dict[str, Any], self._get(f"/v1/webhooks/{_seg(webhook_id)}/deliveries", auth=True))

    def loans(self, **filters: Any) -> dict[str, Any]:
        """``GET /v1/loans``."""
        return cast(dict[str, Any], self._get("/v1/loans", auth=True, query=filters))

    def alerts(self, **filters: Any) -> dict[str, Any]:
        """``GET /v1/alerts``."""
        return cast(dict[str, Any], self._get("/v1/alerts", auth=True, query=filters))

    def subscribe_feed(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/feed/subscriptions``."""
        return cast(dict[str, Any], self._post("/v1/feed/subscriptions", dict(body), auth=True))

    def feed_subscriptions(self) -> dict[str, Any]:
        """``GET /v1/feed/subscriptions``."""
        return cast(dict[str, Any], self._get("/v1/feed/subscriptions", auth=True))

    def delete_feed_subscription(self, subscription_id: str) -> dict[str, Any]:
        """``POST /v1/feed/subscriptions/{id}/delete``."""
        return cast(dict[str, Any], self._post(f"/v1/feed/subscriptions/{_seg(subscription_id)}/delete", {}, auth=True))

    def feed_batches(self, **query: Any) -> dict[str, Any]:
        """``GET /v1/feed/batches``."""
        return cast(dict[str, Any], self._get("/v1/feed/batches", auth=True, query=query))

    def feed_batch(self, batch_id: str) -> dict[str, Any]:
        """``GET /v1/feed/batches/{id}``."""
        return cast(dict[str, Any], self._get(f"/v1/feed/batches/{_seg(batch_id)}", auth=True))

    def bulletins(self) -> dict[str, Any]:
        """``GET /v1/bulletins``."""
        return cast(dict[str, Any], self._get("/v1/bulletins", auth=True))

    def bulletin(self, month: str) -> dict[str, Any]:
        """``GET /v1/bulletins/{month}``."""
        return cast(dict[str, Any], self._get(f"/v1/bulletins/{_seg(month)}", auth=True))

    # -- statistics -------------------------------------------------------------------------------

    def stats(self, **query: Any) -> dict[str, Any]:
        """``GET /v1/stats``."""
        return cast(dict[str, Any], self._get("/v1/stats", auth=True, query=query))

    def stats_access(self, **query: Any) -> dict[str, Any]:
        """``GET /v1/stats/access``."""
        return cast(dict[str, Any], self._get("/v1/stats/access", auth=True, query=query))

    def stats_loans(self, **query: Any) -> dict[str, Any]:
        """``GET /v1/stats/loans``."""
        return cast(dict[str, Any], self._get("/v1/stats/loans", auth=True, query=query))

    def stats_enterprises(self, **query: Any) -> dict[str, Any]:
        """``GET /v1/stats/enterprises``."""
        return cast(dict[str, Any], self._get("/v1/stats/enterprises", auth=True, query=query))

    # -- administration (the operator: the node key) ----------------------------------------------

    def admit_platform(self, uscc: str, name: str, did: str, endpoint: str, regions: list[str] | None = None) -> MemberCreated:
        """``POST /v1/admin/platforms``."""
        body: dict[str, Any] = {"uscc": uscc, "name": name, "did": did, "endpoint": endpoint}
        if regions is not None:
            body["regions"] = regions
        return cast(MemberCreated, self._post("/v1/admin/platforms", body, auth=True))

    def add_regulator(self, uscc: str, name: str, did: str) -> MemberCreated:
        """``POST /v1/admin/regulators``."""
        return cast(MemberCreated, self._post("/v1/admin/regulators", {"uscc": uscc, "name": name, "did": did}, auth=True))

    def registrations(self) -> dict[str, Any]:
        """``GET /v1/admin/registrations``: pending registrations."""
        return cast(dict[str, Any], self._get("/v1/admin/registrations", auth=True))

    def approve_registration(self, uscc: str) -> RegistrationDecision:
        """``POST /v1/admin/registrations/{uscc}/approve``."""
        return cast(RegistrationDecision, self._post(f"/v1/admin/registrations/{_seg(uscc)}/approve", {}, auth=True))

    def reject_registration(self, uscc: str, body: Mapping[str, Any] | None = None) -> RegistrationDecision:
        """``POST /v1/admin/registrations/{uscc}/reject``."""
        return cast(RegistrationDecision, self._post(f"/v1/admin/registrations/{_seg(uscc)}/reject", dict(body or {}), auth=True))

    def set_participant_state(self, role: str, uscc: str, state: str, **extra: Any) -> dict[str, Any]:
        """``POST /v1/admin/participants/{role}/{uscc}/state``."""
        return cast(dict[str, Any], self._post(f"/v1/admin/participants/{_seg(role)}/{_seg(uscc)}/state", {"state": state, **extra}, auth=True))

    def make_bulletin(self, month: str) -> dict[str, Any]:
        """``POST /v1/admin/bulletins``."""
        return cast(dict[str, Any], self._post("/v1/admin/bulletins", {"month": month}, auth=True))

    # -- the audit API ----------------------------------------------------------------------------

    def checkpoint(self) -> str:
        """``GET /v1/log/checkpoint``: the newest signed checkpoint note (verify it!)."""
        return self.request("GET", "/v1/log/checkpoint", auth=False).text

    def checkpoints(self, after: int = 0, limit: int = 100) -> list[CheckpointItem]:
        """``GET /v1/log/checkpoints``."""
        v = self._get("/v1/log/checkpoints", query={"after": after, "limit": limit})
        return cast(list[CheckpointItem], v["checkpoints"])

    def leaves(self, start: int = 0, limit: int = 1000) -> list[bytes]:
        """``GET /v1/log/leaves``: 136-byte leaves from ``start``."""
        data = self.request("GET", "/v1/log/leaves", auth=False, query={"from": start, "limit": limit}).body
        if len(data) % 136:
            raise TransportError(f"leaves: {len(data)} bytes is not a multiple of 136")
        return [data[i : i + 136] for i in range(0, len(data), 136)]

    def inclusion_proof(self, index: int, size: int) -> InclusionProofJson:
        """``GET /v1/log/proof/inclusion`` for ``index`` in the tree of ``size`` (take the size from a
        verified checkpoint)."""
        return cast(InclusionProofJson, self._get("/v1/log/proof/inclusion", query={"index": index, "size": size}))

    def consistency_proof(self, first: int, second: int) -> ConsistencyProofJson:
        """``GET /v1/log/proof/consistency``."""
        return cast(ConsistencyProofJson, self._get("/v1/log/proof/consistency", query={"from": first, "to": second}))

    def receipt(self, index: int, *, wait: float = 10.0) -> str:
        """``GET /v1/log/receipts/{index}``: the C2SP tlog-proof text. Waits (up to ``wait`` seconds)
        while the entry is logged but not yet covered by a checkpoint (``404`` with Retry-After)."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return self.request("GET", f"/v1/log/receipts/{index}", auth=False).text
            except NotFound as e:
                if time.monotonic() >= deadline:
                    raise
                ra = e.body.get("retryAfter")
                time.sleep(0.3 if not isinstance(ra, (int, float)) else min(float(ra), 1.0))

    def log_entries(self, **filters: Any) -> dict[str, Any]:
        """``GET /v1/log/entries`` (filters: enterprise, grant, platform, bank, category, kind, …,
        ``after``, ``limit`` 1–10000, default 100; another limit is ``400 invalid-query``). Oldest
        first; pass the answer's ``next`` as ``after`` for the following page."""
        return cast(dict[str, Any], self._get("/v1/log/entries", auth=True, query=filters))

    def export(self, to: int | None = None) -> str:
        """``GET /v1/log/export``: the evidence bundle (node or regulator)."""
        return self.request("GET", "/v1/log/export", auth=True, query={"to": to}).text

    def tile(self, level: int | str, n: str) -> bytes:
        """``GET /v1/log/tile/{level}/{n}`` (``n`` already in tlog-tiles path form, e.g. ``000`` or
        ``x001/234.p/5``)."""
        return self.request("GET", f"/v1/log/tile/{level}/{n}", auth=False).body


class PlatformClient(_Http):
    """A client of a financing platform's API (``GET /v1/platform``, banks, releases, evaluations,
    loan reports), calling as ``key`` (the platform's operator or one of its banks).

    ``audience`` defaults to the platform's DID from ``GET /v1/platform``.
    """

    def _fetch_audience(self) -> str:
        return self.platform_info()["did"]

    def platform_info(self) -> PlatformInfo:
        """``GET /v1/platform``."""
        return cast(PlatformInfo, self._get("/v1/platform"))

    def register_bank(self, uscc: str, name: str, did: str, endpoint: str | None = None) -> BankCreated:
        """``POST /v1/banks``: the platform registers one of its banks (at the node and here)."""
        body: dict[str, Any] = {"uscc": uscc, "name": name, "did": did}
        if endpoint is not None:
            body["endpoint"] = endpoint
        return cast(BankCreated, self._post("/v1/banks", body, auth=True))

    def release(self, request: ReleaseRequest | Mapping[str, Any]) -> ReleaseAnswer:
        """``POST /v1/releases``: a bank asks its platform; refusals raise
        :class:`~consentry.errors.ReleaseRefused` with every reason."""
        return cast(ReleaseAnswer, self._post("/v1/releases", dict(request), auth=True))

    def request_evaluation(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /v1/evaluations`` through the platform."""
        return cast(dict[str, Any], self._post("/v1/evaluations", dict(body), auth=True))

    def report_loan(self, report: Mapping[str, Any], bank_key: KeyPair | None = None, node_did: str | None = None) -> dict[str, Any]:
        """``POST /v1/loan-reports``: the bank's signed ``loan-report`` (addressed to the node's DID)
        relayed by its platform."""
        signer = bank_key or self.key
        if signer is None:
            raise ValueError("report_loan needs the bank's key")
        aud = node_did or self.platform_info().get("nodeDid")
        if not aud:
            raise TransportError("the platform does not know its node's DID; pass node_did")
        token = make_signed_request(signer, aud, "loan-report", {"report": dict(report)})
        return cast(dict[str, Any], self._post("/v1/loan-reports", {"request": token}, auth=True, key=signer))
