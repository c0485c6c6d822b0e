"""Signed requests: what the signature covers, and each way a request fails to authenticate."""

from __future__ import annotations

import pytest

from crowdsense.chain.accounts import dev_signer
from crowdsense.services.auth import HEADERS, AuthenticationError, canonical_message, sign_request, verify_request

DOMAIN, NOW, WINDOW = "127.0.0.1:8600", 1_700_000_000, 300
PATH = "/v1/blobs/0x" + "ab" * 32


class Headers(dict):
    """Case-insensitive look-up, as an HTTP framework's headers."""

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        return next((v for k, v in self.items() if k.lower() == key.lower()), default)


def signed(signer=None, *, body=b"data", timestamp=NOW, **where) -> Headers:
    where = {"domain": DOMAIN, "method": "PUT", "path": PATH, **where}
    return Headers(sign_request(signer or dev_signer(1), body=body, timestamp=timestamp, **where))


def verify(headers, *, body=b"data", now=NOW, **where):
    where = {"domain": DOMAIN, "method": "PUT", "path": PATH, **where}
    return verify_request(headers, body=body, window=WINDOW, now=now, **where)


def test_a_signed_request_verifies_as_its_signer():
    headers = signed()
    got = verify(headers)
    assert got.account == dev_signer(1).address
    assert got.timestamp == NOW and got.nonce == headers[HEADERS["nonce"]]


def test_header_names_are_case_insensitive_and_nonces_fresh():
    a, b = signed(), signed()
    assert a[HEADERS["nonce"]] != b[HEADERS["nonce"]]
    lowered = Headers({k.lower(): v for k, v in a.items()})
    assert verify(lowered).account == dev_signer(1).address


def test_the_message_names_every_part_of_the_request():
    base = dict(domain=DOMAIN, method="put", path=PATH, body=b"x", timestamp=NOW, nonce="00" * 16)
    text = canonical_message(**base)
    assert "domain: 127.0.0.1:8600" in text and "method: PUT" in text and f"path: {PATH}" in text
    for change in ({"domain": "other:1"}, {"method": "GET"}, {"path": PATH + "?x=1"}, {"body": b"y"},
                   {"timestamp": NOW + 1}, {"nonce": "11" * 16}):
        assert canonical_message(**{**base, **change}) != text, change


def test_wrong_signer_is_refused():
    headers = signed(dev_signer(2))
    headers[HEADERS["account"]] = dev_signer(1).address  # claims to be account 1
    with pytest.raises(AuthenticationError, match=f"not {dev_signer(1).address}'s over this request"):
        verify(headers)


@pytest.mark.parametrize("change", [{"body": b"tampered"}, {"path": PATH.replace("ab", "cd")}, {"method": "DELETE"},
                                    {"domain": "127.0.0.1:9999"}])
def test_a_signature_does_not_move_to_another_request(change):
    with pytest.raises(AuthenticationError, match="is not .*'s over this request"):
        verify(signed(), **change)


@pytest.mark.parametrize("offset", [-WINDOW - 1, WINDOW + 1])
def test_stale_or_future_timestamp_is_refused(offset):
    with pytest.raises(AuthenticationError, match=f"expected within {WINDOW} s"):
        verify(signed(timestamp=NOW + offset))


def test_timestamp_at_the_edge_of_the_window_is_accepted():
    assert verify(signed(timestamp=NOW - WINDOW)).timestamp == NOW - WINDOW


@pytest.mark.parametrize("name, value, fragment", [
    ("account", None, "missing header X-Crowdsense-Account"),
    ("account", "0x1234", "is not an address"),
    ("timestamp", "soon", "is not a time"),
    ("nonce", "short", "is not a nonce"),
    ("nonce", "AB" * 16, "is not a nonce"),
    ("signature", "0x00", "is not a signature"),
    ("signature", "0x" + "00" * 65, "is not .*'s over this request"),
])
def test_malformed_headers_are_refused(name, value, fragment):
    headers = signed()
    if value is None:
        del headers[HEADERS[name]]
    else:
        headers[HEADERS[name]] = value
    with pytest.raises(AuthenticationError, match=fragment):
        verify(headers)
