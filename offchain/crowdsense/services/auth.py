"""Requests signed by a party's Ethereum key, and their verification.

A party proves who it is with the key it already holds for the chain, so the services need no
passwords and no account database: the client signs (EIP-191 ``personal_sign``, as a wallet
does) a canonical text naming everything that makes the request what it is::

    crowdsense service request
    domain: 127.0.0.1:8600
    method: PUT
    path: /v1/blobs/0x5f...?kind=x
    body-keccak256: 0x1c...
    timestamp: 1733558400
    nonce: 9b1f...

and sends the account, timestamp, nonce and signature in headers (:data:`HEADERS`). The server
rebuilds the text from the request it received, recovers the signer and checks that it is the
claimed account. Because the text holds the service's domain, a signature made for one service
is worthless at another; because it holds the method, path and body hash, it cannot be moved to
another request or another body; the timestamp bounds how long it can be replayed at all, and
the nonce, recorded by the server until the timestamp expires
(:class:`~crowdsense.services.replay.NonceLedger`), makes it single-use inside that window.

This module needs only eth-account: the receiver's client signs with it, the server verifies
with it.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import is_hex_address, keccak, to_checksum_address

from crowdsense.errors import CrowdsenseError

__all__ = [
    "HEADERS",
    "AuthenticationError",
    "SignedRequest",
    "canonical_message",
    "sign_request",
    "verify_request",
]

#: Header names of a signed request.
HEADERS = {
    "account": "X-Crowdsense-Account",
    "timestamp": "X-Crowdsense-Timestamp",
    "nonce": "X-Crowdsense-Nonce",
    "signature": "X-Crowdsense-Signature",
}
_NONCE = re.compile(r"[0-9a-f]{32,64}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")


class AuthenticationError(CrowdsenseError, PermissionError):
    """A signed request that does not authenticate (the server answers 401 with this message)."""


@dataclass(frozen=True)
class SignedRequest:
    """Who signed a request that authenticated, and the values that make it single-use."""

    account: str
    timestamp: int
    nonce: str


def canonical_message(*, domain: str, method: str, path: str, body: bytes, timestamp: int, nonce: str) -> str:
    """The text a request's signature covers (``path`` includes the query string, if any)."""
    return (
        "crowdsense service request\n"
        f"domain: {domain}\n"
        f"method: {method.upper()}\n"
        f"path: {path}\n"
        f"body-keccak256: 0x{keccak(bytes(body)).hex()}\n"
        f"timestamp: {int(timestamp)}\n"
        f"nonce: {nonce}"
    )


def _sign_text(signer: Any, text: str) -> bytes:
    """EIP-191 ``personal_sign`` of ``text`` by a :class:`~crowdsense.chain.accounts.Signer`
    (or an eth-account ``LocalAccount``): 65 bytes ``r || s || v``.

    A Signer keeps its key to itself and offers no message signing of its own; the account it
    wraps does, and the key never leaves it here either."""
    account = getattr(signer, "_account", signer)
    return bytes(account.sign_message(encode_defunct(text=text)).signature)


def sign_request(signer: Any, *, domain: str, method: str, path: str, body: bytes = b"",
                 timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The headers that authenticate one request as ``signer``'s (a fresh nonce each call)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    nonce = secrets.token_hex(16) if nonce is None else nonce
    text = canonical_message(domain=domain, method=method, path=path, body=body, timestamp=timestamp,
                             nonce=nonce)
    return {
        HEADERS["account"]: to_checksum_address(signer.address),
        HEADERS["timestamp"]: str(timestamp),
        HEADERS["nonce"]: nonce,
        HEADERS["signature"]: "0x" + _sign_text(signer, text).hex(),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(HEADERS[name])
    if value is None:
        raise AuthenticationError(f"missing header {HEADERS[name]}: expected a request signed as in "
                                  "docs/services.md (account, timestamp, nonce and signature headers)")
    return value.strip()


def verify_request(headers: Mapping[str, str], *, domain: str, method: str, path: str, body: bytes,
                   window: int, now: float | None = None) -> SignedRequest:
    """Check a request's signature headers; return who signed it.

    ``headers`` must look names up case-insensitively (as HTTP frameworks' headers do). The
    nonce is *not* recorded here: the caller records it (and refuses a replay) once the
    signature holds, so that unsigned junk never fills the nonce table.

    Raises
    ------
    AuthenticationError
        A header is missing or malformed, the timestamp is outside ``window`` seconds of
        ``now``, or the signature was not made by the claimed account over this request
        (another body, path, method or domain).
    """
    claimed = _header(headers, "account")
    if not is_hex_address(claimed):
        raise AuthenticationError(f"{HEADERS['account']} {claimed!r} is not an address: "
                                  "expected 0x and 40 hex digits")
    timestamp_text = _header(headers, "timestamp")
    if not timestamp_text.isdigit() or len(timestamp_text) > 12:
        raise AuthenticationError(f"{HEADERS['timestamp']} {timestamp_text!r} is not a time: "
                                  "expected unix seconds")
    timestamp = int(timestamp_text)
    nonce = _header(headers, "nonce")
    if not _NONCE.fullmatch(nonce):
        raise AuthenticationError(f"{HEADERS['nonce']} {nonce!r} is not a nonce: "
                                  "expected 32 to 64 lower-case hex digits drawn at random")
    signature = _header(headers, "signature")
    if not _SIGNATURE.fullmatch(signature):
        raise AuthenticationError(f"{HEADERS['signature']} is not a signature: "
                                  "expected 0x and 130 hex digits (65 bytes r || s || v)")
    now = time.time() if now is None else now
    skew = timestamp - now
    if abs(skew) > window:
        raise AuthenticationError(
            f"request timestamp {timestamp} is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the "
            f"server's clock: expected within {window} s (sign each request when it is sent; "
            "check the clock)")
    text = canonical_message(domain=domain, method=method, path=path, body=body, timestamp=timestamp,
                             nonce=nonce)
    try:
        recovered = Account.recover_message(encode_defunct(text=text), signature=bytes.fromhex(signature[2:]))
    except Exception:  # noqa: BLE001 - eth-keys raises several types for an unusable signature
        recovered = None
    if recovered is None or recovered.lower() != claimed.lower():
        raise AuthenticationError(
            f"the signature is not {to_checksum_address(claimed)}'s over this request: expected a signature "
            f"of this domain ({domain}), method, path, body, timestamp and nonce by the claimed account")
    return SignedRequest(to_checksum_address(claimed), timestamp, nonce)
