"""A party's client of a crowdsense service: blobs and key envelopes over HTTP.

It needs nothing beyond the package's runtime dependencies (``requests`` and eth-account), so
a receiver that only fetches installs no server stack. It signs writes with the party's key
(:func:`~crowdsense.services.auth.sign_request`, a fresh nonce per attempt), verifies every
blob it fetches against the hash it asked for, and returns envelopes for the caller to open
(authenticated decryption is the check an envelope gets).

Every call has a timeout. Calls are retried with exponential back-off only when the request
may not have reached the service (a refused or dropped connection, a timeout) *and* repeating
it cannot change the outcome: reads, and the writes of this API, which are idempotent (the same
bytes under the same name). A refusal by the service is never retried: it is raised at once as
one typed error whose one-line message carries the service's own explanation.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from eth_utils import is_hex_address, keccak, to_checksum_address

from crowdsense.chain.errors import ClientError
from crowdsense.errors import InputError
from crowdsense.services.auth import sign_request

__all__ = [
    "ServiceClient",
    "ServiceError",
    "ServiceUnavailableError",
    "ServiceRefusedError",
    "ServiceNotFoundError",
    "ServiceIntegrityError",
    "hash_hex",
]


class ServiceError(ClientError):
    """Root of the errors of a service's client."""


class ServiceUnavailableError(ServiceError, ConnectionError):
    """The service cannot be reached, or keeps timing out, after the retries."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(f"service at {url} is unavailable: {reason}: expected a running service "
                         "(`crowdsense service serve`) at that URL")


class ServiceRefusedError(ServiceError):
    """The service answered a request with an error status."""

    def __init__(self, url: str, method: str, path: str, status: int, error: str) -> None:
        self.url, self.method, self.path, self.status, self.error = url, method, path, status, error
        super().__init__(f"service at {url} refused {method} {path} ({status}): {error}")


class ServiceNotFoundError(ServiceRefusedError, LookupError):
    """The object asked for is not stored (404)."""


class ServiceIntegrityError(ServiceError):
    """The service returned bytes that do not hash to the name they were asked by."""


def hash_hex(value: bytes | str, what: str = "hash") -> str:
    """``0x`` + 64 lower-case hex digits of a 32-byte hash given as bytes or hex text."""
    if isinstance(value, (bytes, bytearray)) and len(value) == 32:
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        text = value.lower().removeprefix("0x")
        if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
            return "0x" + text
    raise InputError(f"{what} {value!r} is not a 32-byte hash: expected 32 bytes or 0x and 64 hex digits")


def _address(value: str, what: str = "claimant") -> str:
    if not isinstance(value, str) or not is_hex_address(value):
        raise InputError(f"{what} {value!r} is not an address: expected 0x and 40 hex digits")
    return to_checksum_address(value)


def _base_url(url: str) -> str:
    if not isinstance(url, str):
        raise InputError(f"service URL must be text, got {type(url).__name__}")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise InputError(f"service URL {url!r} is not usable: "
                         "expected http://host:port or https://host[:port]")
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise InputError(f"service URL {url!r} has a malformed port: expected http://host:port") from None
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


class ServiceClient:
    """HTTP client of one service.

    Parameters
    ----------
    base_url
        ``http://host:port`` (or ``https://...``, optionally with a path prefix behind a proxy).
    signer
        The party's :class:`~crowdsense.chain.accounts.Signer`; needed for writes only.
    timeout
        Seconds per attempt (connecting and reading).
    retries
        Further attempts of a call that may be repeated, after a connection failure or timeout.
    backoff
        Seconds before the first retry; doubled before each next one.
    domain
        The service's name in signatures; default the URL's ``host:port``, which is what a
        service configured with ``--host``/``--port`` (or ``--domain``) expects.
    """

    def __init__(self, base_url: str, signer: Any = None, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.2, domain: str | None = None) -> None:
        self.base_url = _base_url(base_url)
        if not isinstance(timeout, (int, float)) or not 0 < timeout < 3600:
            raise InputError(f"timeout must be in (0, 3600) seconds, got {timeout!r}")
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 20:
            raise InputError(f"retries must be an int in 0..20, got {retries!r}")
        if not isinstance(backoff, (int, float)) or not 0 <= backoff <= 60:
            raise InputError(f"backoff must be in 0..60 seconds, got {backoff!r}")
        if signer is not None and not hasattr(signer, "address"):
            raise InputError(f"signer must be a Signer (an account), got {type(signer).__name__}")
        self.signer = signer
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = float(backoff)
        parts = urlsplit(self.base_url)
        self.domain = domain or parts.netloc.lower()
        self._prefix = parts.path
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"ServiceClient({self.base_url})"

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    # ------------------------------------------------------------------ transport

    def _request(self, method: str, path: str, *, body: bytes = b"", signed: bool = False,
                 idempotent: bool = True, missing_ok: bool = False) -> requests.Response:
        """One call: signed (fresh headers each attempt) if ``signed``, retried if ``idempotent``.

        Returns the response of a 2xx status (or of 404 when ``missing_ok``)."""
        if signed and self.signer is None:
            raise InputError(f"writing to the service at {self.base_url} needs an account to sign with: "
                             "give the client a signer (--keystore, $CROWDSENSE_PRIVATE_KEY or "
                             "--dev-account)")
        full_path = self._prefix + path
        attempts = self.retries + 1 if idempotent else 1
        for attempt in range(attempts):
            headers = {"Content-Type": "application/octet-stream"} if body else {}
            if signed:
                headers |= sign_request(self.signer, domain=self.domain, method=method, path=full_path,
                                        body=body)
            try:
                response = self._session.request(method, self.base_url + path, data=body or None,
                                                 headers=headers, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 >= attempts:
                    reason = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
                    raise ServiceUnavailableError(self.base_url, f"{reason} after {attempt + 1} attempt(s)") \
                        from None
                time.sleep(self.backoff * 2**attempt)
                continue
            if 200 <= response.status_code < 300 or (missing_ok and response.status_code == 404):
                return response
            error = self._error_text(response)
            kind = ServiceNotFoundError if response.status_code == 404 else ServiceRefusedError
            raise kind(self.base_url, method, path, response.status_code, error)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, method: str, path: str, doc: Any = None, *, signed: bool = False, idempotent: bool = True) -> Any:
        """A JSON request (``doc`` as its body) and the JSON of the answer; retried only if ``idempotent``."""
        body = b"" if doc is None else json.dumps(doc, separators=(",", ":")).encode()
        response = self._request(method, path, body=body, signed=signed, idempotent=idempotent)
        try:
            return response.json()
        except ValueError:
            raise ServiceIntegrityError(f"service at {self.base_url} answered {method} {path} with something "
                                        "other than JSON: expected a crowdsense service") from None

    @staticmethod
    def _error_text(response: requests.Response) -> str:
        try:
            error = response.json().get("error")
        except (ValueError, AttributeError):
            error = None
        if not isinstance(error, str) or not error:
            error = " ".join(response.text.split())[:200] or response.reason or "no explanation"
        return " ".join(error.split())

    # ------------------------------------------------------------------ API

    def health(self) -> dict[str, Any]:
        """The service's liveness answer (status, version, domain, database kind, limits)."""
        return dict(self._request("GET", "/v1/health").json())

    def put_blob(self, data: bytes) -> bytes:
        """Store ``data`` under its keccak256 (signed) and return the hash."""
        if not isinstance(data, (bytes, bytearray)):
            raise InputError(f"a blob must be bytes, got {type(data).__name__}")
        digest = keccak(bytes(data))
        self._request("PUT", f"/v1/blobs/0x{digest.hex()}", body=bytes(data), signed=True)
        return digest

    def get_blob(self, blob_hash: bytes | str) -> bytes:
        """The bytes stored under ``blob_hash``, checked against it.

        Raises
        ------
        ServiceNotFoundError
            Nothing is stored under that hash.
        ServiceIntegrityError
            The service returned other bytes.
        """
        name = hash_hex(blob_hash, "blob hash")
        data = self._request("GET", f"/v1/blobs/{name}").content
        if "0x" + keccak(data).hex() != name:
            raise ServiceIntegrityError(f"service at {self.base_url} returned bytes for {name} that hash to "
                                        f"0x{keccak(data).hex()}: expected bytes matching their hash "
                                        "(the service's data was altered)")
        return data

    def has_blob(self, blob_hash: bytes | str) -> bool:
        name = hash_hex(blob_hash, "blob hash")
        return self._request("HEAD", f"/v1/blobs/{name}", missing_ok=True).status_code == 200

    def _envelope_path(self, subtask_hash: bytes | str, claimant: str, writer: str | None) -> str:
        if writer is None:
            if self.signer is None:
                raise InputError("an envelope is named by its writer: give the writer's address (the "
                                 "subtask's releaser) or a signer")
            writer = self.signer.address
        return (f"/v1/envelopes/{hash_hex(subtask_hash, 'subtask hash')}/{_address(claimant)}/"
                f"{_address(writer, 'writer')}")

    def put_envelope(self, subtask_hash: bytes | str, claimant: str, envelope: bytes) -> bool:
        """Store the key envelope of ``subtask_hash`` for ``claimant``, filed under the signer.

        Returns whether it was new (False: the same envelope was stored before). A different
        envelope stored before by the same signer is refused (:class:`ServiceRefusedError`,
        status 409)."""
        if not isinstance(envelope, (bytes, bytearray)) or not envelope:
            raise InputError("an envelope must be non-empty bytes")
        path = self._envelope_path(subtask_hash, claimant, None)
        return self._request("PUT", path, body=bytes(envelope), signed=True).status_code == 201

    def get_envelope(self, subtask_hash: bytes | str, claimant: str, writer: str | None = None) -> bytes:
        """``writer``'s key envelope of ``subtask_hash`` for ``claimant`` (:class:`ServiceNotFoundError`
        if none; ``writer`` defaults to the signer): still sealed; the claimant's key opens and
        authenticates it. A claimant asks for the envelope of the subtask's releaser, whom the
        chain names: envelopes other accounts write are filed under them and never read."""
        return self._request("GET", self._envelope_path(subtask_hash, claimant, writer)).content

    def has_envelope(self, subtask_hash: bytes | str, claimant: str, writer: str | None = None) -> bool:
        path = self._envelope_path(subtask_hash, claimant, writer)
        return self._request("HEAD", path, missing_ok=True).status_code == 200
