"""The access log (spec/access-log.md): RFC 9162 Merkle proofs, C2SP signed-note checkpoints with
witness cosignatures, tlog-proof receipts and inclusion promises.

Every check raises :class:`~consentry.errors.LogVerificationError` with a clear reason; nothing
returns False silently. Take the tree size and root from a checkpoint you verified, never from a
proof response (an inclusion proof does not bind the tree size).
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from .encoding import EncodingError, b64_decode, b64_encode
from .errors import InvalidKey, LogVerificationError, SignatureError
from .keys import DidKey, PublicKey

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 ‖ leaf)``."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _fail(msg: str) -> LogVerificationError:
    return LogVerificationError(msg)


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root implied by ``proof``; checks the proof's exact length."""
    if index < 0 or index >= size:
        raise _fail(f"index {index} is not below the tree size {size}")
    if len(leaf) != 32:
        raise _fail("the leaf hash must be 32 bytes")
    if any(len(p) != 32 for p in proof):
        raise _fail("proof hashes must be 32 bytes")
    fn, sn = index, size - 1
    r = leaf
    i = 0
    for p in proof:
        if sn == 0:
            raise _fail("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
        i += 1
    if sn != 0:
        raise _fail("inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf_hash_: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Verifies an inclusion proof of ``leaf_hash_`` at ``index`` in the tree ``(size, root)``."""
    if len(root) != 32:
        raise _fail("the root hash must be 32 bytes")
    got = root_from_inclusion_proof(index, size, leaf_hash_, proof)
    if got != root:
        raise _fail(f"inclusion proof of entry {index} does not lead to the checkpoint's root (size {size})")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2 with the pinned edge cases of spec/access-log.md §4.1."""
    if any(len(p) != 32 for p in proof):
        raise _fail("proof hashes must be 32 bytes")
    if size1 < 0 or size2 < size1:
        raise _fail(f"sizes {size1} → {size2} go backwards")
    if size1 == 0:
        if proof:
            raise _fail("a consistency proof from size 0 must be empty")
        if root1 != EMPTY_ROOT:
            raise _fail("the size-0 root must be SHA-256 of the empty string")
        if size2 == 0 and root2 != EMPTY_ROOT:
            raise _fail("two checkpoints of size 0 with different roots")
        if len(root2) != 32:
            raise _fail("the root hash must be 32 bytes")
        return
    if size1 == size2:
        if proof:
            raise _fail("a consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise _fail("two checkpoints of one size have different roots: the log forked")
        return
    if not proof:
        raise _fail("empty consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # a power of two: the first root is the first node
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise _fail("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise _fail("consistency proof is too short")
    if fr != root1:
        raise _fail(f"consistency proof does not lead to the first checkpoint's root (size {size1})")
    if sr != root2:
        raise _fail(f"consistency proof does not lead to the second checkpoint's root (size {size2})")


# --------------------------------------------------------------------------------------------------
# Signed notes and checkpoints


def _key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


@dataclass(frozen=True)
class NoteVerifier:
    """A verifier key of a signed note: the log's (type 0x01, Ed25519) or a witness's (type
    0x04, cosignature/v1)."""

    name: str
    key_id: bytes
    sig_type: int
    public_key: PublicKey

    @classmethod
    def parse(cls, vkey: str) -> "NoteVerifier":
        """Parses a vkey ``<name>+<8 hex key ID>+<base64(type ‖ public key)>``; checks the key ID."""
        parts = vkey.split("+", 2)  # the base64 key may itself contain "+"
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]) or not parts[0]:
            raise _fail(f"not a vkey: {vkey!r}")
        try:
            data = b64_decode(parts[2])
        except EncodingError as e:
            raise _fail(f"vkey key: {e.message}") from None
        if len(data) != 33 or data[0] not in (0x01, 0x04):
            raise _fail("vkey key must be type 0x01 (Ed25519) or 0x04 (cosignature/v1) and 32 bytes")
        try:
            pk = PublicKey(data[1:])
        except InvalidKey as e:
            raise _fail(f"vkey key: {e.message}") from None
        kid = bytes.fromhex(parts[1])
        if kid != _key_id(parts[0], data[0], data[1:]):
            raise _fail("vkey key ID does not match its name and key")
        return cls(parts[0], kid, data[0], pk)

    @classmethod
    def for_log(cls, origin: str, did: str) -> "NoteVerifier":
        """The log key of ``origin`` signed by the node key ``did`` (spec/access-log.md §5.2)."""
        pk = DidKey.parse(did).public_key
        return cls(origin, _key_id(origin, 0x01, pk.raw), 0x01, pk)

    @property
    def vkey(self) -> str:
        """``<name>+<key ID hex>+<base64(type ‖ key)>``."""
        return f"{self.name}+{self.key_id.hex()}+{b64_encode(bytes([self.sig_type]) + self.public_key.raw)}"


@dataclass(frozen=True)
class Checkpoint:
    """A verified checkpoint: origin, size, root, and the witnesses whose cosignatures verified
    (with their timestamps)."""

    origin: str
    size: int
    root: bytes
    text: str
    note: str
    witnesses: dict[str, int] = field(default_factory=dict)


_SIG_LINE = re.compile(r"^— (\S+) (\S+)$")


def verify_checkpoint(
    note: str,
    log_key: NoteVerifier | str,
    witnesses: Iterable[NoteVerifier | str] = (),
    quorum: int = 0,
) -> Checkpoint:
    """Verifies a C2SP signed-note checkpoint under the pinned log key, and the witness quorum:
    at least ``quorum`` of ``witnesses`` must have a valid cosignature (cosignature/v1)."""
    lk = NoteVerifier.parse(log_key) if isinstance(log_key, str) else log_key
    wks = [NoteVerifier.parse(w) if isinstance(w, str) else w for w in witnesses]
    if any(ord(c) < 0x20 and c != "\n" for c in note) or "\x7f" in note:
        raise _fail("the note has a control character")
    if not note.endswith("\n"):
        raise _fail("the note does not end with a newline")
    sep = note.rfind("\n\n")
    if sep < 0:
        raise _fail("the note has no blank line before its signatures")
    text = note[: sep + 1]
    sig_lines = note[sep + 2 :].split("\n")[:-1]
    if not sig_lines:
        raise _fail("the note has no signature")
    if len(sig_lines) > 100:
        raise _fail("the note has more than 100 signatures")
    lines = text.split("\n")[:-1]
    if len(lines) < 3:
        raise _fail("a checkpoint has an origin, a size and a root hash")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if any(not x for x in lines[3:]):
        raise _fail("empty extension line")
    if origin != lk.name:
        raise _fail(f"the checkpoint's origin {origin!r} is not the pinned log {lk.name!r}")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_s):
        raise _fail(f"tree size {size_s!r} is not a decimal without leading zeros")
    try:
        root = b64_decode(root_s)
    except EncodingError as e:
        raise _fail(f"root hash: {e.message}") from None
    if len(root) != 32:
        raise _fail("root hash must be 32 bytes")
    seen: set[tuple[str, bytes]] = set()
    log_ok = False
    cosigned: dict[str, int] = {}
    for line in sig_lines:
        m = _SIG_LINE.match(line)
        if not m:
            raise _fail(f"malformed signature line {line[:60]!r}")
        name = m.group(1)
        try:
            blob = b64_decode(m.group(2))
        except EncodingError as e:
            raise _fail(f"signature line: {e.message}") from None
        if len(blob) < 5:
            raise _fail("signature line too short")
        kid, sig = blob[:4], blob[4:]
        if (name, kid) in seen:
            raise _fail(f"two signatures by {name}")
        seen.add((name, kid))
        if name == lk.name and kid == lk.key_id:
            try:
                lk.public_key.verify(text.encode("utf-8"), sig)
            except SignatureError:
                raise _fail("the checkpoint's signature by the log key does not verify") from None
            log_ok = True
            continue
        for w in wks:
            if name == w.name and kid == w.key_id:
                if len(sig) != 72:
                    raise _fail(f"cosignature by {name} must be 8 + 64 bytes")
                (ts,) = struct.unpack(">Q", sig[:8])
                msg = f"cosignature/v1\ntime {ts}\n".encode() + text.encode("utf-8")
                try:
                    w.public_key.verify(msg, sig[8:])
                except SignatureError:
                    raise _fail(f"the cosignature by witness {name} does not verify") from None
                cosigned[name] = ts
    if not log_ok:
        raise _fail(f"the checkpoint is not signed by the pinned log key {lk.name}+{lk.key_id.hex()}")
    if len(cosigned) < quorum:
        raise _fail(f"only {len(cosigned)} of the required {quorum} witness cosignatures verified")
    return Checkpoint(origin, int(size_s), root, text, note, cosigned)


# --------------------------------------------------------------------------------------------------
# Receipts and promises


@dataclass(frozen=True)
class VerifiedReceipt:
    """A verified tlog-proof receipt: the entry's index and leaf hash, and the checkpoint."""

    index: int
    leaf_hash: bytes
    checkpoint: Checkpoint


def verify_receipt(
    receipt: str,
    leaf_hash_: bytes | str,
    log_key: NoteVerifier | str,
    *,
    index: int | None = None,
    witnesses: Iterable[NoteVerifier | str] = (),
    quorum: int = 0,
) -> VerifiedReceipt:
    """Verifies a C2SP tlog-proof receipt (spec/access-log.md §6.2) for the leaf hash you hold
    (bytes, or hex): the checkpoint under the log key and quorum, then the inclusion proof."""
    lh = bytes.fromhex(leaf_hash_) if isinstance(leaf_hash_, str) else leaf_hash_
    if len(lh) != 32:
        raise _fail("leaf hash must be 32 bytes")
    lines = receipt.split("\n")
    if not lines or lines[0] != "c2sp.org/tlog-proof@v1":
        raise _fail("not a c2sp.org/tlog-proof@v1 receipt")
    i = 1
    if i < len(lines) and lines[i].startswith("extra "):
        try:
            if not b64_decode(lines[i][6:]):
                raise _fail("empty extra")
        except EncodingError as e:
            raise _fail(f"extra: {e.message}") from None
        i += 1
    m = re.fullmatch(r"index (0|[1-9][0-9]{0,19})", lines[i] if i < len(lines) else "")
    if not m:
        raise _fail("receipt: expected an 'index N' line")
    idx = int(m.group(1))
    if index is not None and idx != index:
        raise _fail(f"the receipt is for entry {idx}, not {index}")
    i += 1
    proof: list[bytes] = []
    while i < len(lines) and lines[i] != "":
        try:
            h = b64_decode(lines[i])
        except EncodingError as e:
            raise _fail(f"proof line: {e.message}") from None
        if len(h) != 32:
            raise _fail("proof hashes must be 32 bytes")
        proof.append(h)
        if len(proof) > 64:
            raise _fail("more than 64 proof lines")
        i += 1
    if i >= len(lines):
        raise _fail("receipt: no blank line before the checkpoint")
    note = "\n".join(lines[i + 1 :])
    cp = verify_checkpoint(note, log_key, witnesses, quorum)
    if idx >= cp.size:
        raise _fail(f"entry {idx} is not covered by the checkpoint of size {cp.size}")
    verify_inclusion(idx, cp.size, lh, proof, cp.root)
    return VerifiedReceipt(idx, lh, cp)


def verify_inclusion_promise(promise: dict[str, object], log_key: NoteVerifier | str) -> None:
    """Verifies a release's signed inclusion promise (spec/access-log.md §6.1) under the log key."""
    lk = NoteVerifier.parse(log_key) if isinstance(log_key, str) else log_key
    try:
        if promise.get("type") != "inclusion-promise":
            raise _fail("not an inclusion promise")
        origin, index, lh, t = promise["origin"], promise["index"], promise["leafHash"], promise["timeMs"]
        signer, sig_b64 = promise["signer"], promise["signature"]
    except KeyError as e:
        raise _fail(f"inclusion promise: missing {e}") from None
    if not (isinstance(origin, str) and isinstance(index, int) and isinstance(lh, str) and isinstance(t, int)
            and isinstance(signer, str) and isinstance(sig_b64, str)):
        raise _fail("inclusion promise: members of the wrong type")
    if origin != lk.name:
        raise _fail(f"inclusion promise for log {origin!r}, not {lk.name!r}")
    try:
        key = DidKey.parse(signer).public_key
        sig = b64_decode(sig_b64)
        if len(b64_decode(lh)) != 32:
            raise _fail("inclusion promise leaf hash must be 32 bytes")
    except (InvalidKey, EncodingError) as e:
        raise _fail(f"inclusion promise: {e.message}") from None
    if key != lk.public_key:
        raise _fail("the inclusion promise is not signed by the log key")
    stmt = f"consentry/inclusion-promise/v1\n{origin}\n{index}\n{lh}\n{t}\n".encode()
    try:
        key.verify(stmt, sig)
    except SignatureError:
        raise _fail("the inclusion promise's signature does not verify") from None
