#!/usr/bin/env python3
"""An independent receiver of Consentry webhooks (spec/notifications.md §6).

It verifies the node's RFC 9421 signatures with the `http-message-signatures` package (not
Consentry's code) and `cryptography` for Ed25519, and resolves the node's did:key itself.

    webhook_receiver.py serve --node-did DID --out FILE [--port N]
        Listens on 127.0.0.1 (port N, default any), prints "listening PORT" on stdout, and appends one
        JSON line per request to FILE: {"method", "url", "headers": [[name, value], ...],
        "body" (base64), "verified": bool, "error", "eventId", "sequence"}. Answers 204 to a verified
        delivery, 401 otherwise.
    webhook_receiver.py verify --node-did DID FILE
        Verifies one captured request (a JSON object as written by `serve`): exit 0 and "verified"
        when it verifies, exit 1 and the reason when it does not.
    webhook_receiver.py selftest
        The RFC 9421 Appendix B.2.6 vector through the same library.

What "verified" means here (the receiver's duty, spec/notifications.md §6):
  * exactly one signature tagged "consentry-webhook", alg "ed25519", created at most 300 s ago and
    not in the future, expires not passed;
  * covering @method, @target-uri, content-type, content-digest, consentry-event-id,
    consentry-event-type and consentry-sequence;
  * keyid is the verification method of the trusted node DID (did:key:z…#z…), whose Ed25519 key is
    decoded here from the multibase value (0xed01 multicodec prefix);
  * Content-Digest (sha-256) matches the body bytes.
"""

import argparse
import base64
import datetime
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

TAG = "consentry-webhook"
COVERED = (
    "@method",
    "@target-uri",
    "content-type",
    "content-digest",
    "consentry-event-id",
    "consentry-event-type",
    "consentry-sequence",
)
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58decode(text):
    n = 0
    for ch in text:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + raw


def did_key_public(did):
    """The Ed25519 public key of a did:key (did:key method, Multikey 'z' + base58btc(0xed01 || key))."""
    if not did.startswith("did:key:z"):
        raise InvalidSignature(f"not a base58btc did:key: {did}")
    raw = b58decode(did[len("did:key:z"):])
    if raw[:2] != b"\xed\x01" or len(raw) != 34:
        raise InvalidSignature("did:key is not an Ed25519 key")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


class NodeKey(HTTPSignatureKeyResolver):
    """Resolves only the trusted node's verification method."""

    def __init__(self, node_did):
        self.node_did = node_did

    def resolve_public_key(self, key_id):
        did, _, fragment = key_id.partition("#")
        if did != self.node_did:
            raise InvalidSignature(f"keyid {key_id} is not the node's key")
        if fragment != did[len("did:key:"):]:
            raise InvalidSignature(f"keyid {key_id} is not the did:key's verification method")
        return did_key_public(did)

    def resolve_private_key(self, key_id):
        raise NotImplementedError


class Headers:
    def __init__(self, pairs):
        self.pairs = [(k, v) for k, v in pairs]

    def items(self):
        return list(self.pairs)

    def __iter__(self):
        return iter(dict.fromkeys(k for k, _ in self.pairs))

    def __contains__(self, name):
        return any(k.lower() == name.lower() for k, _ in self.pairs)

    def __setitem__(self, name, value):
        self.pairs = [(k, v) for k, v in self.pairs if k.lower() != name.lower()] + [(name, value)]

    def __delitem__(self, name):
        self.pairs = [(k, v) for k, v in self.pairs if k.lower() != name.lower()]


class Message:
    def __init__(self, method, url, headers):
        self.method = method
        self.url = url
        self.headers = Headers(headers)


def verify(captured, node_did):
    """Raises InvalidSignature (or the library's exception) unless the capture verifies."""
    msg = Message(captured["method"], captured["url"], captured["headers"])
    body = base64.b64decode(captured["body"])
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=NodeKey(node_did))
    results = verifier.verify(
        msg,
        max_age=datetime.timedelta(seconds=300),
        expect_tag=TAG,
        require_components=COVERED,
        body=body,
    )
    if len(results) != 1:
        raise InvalidSignature(f"expected one signature, got {len(results)}")
    r = results[0]
    if r.parameters.get("alg") != "ed25519":
        raise InvalidSignature("alg must be ed25519")
    if r.body != body:
        raise InvalidSignature("the body was not checked against Content-Digest")
    return r


def serve(args):
    out = open(args.out, "a", encoding="utf-8")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            host, port = self.server.server_address[:2]
            captured = {
                "method": self.command,
                "url": f"http://{host}:{port}{self.path}",
                "headers": [[k, v] for k, v in self.headers.items()],
                "body": base64.b64encode(body).decode(),
            }
            try:
                verify(captured, args.node_did)
                captured["verified"], captured["error"] = True, None
            except (InvalidSignature, HTTPMessageSignaturesException) as e:
                captured["verified"], captured["error"] = False, str(e) or type(e).__name__
            captured["eventId"] = self.headers.get("Consentry-Event-Id")
            captured["sequence"] = self.headers.get("Consentry-Sequence")
            with lock:
                out.write(json.dumps(captured) + "\n")
                out.flush()
            self.send_response(204 if captured["verified"] else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    server.serve_forever()


def verify_file(args):
    captured = json.load(open(args.file, encoding="utf-8"))
    try:
        r = verify(captured, args.node_did)
    except (InvalidSignature, HTTPMessageSignaturesException) as e:
        print(f"rejected: {type(e).__name__}: {e}")
        return 1
    print(f"verified: keyid {r.parameters['keyid']}, created {r.parameters['created']}")
    return 0


def selftest(_args):
    """RFC 9421 Appendix B.2.6 through the same library (signing is deterministic for Ed25519)."""
    pem = b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"
    key = load_pem_private_key(pem, None)
    assert isinstance(key, Ed25519PrivateKey)

    class Keys(HTTPSignatureKeyResolver):
        def resolve_private_key(self, key_id):
            return key

        def resolve_public_key(self, key_id):
            return key.public_key()

    msg = Message(
        "POST",
        "https://example.com/foo?param=Value&Pet=dog",
        [("Host", "example.com"), ("Date", "Tue, 20 Apr 2021 02:07:55 GMT"),
         ("Content-Type", "application/json"), ("Content-Length", "18")],
    )
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=Keys())
    signer.sign(
        msg,
        key_id="test-key-ed25519",
        created=datetime.datetime.fromtimestamp(1618884473, datetime.timezone.utc),
        label="sig-b26",
        include_alg=False,
        covered_component_ids=("date", "@method", "@path", "@authority", "content-type", "content-length"),
    )
    headers = dict(msg.headers.items())
    want = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    if headers["Signature"] != want:
        print(f"selftest: B.2.6 signature differs: {headers['Signature']}")
        return 1
    print("selftest: RFC 9421 B.2.6 reproduced")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--node-did", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--port", type=int, default=0)
    v = sub.add_parser("verify")
    v.add_argument("--node-did", required=True)
    v.add_argument("file")
    sub.add_parser("selftest")
    args = p.parse_args()
    if args.cmd == "serve":
        serve(args)
        return 0
    if args.cmd == "verify":
        return verify_file(args)
    return selftest(args)


if __name__ == "__main__":
    sys.exit(main())
