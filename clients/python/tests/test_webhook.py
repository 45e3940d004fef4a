"""Signed webhooks: the worked example of spec/notifications.md §6.1, and every tampering refused."""

from __future__ import annotations

import re

import pytest

from consentry.errors import WebhookVerificationError
from consentry.webhook import verify_webhook

from conftest import SPEC

NODE_DID = "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw"
URL = "https://hooks.example.com/consentry?tenant=a"


def _example() -> tuple[dict[str, str], bytes]:
    text = (SPEC / "notifications.md").read_text("utf-8")
    sec = text[text.index("### 6.1 Worked example"):]
    body = re.search(r"```json\n(\{.*?\})\n```", sec, re.S).group(1).encode()  # type: ignore[union-attr]
    http = re.search(r"```http\n(.*?)\n```", sec, re.S).group(1)  # type: ignore[union-attr]
    headers = {}
    for line in http.split("\n")[1:]:
        if ": " in line:
            k, v = line.split(": ", 1)
            headers[k] = v
    return headers, body


NOW = 1759042810


def test_worked_example_verifies() -> None:
    headers, body = _example()
    assert len(body) == 431
    ev = verify_webhook("POST", URL, headers, body, NODE_DID, now=NOW, recipient="91440300708461136T")
    assert ev.type == "objection.updated" and ev.sequence == 7


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda h, b, u: (h, b.replace(b"forwarded", b"corrected"), u), "Content-Digest"),
        (lambda h, b, u: (h, b, u.replace("tenant=a", "tenant=b")), "does not verify"),
        (lambda h, b, u: ({**h, "Consentry-Sequence": "8"}, b, u), "does not verify"),
        (lambda h, b, u: ({k: v for k, v in h.items() if k != "Signature"}, b, u), "Signature"),
        (lambda h, b, u: ({**h, "Signature-Input": h["Signature-Input"].replace('"consentry-sequence"', "")}, b, u), "consentry-sequence"),
    ],
)
def test_tampering_is_refused(change, reason) -> None:  # type: ignore[no-untyped-def]
    headers, body = _example()
    h, b, u = change(headers, body, URL)
    with pytest.raises(WebhookVerificationError, match=reason):
        verify_webhook("POST", u, h, b, NODE_DID, now=NOW)


def test_stale_wrong_key_and_future_are_refused() -> None:
    headers, body = _example()
    with pytest.raises(WebhookVerificationError, match="older"):
        verify_webhook("POST", URL, headers, body, NODE_DID, now=NOW + 400)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify_webhook("POST", URL, headers, body, NODE_DID, now=NOW - 100)
    other = "did:key:z6MkiS2wovtuq12egsh6eMoFudur1Nq1rC5QeXXjnrY8hwtu"
    with pytest.raises(WebhookVerificationError, match="keyid"):
        verify_webhook("POST", URL, headers, body, other, now=NOW)
    with pytest.raises(WebhookVerificationError, match="recipient|not"):
        verify_webhook("POST", URL, headers, body, NODE_DID, now=NOW, recipient="911000001000013428")
