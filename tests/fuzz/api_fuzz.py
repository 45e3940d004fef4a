#!/usr/bin/env python3
"""Schema-driven fuzzing of the node's HTTP API (spec/openapi.yaml) with Schemathesis.

Starts `consentry serve` on a fresh SQLite data folder, sets up a world over HTTP the way
tests/integration/service.rs `World::with_node` does (an admitted platform, a regulator, the
platform's bank, an approved enterprise), then sends generated requests to every operation of the
document in three passes:

* positive: schema-valid requests, each with a fresh client assertion of the caller the operation is
  for (node key for /v1/admin/*, enterprise key for the enterprise's routes, platform key otherwise);
* negative: schema-violating requests, same callers;
* no-auth: schema-valid requests to the authenticated operations with no, malformed, foreign-key,
  expired, replayed or mis-bound assertions.

Every answer must: not be a 5xx, have a documented status code and content type, and match the
documented schema; an authenticated operation must never answer 2xx in the no-auth pass. At the
end it prints the operations covered, cases sent, 5xx count and violation count, with one curl
reproduction per distinct failure, and exits 1 on any failure.

Usage:  tests/fuzz/api_fuzz.py [--bin target/debug/consentry] [--seconds N] [--max-examples N]
        [--report FILE] [--keep]
        tests/fuzz/api_fuzz.py sign --world DIR/world.json --as ROLE METHOD PATH_AND_QUERY
Env:    FUZZ_SECONDS (total wall-clock cap, default 180), FUZZ_MAX_EXAMPLES (per operation and
        pass, default 60), FUZZ_SEED (Hypothesis seed, default random).

`--keep` leaves the node running (and its folder) after the run, so the printed reproductions can be
replayed; `sign` makes the fresh assertion such a reproduction needs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from nacl.signing import SigningKey

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent

# USCCs from tests/integration/service.rs (valid GB 32100-2015 check characters).
ENTERPRISE = "91330100716105852F"
PLATFORM = "91440300708461136T"
BANK = "911000001000013428"
REGULATOR = "91110000MA01REGU0H"

ASSERTION_TYP = "consentry-assertion+jwt"
REQUEST_TYP = "consentry-request+jwt"

# --------------------------------------------------------------------------------------------
# Keys: Multikey, multibase base58btc ('z'); secret = 0x8026 + 32-byte seed, public = 0xed01 + 32 bytes
# (src/crypto/multibase.rs, src/identity/keyfile.rs). kid = "<did>#<publicKeyMultibase>"
# (DidKey::verification_method_id).

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    n = 0
    for c in text:
        n = n * 58 + B58.index(c)
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


class Key:
    def __init__(self, seed: bytes):
        self.seed = seed
        self.sk = SigningKey(seed)
        self.multibase = "z" + b58encode(ED25519_PUB + bytes(self.sk.verify_key))
        self.did = "did:key:" + self.multibase
        self.kid = f"{self.did}#{self.multibase}"

    @classmethod
    def new(cls) -> "Key":
        return cls(secrets.token_bytes(32))

    @classmethod
    def from_json(cls, doc: dict) -> "Key":
        sec = doc["secretKeyMultibase"]
        if not sec.startswith("z"):
            raise ValueError("secretKeyMultibase is not base58btc")
        raw = b58decode(sec[1:])
        if raw[:2] != ED25519_PRIV or len(raw) != 34:
            raise ValueError("secretKeyMultibase is not an Ed25519 Multikey seed")
        key = cls(raw[2:])
        if key.multibase != doc["publicKeyMultibase"] or key.did != doc["did"]:
            raise ValueError("key file is inconsistent")
        return key

    def to_json(self) -> dict:
        return {
            "did": self.did,
            "publicKeyMultibase": self.multibase,
            "secretKeyMultibase": "z" + b58encode(ED25519_PRIV + self.seed),
        }


def b64u(data: bytes) -> str:
    # Canonical base64url: no padding; Python never sets trailing bits, as the node requires.
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jws(claims: dict, typ: str, key: Key) -> str:
    header = {"alg": "EdDSA", "typ": typ, "kid": key.kid}
    h = b64u(json.dumps(header, separators=(",", ":")).encode())
    p = b64u(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    sig = key.sk.sign(f"{h}.{p}".encode("ascii")).signature
    return f"{h}.{p}.{b64u(sig)}"


def assertion(key: Key, aud: str, method: str, htu: str, *, iat: int | None = None, lifetime: int = 120,
              jti: str | None = None) -> str:
    """A client assertion (src/node/auth.rs): bound to the method and the path with its query."""
    iat = int(time.time()) if iat is None else iat
    return jws({
        "iss": key.did, "aud": aud, "iat": iat, "exp": iat + lifetime,
        "jti": jti or secrets.token_hex(16), "htm": method.upper(), "htu": htu,
    }, ASSERTION_TYP, key)


def signed_request(key: Key, aud: str, action: str, **claims) -> str:
    """A signed request (registration, revocation…): action, aud, iat, jti and the extra claims."""
    return jws({**claims, "action": action, "aud": aud, "iat": int(time.time()), "jti": secrets.token_hex(16)},
               REQUEST_TYP, key)


# --------------------------------------------------------------------------------------------
# The node process.

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, binary: Path, data_dir: Path):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir.parent / "node.log"
        self.log = open(self.log_path, "wb")
        cmd = [str(binary), "serve", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{self.port}",
               "--insecure-webhooks"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_") and k != "DATABASE_URL"}
        env.setdefault("RUST_BACKTRACE", "1")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_healthy(self, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if not self.alive():
                raise SystemExit(f"fuzz: the node exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"fuzz: the node did not answer /healthz within {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)  # our own child, by its pid
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def panics(self) -> list[str]:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if "panicked at" in line]


# --------------------------------------------------------------------------------------------
# The world (tests/integration/service.rs World::with_node, over HTTP).

@dataclass
class World:
    url: str
    aud: str
    keys: dict[str, Key]

    def call(self, who: str, method: str, path: str, body=None, *, raw: str | None = None,
             content_type: str = "application/json", auth: bool = True) -> requests.Response:
        headers = {}
        if auth:
            headers["Authorization"] = "Bearer " + assertion(self.keys[who], self.aud, method, path)
        data = None
        if raw is not None:
            data, headers["Content-Type"] = raw.encode(), content_type
        elif body is not None:
            data, headers["Content-Type"] = json.dumps(body, ensure_ascii=False).encode(), "application/json"
        return requests.request(method, self.url + path, data=data, headers=headers, timeout=30)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"url": self.url, "aud": self.aud,
                                    "keys": {k: v.to_json() for k, v in self.keys.items()}}, indent=2))

    @classmethod
    def load(cls, path: Path) -> "World":
        doc = json.loads(path.read_text())
        return cls(doc["url"], doc["aud"], {k: Key.from_json(v) for k, v in doc["keys"].items()})


def expect(r: requests.Response, status: int, what: str) -> dict:
    if r.status_code != status:
        raise SystemExit(f"fuzz: set-up step {what}: HTTP {r.status_code}, want {status}: {r.text[:500]}")
    return r.json() if r.content else {}


def set_up_world(node: Node) -> World:
    node_key = Key.from_json(json.loads((node.data_dir / "node.key.json").read_text()))
    info = requests.get(node.url + "/v1/node", timeout=10).json()
    if info.get("did") != node_key.did:
        raise SystemExit(f"fuzz: GET /v1/node did {info.get('did')} is not the key in node.key.json")
    w = World(node.url, info["did"], {"node": node_key, "platform": Key.new(), "bank": Key.new(),
                                      "regulator": Key.new(), "enterprise": Key.new()})
    k = w.keys
    expect(w.call("node", "POST", "/v1/admin/platforms",
                  {"uscc": PLATFORM, "name": "示例融资信用服务平台", "did": k["platform"].did,
                   "endpoint": "http://platform.example"}), 201, "admit platform")
    expect(w.call("node", "POST", "/v1/admin/regulators",
                  {"uscc": REGULATOR, "name": "省金融监管局", "did": k["regulator"].did}), 201, "add regulator")
    expect(w.call("platform", "POST", "/v1/banks", {"uscc": BANK, "name": "示例银行", "did": k["bank"].did}),
           201, "register bank")
    token = signed_request(k["enterprise"], w.aud, "register", uscc=ENTERPRISE, name="杭州示例科技有限公司")
    reg = expect(w.call("enterprise", "POST", "/v1/registrations", raw=token, content_type="text/plain",
                        auth=False), 202, "enterprise registration")
    if reg.get("state") != "pending":
        raise SystemExit(f"fuzz: registration state {reg.get('state')!r}, want pending")
    approved = expect(w.call("node", "POST", f"/v1/admin/registrations/{ENTERPRISE}/approve"), 200, "approve")
    if approved.get("identityCredential") is None:
        raise SystemExit("fuzz: approval returned no identity credential")
    return w


# --------------------------------------------------------------------------------------------
# Fuzzing.

ENTERPRISE_ROUTES = {
    ("GET", "/v1/enterprise/data"),
    ("POST", "/v1/status/slots"),
    ("POST", "/v1/delegations"),
    ("POST", "/v1/objections"),
}


def caller_for(method: str, path: str) -> str:
    """Whose key signs the assertion for an operation."""
    if path.startswith("/v1/admin/"):
        return "node"
    if (method.upper(), path) in ENTERPRISE_ROUTES:
        return "enterprise"
    return "platform"


# Failure classes excluded on purpose, as (operation label or "*", failure class name, predicate on
# the response, why). Keep this list short and justified: a real bug must stay visible.
EXCLUSIONS: list[tuple[str, str, object, str]] = []


class OutOfTime(Exception):
    pass


class NodeDied(Exception):
    pass


@dataclass
class Found:
    operation: str
    kind: str
    title: str
    status: int
    pass_name: str
    message: str
    curl: str
    response: str
    caller: str | None
    count: int = 1


@dataclass
class Stats:
    cases: int = 0
    server_errors: int = 0
    violations: int = 0
    transport_errors: int = 0
    covered: set = field(default_factory=set)
    per_op: dict = field(default_factory=dict)
    found: dict = field(default_factory=dict)


class Assertions(requests.auth.AuthBase):
    """Signs a fresh assertion over the request as it will be sent (method, path and query)."""

    def __init__(self, world: World, who: str | None, variant: str = "valid", raw_slashes: bool = False):
        self.world, self.who, self.variant, self.raw_slashes = world, who, variant, raw_slashes

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        if self.raw_slashes:
            # The tlog-tiles index `{n}` spans path segments ("x001/234", "000.p/17"), which OpenAPI
            # cannot express: a generator percent-encodes the slashes. Send them as the spec says.
            r.url = r.url.replace("%2F", "/")
        w, v = self.world, self.variant
        r.headers.pop("Authorization", None)
        if self.who is None or v == "none":
            return r
        key = w.keys[self.who]
        if v == "valid":
            tok = assertion(key, w.aud, r.method, r.path_url)
        elif v == "garbage":
            tok = secrets.choice(["x", "a.b.c", "e30.e30.", b64u(os.urandom(40)) + "..", "Bearer"])
        elif v == "foreign-key":
            tok = assertion(Key.new(), w.aud, r.method, r.path_url)
        elif v == "wrong-audience":
            tok = assertion(key, "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", r.method, r.path_url)
        elif v == "expired":
            tok = assertion(key, w.aud, r.method, r.path_url, iat=int(time.time()) - 1000)
        elif v == "wrong-htu":
            tok = assertion(key, w.aud, r.method, r.path_url + ("&" if "?" in r.path_url else "?") + "x=1")
        elif v == "wrong-method":
            tok = assertion(key, w.aud, "DELETE", r.path_url)
        elif v == "replayed":
            tok = assertion(key, w.aud, r.method, r.path_url)
            requests.request(r.method, w.url + r.path_url, headers={"Authorization": "Bearer " + tok},
                             timeout=30)
        else:
            raise ValueError(v)
        r.headers["Authorization"] = "Bearer " + tok
        return r


BAD_AUTH = ["none", "garbage", "foreign-key", "wrong-audience", "expired", "wrong-htu", "wrong-method",
            "replayed"]


# Operations whose `{n}` spans path segments (see Assertions.raw_slashes): Schemathesis cannot generate
# positive values for them (it filters out values with '/'), so the positive pass draws `n` from the
# documented pattern and sends its slashes raw.
MULTI_SEGMENT = {"GET /v1/log/tile/{level}/{n}", "GET /v1/log/tile/entries/{n}"}
TILE_INDEX = r"(x[0-9]{3}/){0,2}[0-9]{3}(\.p/[1-9][0-9]{0,2})?"


def strategy_for(op, mode, positive):
    from hypothesis import strategies as st
    if positive and op.label in MULTI_SEGMENT:
        return st.from_regex(TILE_INDEX, fullmatch=True).flatmap(
            lambda n: op.as_strategy(generation_mode=mode, path_parameters={"n": n}))
    return op.as_strategy(generation_mode=mode)


def is_public(op) -> bool:
    sec = op.definition.raw.get("security") if hasattr(op.definition, "raw") else None
    return sec == []


def repro(case, resp, caller: str | None, world_path: str) -> str:
    """A curl command for the request as sent, with the assertion re-made by `api_fuzz.py sign`."""
    import shlex
    req = resp.request
    parts = ["curl", "-sS", "-g", "-i", "-X", req.method]
    if req.headers.get("Authorization") and caller:
        sign = (f"$(python3 tests/fuzz/api_fuzz.py sign --world {world_path} --as {caller} "
                f"{req.method} {shlex.quote(req.path_url)})")
        parts += ["-H", f'"Authorization: Bearer {sign}"']
    elif req.headers.get("Authorization"):
        parts += ["-H", shlex.quote("Authorization: " + req.headers["Authorization"])]
    for name, value in req.headers.items():
        if name.lower() not in ("authorization", "user-agent", "accept-encoding", "accept", "connection",
                                "content-length", "x-schemathesis-testcaseid"):
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = req.body.encode("utf-8") if isinstance(req.body, str) else req.body
    if body and len(body) > 2048:
        import zlib
        packed = base64.b64encode(zlib.compress(body, 9)).decode()
        gen = f"import sys,zlib,base64;sys.stdout.buffer.write(zlib.decompress(base64.b64decode('{packed}')))"
        parts += ["--data-binary", f"@<(python3 -c {shlex.quote(gen)})"]
    elif body:
        try:
            parts += ["--data-binary", shlex.quote(body.decode("utf-8"))]
        except UnicodeDecodeError:
            escaped = body.decode("latin-1").encode("unicode_escape").decode()
            parts += ["--data-binary", f"@<(printf %b {shlex.quote(escaped)})"]
    parts.append(shlex.quote(req.url))
    return " ".join(parts)


def main_fuzz(args) -> int:
    import hypothesis
    from hypothesis import HealthCheck, Phase, given, settings

    import schemathesis
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                                   status_code_conformance)

    binary = Path(args.bin)
    if not binary.is_absolute():
        binary = REPO / binary
    if not os.access(binary, os.X_OK):
        print(f"fuzz: consentry binary not found: {binary} (run tests/fuzz/run.sh, which builds it)",
              file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="consentry-fuzz-"))
    data_dir = tmp / "data"
    node = Node(binary, data_dir)
    report: dict = {}
    try:
        node.wait_healthy()
        world = set_up_world(node)
        world_path = tmp / "world.json"
        world.save(world_path)
        print(f"fuzz: node {node.url} ({node.log_path}); world in {world_path}", flush=True)

        schema = schemathesis.openapi.from_path(str(REPO / "spec/openapi.yaml"))
        schema.config.base_url = node.url
        checks = [not_a_server_error, status_code_conformance, content_type_conformance,
                  response_schema_conformance]
        ops = []
        for result in schema.get_all_operations():
            ops.append(result.ok())  # an operation the document cannot describe is an error here
        seed = int(os.environ.get("FUZZ_SEED", "0")) or secrets.randbelow(2**32)
        stats = Stats()
        session = requests.Session()
        rng = random.Random(seed)  # which bad assertion each no-auth case gets

        passes = [("positive", GenerationMode.POSITIVE, False), ("negative", GenerationMode.NEGATIVE, False),
                  ("no-auth", GenerationMode.POSITIVE, True)]
        # The no-auth pass only for operations that authenticate; the negative pass only for operations
        # with something to negate (parameters or a body).
        units = [(p, mode, bad, op) for (p, mode, bad) in passes for op in ops
                 if not (bad and is_public(op))
                 and not (mode == GenerationMode.NEGATIVE and not list(op.iter_parameters()) and not op.body)]
        start = time.monotonic()
        hard_end = start + args.seconds
        print(f"fuzz: {len(ops)} operations, {len(units)} (pass, operation) units, cap {args.seconds:.0f} s, "
              f"max {args.max_examples} examples each, seed {seed}", flush=True)

        def record(op, pass_name, caller, kind, title, status, message, case, resp):
            for (lbl, cls, pred, _why) in EXCLUSIONS:
                if lbl in ("*", op.label) and cls == kind and pred(case, resp):
                    return
            if status >= 500:
                stats.server_errors += 1
            else:
                stats.violations += 1
            key = (op.label, kind, title, status, pass_name if pass_name.startswith("probe") else pass_name == "no-auth")
            if key in stats.found:
                stats.found[key].count += 1
                return
            body = resp.text if resp is not None else ""
            stats.found[key] = Found(op.label, kind, title, status, pass_name, message.strip()[:1500],
                                     repro(case, resp, caller, str(world_path)), body[:800], caller)
            print(f"  ! {op.label} [{pass_name}] {kind}: {title} (HTTP {status})", flush=True)

        def make_test(op, mode, pass_name, bad, caller, public, unit_end, unit_seed):
            @settings(max_examples=args.max_examples, deadline=None, database=None, derandomize=False,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate], report_multiple_bugs=False,
                      print_blob=False, verbosity=hypothesis.Verbosity.quiet)
            @given(case=strategy_for(op, mode, mode == GenerationMode.POSITIVE))
            @hypothesis.seed(unit_seed)
            def one(case):
                if time.monotonic() >= unit_end:
                    raise OutOfTime()
                variant = rng.choice(BAD_AUTH) if bad else "valid"
                raw = op.label in MULTI_SEGMENT and mode == GenerationMode.POSITIVE
                auth = Assertions(world, caller, variant, raw_slashes=raw)
                try:
                    resp = case.call(session=session, auth=auth, timeout=30)
                except requests.RequestException as e:
                    stats.transport_errors += 1
                    if not node.alive():
                        raise NodeDied(f"{op.label}: {e}")
                    return
                stats.cases += 1
                stats.covered.add(op.label)
                counts = stats.per_op.setdefault(op.label, {})
                k = f"{pass_name} {resp.status_code}"
                counts[k] = counts.get(k, 0) + 1
                try:
                    case.validate_response(resp, checks=checks)
                except FailureGroup as group:
                    for f in group.exceptions:
                        record(op, pass_name, caller, type(f).__name__, f.title, resp.status_code,
                               f.message or "", case, resp)
                if bad and not public and 200 <= resp.status_code < 300:
                    record(op, pass_name, caller, "AuthBypass",
                           f"authenticated operation answered {resp.status_code} to a {variant} assertion",
                           resp.status_code, f"assertion variant: {variant}", case, resp)

            return one

        for i, (pass_name, mode, bad, op) in enumerate(units):
            now = time.monotonic()
            if now >= hard_end:
                print("fuzz: time cap reached", flush=True)
                break
            unit_end = now + (hard_end - now) / (len(units) - i)
            caller = None if is_public(op) else caller_for(op.method, op.path)
            public = is_public(op)

            one = make_test(op, mode, pass_name, bad, caller, public, unit_end, seed + i)
            try:
                one()
            except OutOfTime:
                pass
            except NodeDied as e:
                print(f"fuzz: the node died: {e}", flush=True)
                stats.server_errors += 1
                break
            except hypothesis.errors.Unsatisfiable:
                print(f"fuzz: {op.label} [{pass_name}]: Hypothesis could not generate a case", flush=True)
            except Exception as e:  # noqa: BLE001 - a generation problem in one unit must not stop the run
                print(f"fuzz: {op.label} [{pass_name}]: generation error {type(e).__name__}: {str(e)[:300]}",
                      flush=True)

        # Body probes Schemathesis does not make (it sends bodies only as documented): every POST
        # operation with an unsupported Content-Type, with an oversized body, and, when it documents
        # no body, with a JSON body. The answers go through the same checks.
        probes = [("unsupported Content-Type", "text/xml", b"<x/>"),
                  ("oversized body", "application/json", b'"' + b"a" * (70 * 1024) + b'"'),
                  ("body sent to an operation documenting none", "application/json", b'{"unexpected":1}')]
        import warnings
        from hypothesis import strategies as st
        from hypothesis.errors import NonInteractiveExampleWarning
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        probe_start = time.monotonic()
        for op in ops:
            if op.method.upper() != "POST" or not node.alive():
                continue
            caller = None if is_public(op) else caller_for(op.method, op.path)
            raw = op.label in MULTI_SEGMENT
            for name, ctype, payload in probes:
                if name.startswith("body sent") and op.body:
                    continue
                example = st.shared(strategy_for(op, GenerationMode.POSITIVE, True), key=op.label)
                try:
                    case = example.example()
                except Exception:  # noqa: BLE001
                    continue
                try:
                    resp = case.call(session=session, auth=Assertions(world, caller, "valid", raw_slashes=raw),
                                     headers={"Content-Type": ctype}, data=payload, timeout=30)
                except requests.RequestException:
                    stats.transport_errors += 1
                    continue
                stats.cases += 1
                counts = stats.per_op.setdefault(op.label, {})
                k = f"probe {resp.status_code}"
                counts[k] = counts.get(k, 0) + 1
                try:
                    case.validate_response(resp, checks=checks)
                except FailureGroup as group:
                    for f in group.exceptions:
                        record(op, f"probe: {name}", caller, type(f).__name__, f.title, resp.status_code,
                               f.message or "", case, resp)

        print(f"fuzz: body probes took {time.monotonic() - probe_start:.1f} s", flush=True)
        elapsed = time.monotonic() - start
        panics = node.panics()
        stats.server_errors += len(panics)
        found = sorted(stats.found.values(), key=lambda f: (f.status < 500, f.kind != "AuthBypass", f.operation))
        uncovered = [op.label for op in ops if op.label not in stats.covered]
        report = {
            "seed": seed, "seconds": round(elapsed, 1), "operations": len(ops),
            "operations_covered": len(stats.covered), "uncovered": uncovered, "cases": stats.cases,
            "server_errors": stats.server_errors, "violations": stats.violations,
            "transport_errors": stats.transport_errors, "panics": panics,
            "failures": [f.__dict__ for f in found], "statuses_per_operation": stats.per_op,
        }
        print()
        for n, f in enumerate(found, 1):
            print(f"[{n}] {f.operation} — {f.kind}: {f.title} (HTTP {f.status}, pass {f.pass_name}, "
                  f"seen {f.count}x)")
            print("    " + f.message.replace("\n", "\n    ")[:1200])
            print(f"    reproduce: {f.curl}")
            print()
        for p in panics[:10]:
            print(f"panic in node log: {p}")
        if uncovered:
            print(f"fuzz: operations with no case sent: {', '.join(uncovered)}")
        print(f"fuzz: operations covered {len(stats.covered)}/{len(ops)}, cases sent {stats.cases}, "
              f"5xx {stats.server_errors}, violations {stats.violations} "
              f"({len(found)} distinct), transport errors {stats.transport_errors}, {elapsed:.0f} s, seed {seed}")
        ok = stats.server_errors == 0 and stats.violations == 0 and not panics
        return 0 if ok else 1
    finally:
        if args.report:
            Path(args.report).write_text(json.dumps(report, indent=2, ensure_ascii=False))
        if args.keep:
            print(f"fuzz: --keep: node still running at {node.url} (pid {node.proc.pid}), folder {tmp}")
        else:
            node.stop()
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


def main_sign(args) -> int:
    w = World.load(Path(args.world))
    print(assertion(w.keys[args.role], w.aud, args.method, args.path))
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "sign":
        p = argparse.ArgumentParser(prog="api_fuzz.py sign", description="A fresh client assertion.")
        p.add_argument("--world", required=True)
        p.add_argument("--as", dest="role", required=True,
                       choices=["node", "platform", "bank", "regulator", "enterprise"])
        p.add_argument("method")
        p.add_argument("path", help="path with query string, exactly as sent")
        return main_sign(p.parse_args(sys.argv[2:]))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", default="target/debug/consentry")
    p.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", "180")))
    p.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "60")))
    p.add_argument("--report", help="write a JSON report here")
    p.add_argument("--keep", action="store_true", help="leave the node running for reproductions")
    return main_fuzz(p.parse_args())


if __name__ == "__main__":
    sys.exit(main())
