"""Consentry grants (``CreditDataAuthorization``, spec/grant.md): build, sign and verify offline.

* :class:`GrantDraft` builds the unsigned credential; :meth:`GrantDraft.sign_di` and
  :meth:`GrantDraft.sign_jwt` secure it in either envelope.
* :func:`verify_grant` runs spec/grant.md §5: the proof (one reason, stops), the VC Data Model
  (one reason, stops), then every rule of §4 and the validity window (all reasons). It raises
  :class:`~consentry.errors.GrantInvalid` with every reason, or returns a :class:`VerifiedGrant`.
* :class:`VerifiedGrantCache` is :func:`verify_grant` for a platform's per-request use: a grant
  already verified is not verified again (its times are).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any, Iterable, Literal, Mapping

from ._time import format_utc, parse_datetime_stamp, utcnow
from .dataintegrity import create_proof, verify_proof
from .errors import GrantInvalid, ProofError, Reason
from .jsonstrict import canonicalize, serialize_compact
from .jws import sign_vc_jwt, verify_vc_jwt
from .keys import DidKey, KeyPair
from .uscc import uscc_error

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
GRANT_CONTEXT = "https://w3id.org/consentry/v1"
GRANT_TYPE = "CreditDataAuthorization"
TOP_MEMBERS = (
    "@context", "id", "type", "issuer", "validFrom", "validUntil",
    "credentialSubject", "credentialStatus", "name", "description",
)
_UUID = re.compile(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
MAX_U32 = 4294967295


@dataclass(frozen=True)
class Category:
    """A catalog data category."""

    code: str
    public: bool
    providers: tuple[str, ...]


class Catalog:
    """The closed vocabularies: categories, purposes, letters (with digests), derivation versions.

    :meth:`builtin` is the catalog bundled with this package (spec/catalog.json,
    spec/letters.json of the same release).
    """

    def __init__(
        self,
        catalog: Mapping[str, Any],
        letters: Mapping[str, Any],
        derivation_versions: Iterable[str] | None = None,
    ) -> None:
        self.version: str = str(catalog.get("catalogVersion", ""))
        self.categories = {
            c["code"]: Category(c["code"], bool(c.get("public")), tuple(c.get("providers", [])))
            for c in catalog["categories"]
        }
        self.purposes = {p["code"] for p in catalog["purposes"]}
        self.letters: dict[str, tuple[dict[str, Any], str]] = {}
        for letter in letters["letters"]:
            self.letters[letter["id"]] = (letter, hashlib.sha256(canonicalize(letter)).hexdigest())
        self.derivation_versions = set(derivation_versions) if derivation_versions is not None else {self.version}

    _builtin: "Catalog | None" = None

    @classmethod
    def builtin(cls) -> "Catalog":
        """The bundled catalog (cached)."""
        if cls._builtin is None:
            pkg = resources.files("consentry") / "data"
            cat = json.loads((pkg / "catalog.json").read_text("utf-8"))
            let = json.loads((pkg / "letters.json").read_text("utf-8"))
            cls._builtin = cls(cat, let)
        return cls._builtin

    def letter_digest(self, letter_id: str) -> str | None:
        """The hex SHA-256 of the letter's JCS form, or None if unknown."""
        v = self.letters.get(letter_id)
        return v[1] if v else None

    def newest_letter(self, provider: str) -> str | None:
        """The id of the newest version of ``provider``'s letter."""
        best: tuple[int, str] | None = None
        for lid, (letter, _) in self.letters.items():
            if letter.get("provider") == provider:
                cand = (int(letter.get("version", 0)), lid)
                if best is None or cand > best:
                    best = cand
        return best[1] if best else None


# --------------------------------------------------------------------------------------------------
# Building


@dataclass
class CategoryGrant:
    """``{code, granularity}``."""

    code: str
    granularity: Literal["raw", "derived"] = "derived"

    def to_json(self) -> dict[str, Any]:
        """The JSON object."""
        return {"code": self.code, "granularity": self.granularity}


@dataclass
class OnwardRecipient:
    """A bank that may receive results through the grantee platform."""

    uscc: str
    name: str
    categories: list[CategoryGrant]
    role: str = "bank"

    def to_json(self) -> dict[str, Any]:
        """The JSON object."""
        return {"uscc": self.uscc, "name": self.name, "role": self.role,
                "categories": [c.to_json() for c in self.categories]}


@dataclass
class GrantDraft:
    """An unsigned grant. ``usage`` is ``{"mode": "one-off"}`` or
    ``{"mode": "periodic", "maxReleases": N, "per": "day"|"week"|"month"}``.

    ``status_list`` and ``status_index`` come from ``POST /v1/status/slots``.
    """

    issuer: str
    enterprise_uscc: str
    enterprise_name: str
    grantee_uscc: str
    grantee_name: str
    categories: list[CategoryGrant]
    purposes: list[str]
    data_from: str
    data_until: str
    valid_from: datetime
    valid_until: datetime
    status_list: str
    status_index: int
    usage: dict[str, Any] = field(default_factory=lambda: {"mode": "one-off"})
    grantee_role: str = "platform"
    onward_recipients: list[OnwardRecipient] = field(default_factory=list)
    letters: list[dict[str, str]] = field(default_factory=list)
    catalog_version: str | None = None
    id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")

    def attach_letters(self, catalog: Catalog | None = None) -> list[str]:
        """Cites the newest letter of every provider of a non-public grantee category that has
        none yet; returns the ids attached. Read them (``catalog.letters``) before signing."""
        catalog = catalog or Catalog.builtin()
        have = {catalog.letters[x["id"]][0]["provider"] for x in self.letters if x["id"] in catalog.letters}
        added: list[str] = []
        for c in self.categories:
            cat = catalog.categories.get(c.code)
            if cat is None or cat.public:
                continue
            for p in cat.providers:
                if p in have:
                    continue
                lid = catalog.newest_letter(p)
                if lid is not None:
                    self.letters.append({"id": lid, "sha256": catalog.letters[lid][1]})
                    have.add(p)
                    added.append(lid)
        self.letters.sort(key=lambda x: x["id"])
        return added

    def to_credential(self) -> dict[str, Any]:
        """The unsigned credential, members in the reference order."""
        subject: dict[str, Any] = {
            "enterprise": {"uscc": self.enterprise_uscc, "name": self.enterprise_name},
            "grantee": {"uscc": self.grantee_uscc, "name": self.grantee_name, "role": self.grantee_role},
        }
        if self.onward_recipients:
            subject["onwardRecipients"] = [r.to_json() for r in self.onward_recipients]
        subject["categories"] = [c.to_json() for c in self.categories]
        subject["purposes"] = list(self.purposes)
        subject["dataPeriod"] = {"from": self.data_from, "until": self.data_until}
        subject["usage"] = dict(self.usage)
        subject["letters"] = [dict(x) for x in self.letters]
        if self.catalog_version is not None:
            subject["catalogVersion"] = self.catalog_version
        base = self.status_list.rstrip("/")
        idx = str(self.status_index)
        status = [
            {"id": f"{base}/{p}#{idx}", "type": "BitstringStatusListEntry", "statusPurpose": p,
             "statusListIndex": idx, "statusListCredential": f"{base}/{p}"}
            for p in ("revocation", "suspension")
        ]
        return {
            "@context": [VC_CONTEXT, GRANT_CONTEXT],
            "id": self.id,
            "type": ["VerifiableCredential", GRANT_TYPE],
            "issuer": self.issuer,
            "validFrom": format_utc(self.valid_from),
            "validUntil": format_utc(self.valid_until),
            "credentialSubject": subject,
            "credentialStatus": status,
        }

    def check(self, catalog: Catalog | None = None) -> None:
        """Raises :class:`GrantInvalid` if the terms break a rule of §4 (time rules excepted)."""
        reasons = check_rules(self.to_credential(), catalog or Catalog.builtin())
        if reasons:
            raise GrantInvalid(reasons)

    def sign_di(self, key: KeyPair, created: datetime | None = None, catalog: Catalog | None = None) -> str:
        """Checks the rules, then signs with eddsa-jcs-2022; returns the JSON text to submit."""
        self.check(catalog)
        return serialize_compact(create_proof(self.to_credential(), key, created)).decode("utf-8")

    def sign_jwt(self, key: KeyPair, iat: datetime | None = None, catalog: Catalog | None = None) -> str:
        """Checks the rules, then signs as a VC-JWT; returns the compact token."""
        self.check(catalog)
        return sign_vc_jwt(self.to_credential(), key, iat)


# --------------------------------------------------------------------------------------------------
# Rules (spec/grant.md §4)


def _exact(obj: Any, required: tuple[str, ...], optional: tuple[str, ...], where: str) -> str | None:
    if not isinstance(obj, dict):
        return f"{where} must be a JSON object"
    for k in obj:
        if k not in required and k not in optional:
            return f"{where}: unknown member {k!r}"
    for k in required:
        if k not in obj:
            return f"{where}: missing member {k!r}"
    return None


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _categories(v: Any, where: str) -> str | None:
    if not isinstance(v, list):
        return f"{where} must be an array"
    for i, c in enumerate(v):
        e = _exact(c, ("code", "granularity"), (), f"{where}[{i}]")
        if e:
            return e
        if not _is_str(c["code"]):
            return f"{where}[{i}].code must be a string"
        if c["granularity"] not in ("raw", "derived"):
            return f"{where}[{i}].granularity must be raw or derived"
    return None


def _terms_shape(t: Any) -> str | None:
    e = _exact(t, ("enterprise", "grantee", "categories", "purposes", "dataPeriod", "usage"),
               ("onwardRecipients", "letters", "catalogVersion"), "credentialSubject")
    if e:
        return e
    e = _exact(t["enterprise"], ("uscc", "name"), (), "enterprise")
    if e:
        return e
    if not (_is_str(t["enterprise"]["uscc"]) and _is_str(t["enterprise"]["name"])):
        return "enterprise uscc and name must be strings"
    g = t["grantee"]
    e = _exact(g, ("uscc", "name", "role"), (), "grantee")
    if e:
        return e
    if not (_is_str(g["uscc"]) and _is_str(g["name"])):
        return "grantee uscc and name must be strings"
    if g["role"] not in ("platform", "node"):
        return f"grantee role {g['role']!r} must be platform or node"
    recips = t.get("onwardRecipients", [])
    if not isinstance(recips, list):
        return "onwardRecipients must be an array"
    for i, r in enumerate(recips):
        e = _exact(r, ("uscc", "name", "role", "categories"), (), f"onwardRecipients[{i}]")
        if e:
            return e
        if not (_is_str(r["uscc"]) and _is_str(r["name"])):
            return f"onwardRecipients[{i}] uscc and name must be strings"
        if r["role"] != "bank":
            return f"onwardRecipients[{i}].role must be bank"
        e = _categories(r["categories"], f"onwardRecipients[{i}].categories")
        if e:
            return e
    e = _categories(t["categories"], "categories")
    if e:
        return e
    if not isinstance(t["purposes"], list) or not all(_is_str(p) for p in t["purposes"]):
        return "purposes must be an array of strings"
    e = _exact(t["dataPeriod"], ("from", "until"), (), "dataPeriod")
    if e:
        return e
    if not (_is_str(t["dataPeriod"]["from"]) and _is_str(t["dataPeriod"]["until"])):
        return "dataPeriod from and until must be strings"
    u = t["usage"]
    if not isinstance(u, dict) or u.get("mode") not in ("one-off", "periodic"):
        return "usage.mode must be one-off or periodic"
    if u["mode"] == "one-off":
        e = _exact(u, ("mode",), (), "usage")
        if e:
            return e
    else:
        e = _exact(u, ("mode", "maxReleases", "per"), (), "usage")
        if e:
            return e
        m = u["maxReleases"]
        if isinstance(m, bool) or not isinstance(m, int) or m < 0 or m > MAX_U32:
            return "usage.maxReleases must be a whole number from 0 to 4294967295"
        if u["per"] not in ("day", "week", "month"):
            return "usage.per must be day, week or month"
    letters = t.get("letters", [])
    if not isinstance(letters, list):
        return "letters must be an array"
    for i, x in enumerate(letters):
        e = _exact(x, ("id", "sha256"), (), f"letters[{i}]")
        if e:
            return e
        if not (_is_str(x["id"]) and _is_str(x["sha256"])):
            return f"letters[{i}] id and sha256 must be strings"
    if "catalogVersion" in t and not _is_str(t["catalogVersion"]):
        return "catalogVersion must be a string"
    return None


def _parse_date(s: str) -> date | None:
    if len(s) != 10 or not re.match(r"^\d{4}-\d{2}-\d{2}$", s):
        return None
    try:
        return date.fromisoformat(s)
    except ValueError:
        return None


def _check_status(value: Any, out: list[Reason]) -> tuple[str, int] | None:
    def bad(msg: str) -> None:
        out.append(Reason("credential-status", msg))

    if not isinstance(value, list):
        bad("a grant needs an array with a revocation and a suspension entry")
        return None
    before = len(out)
    found: dict[str, dict[str, Any]] = {}
    allowed = ("id", "type", "statusPurpose", "statusListIndex", "statusListCredential")
    for e in value:
        err = _exact(e, ("type", "statusPurpose", "statusListIndex", "statusListCredential"), ("id",), "status entry")
        if err:
            bad(err)
            return None
        if not all(_is_str(e[k]) for k in allowed if k in e):
            bad("status entry members must be strings")
            return None
        if e["statusPurpose"] not in ("revocation", "suspension"):
            bad(f"statusPurpose {e['statusPurpose']!r} is not revocation or suspension")
            return None
    for e in value:
        if e["type"] != "BitstringStatusListEntry":
            bad(f"status entry type {e['type']!r} is not BitstringStatusListEntry")
            continue
        s = e["statusListIndex"]
        if not (s.isascii() and s.isdigit() and (s == "0" or not s.startswith("0")) and int(s) < 2**64):
            bad(f"statusListIndex {s!r} is not a base-10 integer string without leading zeros")
            continue
        url = e["statusListCredential"]
        if not (url.startswith("https://") or url.startswith("http://")) or any(c.isspace() for c in url):
            bad(f"statusListCredential {url!r} is not an http(s) URL")
            continue
        if e.get("id") == url:
            bad("status entry id must not be the status list URL")
            continue
        p = e["statusPurpose"]
        if p in found:
            bad(f"more than one {p} entry")
        found[p] = e
    if len(out) > before:
        return None
    r, s_ = found.get("revocation"), found.get("suspension")
    if r is None or s_ is None:
        if r is None:
            bad("no revocation entry")
        if s_ is None:
            bad("no suspension entry")
        return None
    rb = r["statusListCredential"].removesuffix("/revocation") if r["statusListCredential"].endswith("/revocation") else None
    sb = s_["statusListCredential"].removesuffix("/suspension") if s_["statusListCredential"].endswith("/suspension") else None
    if r["statusListIndex"] != s_["statusListIndex"] or rb is None or rb != sb:
        bad("revocation and suspension must share one index in <base>/revocation and <base>/suspension")
        return None
    return rb, int(r["statusListIndex"])


def check_rules(doc: Mapping[str, Any], catalog: Catalog) -> list[Reason]:
    """Every rule of spec/grant.md §4 except the two time rules; returns every violation."""
    v: list[Reason] = []

    def add(code: str, msg: str) -> None:
        v.append(Reason(code, msg))

    for k in doc:
        if k not in TOP_MEMBERS:
            add("unexpected-member", f"unexpected member {k!r}: a grant has only the members listed in spec/grant.md §2.2")
    ctx = doc.get("@context")
    ctxs = ctx if isinstance(ctx, list) else [ctx]
    types = doc.get("type")
    tl = types if isinstance(types, list) else [types]
    if GRANT_CONTEXT not in ctxs or GRANT_TYPE not in tl:
        add("not-a-grant", f"not a CreditDataAuthorization: @context must include {GRANT_CONTEXT} and type must include {GRANT_TYPE}")
    gid = doc.get("id")
    if gid is None:
        add("grant-id", "grant id: missing")
    elif not isinstance(gid, str) or not _UUID.match(gid):
        add("grant-id", f"grant id: {gid!r} is not urn:uuid: with a lowercase hyphenated UUID")
    issuer = doc.get("issuer")
    iid = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not (isinstance(iid, str) and iid.startswith("did:key:")):
        add("issuer", f"issuer must be the enterprise's own did:key and must be the signer: {iid} is not a did:key")
    if "validFrom" not in doc or "validUntil" not in doc:
        add("validity-window", "validFrom and validUntil are both required")
    _check_status(doc.get("credentialStatus"), v)
    t = doc.get("credentialSubject")
    if t is None:
        add("malformed-terms", "credentialSubject: missing")
        return v
    if not isinstance(t, dict):
        add("malformed-terms", "credentialSubject: must be a single JSON object")
        return v
    shape = _terms_shape(t)
    if shape:
        add("malformed-terms", f"credentialSubject: {shape}")
        return v
    recips = t.get("onwardRecipients", [])
    for party, name in [("enterprise", t["enterprise"]["name"]), ("grantee", t["grantee"]["name"])] + [
        ("onward recipient", r["name"]) for r in recips
    ]:
        if not name.strip():
            add("malformed-terms", f"credentialSubject: {party} name is empty")

    def uscc(party: str, code: str) -> None:
        err = uscc_error(code)
        if err:
            add("invalid-uscc", f"{party} USCC {code!r}: {err}")

    uscc("enterprise", t["enterprise"]["uscc"])
    uscc("grantee", t["grantee"]["uscc"])
    parties = {t["enterprise"]["uscc"]}
    if t["grantee"]["uscc"] in parties:
        add("duplicate-participant", f"{t['grantee']['uscc']} appears twice among the enterprise, the grantee and the banks")
    parties.add(t["grantee"]["uscc"])
    cv = t.get("catalogVersion")
    if cv is not None and cv not in catalog.derivation_versions:
        add("unknown-catalog-version", f"catalog version {cv} is unknown")
    if not t["categories"]:
        add("no-categories", "the grant names no data category")
    seen: set[str] = set()
    grantee_cats = {c["code"]: c["granularity"] for c in t["categories"]}
    for c in t["categories"]:
        if c["code"] in seen:
            add("duplicate-category", f"data category {c['code']} is listed twice")
        seen.add(c["code"])
        if c["code"] not in catalog.categories:
            add("unknown-category", f"unknown data category {c['code']!r}")
    if recips and t["grantee"]["role"] != "platform":
        add("recipients-without-platform", "onward recipients are allowed only when the grantee is a platform")
    for r in recips:
        uscc("onward recipient", r["uscc"])
        if r["uscc"] in parties:
            add("duplicate-participant", f"{r['uscc']} appears twice among the enterprise, the grantee and the banks")
        parties.add(r["uscc"])
        seen = set()
        for c in r["categories"]:
            if c["code"] in seen:
                add("duplicate-category", f"data category {c['code']} (for {r['uscc']}) is listed twice")
            seen.add(c["code"])
            cat = catalog.categories.get(c["code"])
            if cat is None:
                add("unknown-category", f"unknown data category {c['code']!r}")
                continue
            if c["granularity"] == "raw" and not cat.public:
                add("bank-raw-non-public", f"bank {r['uscc']} may not receive raw records of non-public category {c['code']}: banks get derived results only")
            g = grantee_cats.get(c["code"])
            if not (g == "raw" or (g == "derived" and c["granularity"] == "derived")):
                add("recipient-not-covered", f"bank {r['uscc']} gets {c['code']} {c['granularity']}, which the grantee's categories do not cover")
        if not r["categories"]:
            add("no-categories", "the grant names no data category")
    if not t["purposes"]:
        add("no-purposes", "the grant names no purpose")
    seen = set()
    for p in t["purposes"]:
        if p in seen:
            add("duplicate-purpose", f"purpose {p} is listed twice")
        seen.add(p)
        if p not in catalog.purposes:
            add("unknown-purpose", f"purpose {p!r} is not a financing purpose of the catalog")
    providers: set[str] = set()
    seen = set()
    for x in t.get("letters", []):
        if x["id"] in seen:
            add("duplicate-letter", f"authorization letter {x['id']} is cited twice")
        seen.add(x["id"])
        known = catalog.letters.get(x["id"])
        if known is None:
            add("unknown-letter", f"unknown authorization letter {x['id']!r}")
        elif x["sha256"] != known[1]:
            add("letter-digest", f"letter {x['id']}: sha256 {x['sha256']} is not its digest {known[1]}")
        else:
            providers.add(known[0]["provider"])
    for c in t["categories"]:
        cat = catalog.categories.get(c["code"])
        if cat is None or cat.public:
            continue
        for p in cat.providers:
            if p not in providers:
                add("missing-letter", f"category {c['code']} needs an accepted authorization letter of {p}")
    f, u = _parse_date(t["dataPeriod"]["from"]), _parse_date(t["dataPeriod"]["until"])
    if f is None or u is None:
        add("data-period", "from and until must be dates YYYY-MM-DD")
    elif f > u:
        add("data-period", "from is after until")
    if t["usage"]["mode"] == "periodic" and t["usage"]["maxReleases"] == 0:
        add("usage-rate", "a periodic grant needs maxReleases ≥ 1")
    return v


# --------------------------------------------------------------------------------------------------
# Verification


@dataclass(frozen=True)
class StatusRef:
    """The grant's status slot: list-pair base URL and index."""

    base: str
    index: int

    @property
    def revocation_list(self) -> str:
        """``<base>/revocation``."""
        return f"{self.base}/revocation"

    @property
    def suspension_list(self) -> str:
        """``<base>/suspension``."""
        return f"{self.base}/suspension"


@dataclass(frozen=True)
class VerifiedGrant:
    """A grant whose proof, data model and rules verified (spec/grant.md §8). Holds no status:
    check it on every request (:class:`~consentry.status.StatusChecker`)."""

    id: str
    sha256: str
    signer: DidKey
    signed_at: datetime | None
    envelope: Literal["di", "jwt"]
    enterprise: str
    terms: dict[str, Any]
    valid_from: datetime
    valid_until: datetime
    status: StatusRef
    credential: dict[str, Any]

    def check_time(self, now: datetime | None = None) -> None:
        """Raises :class:`GrantInvalid` (``not-yet-valid`` / ``expired``) outside the window."""
        now = now or utcnow()
        if now < self.valid_from:
            raise GrantInvalid([Reason("not-yet-valid", f"not valid before {format_utc(self.valid_from)}")])
        if now > self.valid_until:
            raise GrantInvalid([Reason("expired", f"expired at {format_utc(self.valid_until)}")])


def _vcdm(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return "the credential is not a JSON object"
    ctx = doc.get("@context")
    if not isinstance(ctx, list) or not ctx or ctx[0] != VC_CONTEXT:
        return f"@context must be an array whose first item is {VC_CONTEXT} (VCDM 2.0 §4.3)"
    types = doc.get("type")
    tl = types if isinstance(types, list) else [types]
    if "VerifiableCredential" not in tl:
        return "type must include VerifiableCredential (VCDM 2.0 §4.5)"
    issuer = doc.get("issuer")
    iid = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(iid, str) or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", iid):
        return "issuer must be a URL or an object whose id is a URL (VCDM 2.0 §4.7)"
    if "credentialSubject" not in doc:
        return "credentialSubject is required (VCDM 2.0 §4.8)"
    times = {}
    for k in ("validFrom", "validUntil"):
        if k in doc:
            try:
                times[k] = parse_datetime_stamp(doc[k])
            except (ValueError, TypeError) as e:
                return f"{k}: {e}"
    if len(times) == 2 and times["validFrom"] > times["validUntil"]:
        return "validFrom is after validUntil (VCDM 2.0 §4.9)"
    return None


def _trim(data: str | bytes) -> bytes:
    """The bytes a grant is verified and digested as: UTF-8, surrounding space, tab, CR, LF removed."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return raw.strip(b" \t\r\n")


def verify_grant(
    data: str | bytes,
    catalog: Catalog | None = None,
    now: datetime | None = None,
) -> VerifiedGrant:
    """Verifies a grant in either envelope (spec/grant.md §5). Raises :class:`GrantInvalid`."""
    trimmed = _trim(data)
    return _verify(trimmed, hashlib.sha256(trimmed).hexdigest(), catalog or Catalog.builtin(), now or utcnow())[0]


def _verify(
    trimmed: bytes, digest: str, catalog: Catalog, now: datetime
) -> tuple[VerifiedGrant, datetime, datetime]:
    """:func:`verify_grant` on trimmed bytes; also returns the instants (both inclusive) between
    which every time-dependent check it made (the proof's and the validity window) passes again."""
    first = trimmed[:1]
    signed_at: datetime | None
    envelope: Literal["di", "jwt"]
    bounds: tuple[datetime | None, datetime | None]
    try:
        if first == b"{":
            p = verify_proof(trimmed, now=now)
            doc, signer, signed_at, envelope = p.document, p.signer, p.created, "di"
            bounds = p.time_bounds()
        elif first and re.match(rb"[A-Za-z0-9_-]", first):
            try:
                text = trimmed.decode("ascii")
            except UnicodeDecodeError:
                raise ProofError("a JWT is ASCII", "jws-format") from None
            j = verify_vc_jwt(text, now=now)
            doc, signer, signed_at, envelope = j.credential, j.signer, j.issued_at, "jwt"
            bounds = j.time_bounds()
        else:
            raise ProofError("neither a Data Integrity document nor a JWT", "unknown-envelope")
    except ProofError as e:
        raise GrantInvalid([Reason(e.code, e.message)]) from None
    err = _vcdm(doc)
    if err:
        raise GrantInvalid([Reason("vc-data-model", err)])
    reasons: list[Reason] = []
    issuer = doc.get("issuer")
    iid = issuer.get("id") if isinstance(issuer, dict) else issuer
    if iid != signer.did:
        reasons.append(Reason("issuer", f"issuer must be the enterprise's own did:key and must be the signer: {iid} did not sign"))
    reasons.extend(check_rules(doc, catalog))
    vf = vu = None
    if "validFrom" in doc and "validUntil" in doc:
        vf = parse_datetime_stamp(doc["validFrom"])
        vu = parse_datetime_stamp(doc["validUntil"])
        if now < vf:
            reasons.append(Reason("not-yet-valid", f"not valid before {doc['validFrom']}"))
        if now > vu:
            reasons.append(Reason("expired", f"expired at {doc['validUntil']}"))
    if reasons:
        raise GrantInvalid(reasons)
    assert vf is not None and vu is not None
    slot = _check_status(doc["credentialStatus"], [])
    assert slot is not None
    terms = doc["credentialSubject"]
    grant = VerifiedGrant(
        id=doc["id"], sha256=digest, signer=signer, signed_at=signed_at, envelope=envelope,
        enterprise=terms["enterprise"]["uscc"], terms=terms, valid_from=vf, valid_until=vu,
        status=StatusRef(slot[0], slot[1]), credential=doc,
    )
    lo = vf if bounds[0] is None else max(vf, bounds[0])
    hi = vu if bounds[1] is None else min(vu, bounds[1])
    return grant, lo, hi


class VerifiedGrantCache:
    """Verified grants by the SHA-256 of their trimmed bytes, for a platform that verifies the same
    grant on every request (as the Rust node's ``GrantCache``).

    :meth:`verify` returns what :func:`verify_grant` would, with the catalog given here. A hit skips
    the proof and the rules, never the time: the validity window and the proof's own times
    (``created``/``expires``, or ``nbf``/``iat``/``exp``, with the 5-minute skew) are checked again
    at every call's ``now``, and outside them the grant is verified afresh, so the caller gets the
    very :class:`GrantInvalid` the uncached call raises (``expired``, ``not-yet-valid``, …). Status
    is never cached here: check it on every request (:class:`~consentry.status.StatusChecker`).
    Failures are never cached.

    At most ``capacity`` grants are kept; when it is reached the cache starts afresh (empties
    itself, like the Rust node's). The grant returned on a hit is the same object every time:
    treat it as read-only. A plain dict: safe to share between threads under CPython's GIL (two
    threads may both verify the same new grant; either result is kept).
    """

    DEFAULT_CAPACITY = 200_000

    def __init__(self, catalog: Catalog | None = None, capacity: int = DEFAULT_CAPACITY) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a whole number ≥ 1, not {capacity!r}")
        #: The catalog every grant here was verified by (fixed for the cache's life).
        self.catalog = catalog or Catalog.builtin()
        self.capacity = capacity
        #: Calls answered from the cache, and calls that ran the full verification.
        self.hits = 0
        self.misses = 0
        self._map: dict[str, tuple[VerifiedGrant, datetime, datetime]] = {}

    def __len__(self) -> int:
        return len(self._map)

    def clear(self) -> None:
        """Forgets every grant."""
        self._map.clear()

    def verify(self, data: str | bytes, now: datetime | None = None) -> VerifiedGrant:
        """:func:`verify_grant` (``data`` as received, at ``now``, default the current time) with
        this cache's catalog. Raises :class:`GrantInvalid`."""
        now = now or utcnow()
        trimmed = _trim(data)
        digest = hashlib.sha256(trimmed).hexdigest()
        hit = self._map.get(digest)
        if hit is not None and hit[1] <= now <= hit[2]:
            self.hits += 1
            return hit[0]
        self.misses += 1
        entry = _verify(trimmed, digest, self.catalog, now)
        if hit is None and len(self._map) >= self.capacity:
            self._map.clear()
        self._map[digest] = entry
        return entry[0]
