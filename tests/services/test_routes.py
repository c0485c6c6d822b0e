"""The /v1 API over real HTTP (uvicorn in a thread), on SQLite and PostgreSQL: every refusal is
one JSON error with its status, writes are idempotent, signatures are single-use."""

from __future__ import annotations

import time

import pytest
import requests
from eth_utils import keccak
from sqlalchemy import func, select

from crowdsense.chain.accounts import dev_signer
from crowdsense.services.auth import HEADERS, sign_request
from crowdsense.services.db import blobs

WRITER, OTHER = dev_signer(1), dev_signer(2)


def blob_path(data: bytes) -> str:
    return f"/v1/blobs/0x{keccak(data).hex()}"


def put(server, path: str, body: bytes, signer=WRITER, **overrides) -> requests.Response:
    """A signed PUT; ``overrides`` replace arguments of the signature (to forge bad ones)."""
    signing = {"domain": server.domain, "method": "PUT", "path": path, "body": body, **overrides}
    headers = sign_request(signer, **signing)
    return requests.put(server.url + path, data=body, headers=headers, timeout=10)


def error_of(response: requests.Response) -> str:
    body = response.json()
    assert set(body) == {"error"}, body
    assert ": " in body["error"], body  # what was wrong: what is expected
    return body["error"]


@pytest.fixture()
def server(serve_in_thread, database_url):
    return serve_in_thread(database_url=database_url, max_blob_bytes=2048, timestamp_window=60)


def rows(server) -> int:
    engine = server.app.state.service.blobs.engine
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(blobs)).scalar_one())


def test_put_then_get_and_the_same_bytes_again_is_200_with_one_row(server):
    data = b"subtask ciphertext"
    first = put(server, blob_path(data), data)
    assert first.status_code == 201 and first.json()["created"] is True
    again = put(server, blob_path(data), data)
    assert again.status_code == 200 and again.json()["created"] is False
    assert rows(server) == 1
    got = requests.get(server.url + blob_path(data), timeout=10)
    assert got.status_code == 200 and got.content == data  # reads need no signature
    assert requests.head(server.url + blob_path(data), timeout=10).status_code == 200


def test_absent_blob_is_404(server):
    response = requests.get(server.url + blob_path(b"never stored"), timeout=10)
    assert response.status_code == 404 and "no blob 0x" in error_of(response)
    assert requests.head(server.url + blob_path(b"never stored"), timeout=10).status_code == 404


def test_body_not_matching_its_hash_is_422(server):
    response = put(server, blob_path(b"announced"), b"delivered")
    assert response.status_code == 422
    assert f"hashes to 0x{keccak(b'delivered').hex()}" in error_of(response)
    assert rows(server) == 0


def test_body_over_the_size_limit_is_413(server):
    big = b"x" * 2049
    response = put(server, blob_path(big), big)
    assert response.status_code == 413 and "larger than 2048 bytes" in error_of(response)
    assert put(server, blob_path(big[:2048]), big[:2048]).status_code == 201  # the limit itself is allowed


def test_unsigned_write_is_401(server):
    response = requests.put(server.url + blob_path(b"x"), data=b"x", timeout=10)
    assert response.status_code == 401 and "missing header X-Crowdsense-Account" in error_of(response)


def test_wrong_signer_is_401(server):
    headers = sign_request(OTHER, domain=server.domain, method="PUT", path=blob_path(b"x"), body=b"x")
    headers[HEADERS["account"]] = WRITER.address
    response = requests.put(server.url + blob_path(b"x"), data=b"x", headers=headers, timeout=10)
    assert response.status_code == 401 and f"not {WRITER.address}'s over this request" in error_of(response)
    assert rows(server) == 0


def test_stale_timestamp_is_401(server):
    response = put(server, blob_path(b"x"), b"x", timestamp=int(time.time()) - 61)
    assert response.status_code == 401 and "expected within 60 s" in error_of(response)


def test_replayed_request_is_401(server):
    headers = sign_request(WRITER, domain=server.domain, method="PUT", path=blob_path(b"x"), body=b"x")
    first = requests.put(server.url + blob_path(b"x"), data=b"x", headers=headers, timeout=10)
    replay = requests.put(server.url + blob_path(b"x"), data=b"x", headers=headers, timeout=10)
    assert first.status_code == 201
    assert replay.status_code == 401 and "replayed request" in error_of(replay)


def test_tampered_body_is_401(server):
    path = blob_path(b"tampered")
    headers = sign_request(WRITER, domain=server.domain, method="PUT", path=path, body=b"original")
    response = requests.put(server.url + path, data=b"tampered", headers=headers, timeout=10)
    assert response.status_code == 401 and "over this request" in error_of(response)
    assert rows(server) == 0


def test_signature_for_another_service_is_401(server):
    response = put(server, blob_path(b"x"), b"x", domain="127.0.0.1:1")
    assert response.status_code == 401 and "expected a signature of this domain" in error_of(response)


def test_envelopes_are_written_once_and_read_back(server):
    subtask, claimant = "0x" + keccak(b"s").hex(), OTHER.address
    path = f"/v1/envelopes/{subtask}/{claimant}/{WRITER.address}"
    assert put(server, path, b"envelope").status_code == 201
    assert put(server, path, b"envelope").status_code == 200
    conflict = put(server, path, b"another envelope")
    assert conflict.status_code == 409 and "another envelope" in error_of(conflict)
    got = requests.get(server.url + f"/v1/envelopes/{subtask}/{claimant.lower()}/{WRITER.address.lower()}",
                       timeout=10)
    assert got.status_code == 200 and got.content == b"envelope"
    missing = requests.get(server.url + f"/v1/envelopes/{subtask}/{WRITER.address}/{WRITER.address}", timeout=10)
    assert missing.status_code == 404 and "no key envelope" in error_of(missing)


def test_an_envelope_is_filed_under_its_signer_only(server):
    """Nobody writes under another's name (403), and what a squatter writes first under its own
    name leaves the releaser's place free."""
    subtask, claimant = "0x" + keccak(b"s").hex(), OTHER.address
    releasers = f"/v1/envelopes/{subtask}/{claimant}/{WRITER.address}"
    forged = put(server, releasers, b"garbage", signer=OTHER)
    assert forged.status_code == 403 and "expected its own address as the writer" in error_of(forged)
    squatted = put(server, f"/v1/envelopes/{subtask}/{claimant}/{OTHER.address}", b"garbage", signer=OTHER)
    assert squatted.status_code == 201
    assert put(server, releasers, b"envelope").status_code == 201
    assert requests.get(server.url + releasers, timeout=10).content == b"envelope"


@pytest.mark.parametrize("path, fragment", [
    ("/v1/blobs/0x12", "is not a keccak256 hash"),
    ("/v1/envelopes/0x12/0x" + "11" * 20 + "/0x" + "22" * 20, "is not a keccak256 hash"),
    ("/v1/envelopes/0x" + "ab" * 32 + "/bob/0x" + "22" * 20, "claimant 'bob' is not an address"),
    ("/v1/envelopes/0x" + "ab" * 32 + "/0x" + "22" * 20 + "/eve", "writer 'eve' is not an address"),
])
def test_malformed_paths_are_400(server, path, fragment):
    response = requests.get(server.url + path, timeout=10)
    assert response.status_code == 400 and fragment in error_of(response)


def test_unknown_paths_and_methods_are_json_errors(server):
    assert requests.get(server.url + "/v2/blobs", timeout=10).status_code == 404
    assert "no endpoint GET /v2/blobs" in error_of(requests.get(server.url + "/v2/blobs", timeout=10))
    response = requests.delete(server.url + blob_path(b"x"), timeout=10)
    assert response.status_code == 405 and "DELETE is not allowed" in error_of(response)


def test_health_and_openapi(server):
    health = requests.get(server.url + "/v1/health", timeout=10).json()
    assert health["status"] == "ok" and health["domain"] == server.domain
    assert health["database"] in ("sqlite", "postgresql") and health["maxBlobBytes"] == 2048
    schema = requests.get(server.url + "/openapi.json", timeout=10).json()
    assert {"/v1/health", "/v1/blobs/{blob_hash}", "/v1/envelopes/{subtask_hash}/{claimant}/{writer}"} <= set(schema["paths"])
    assert {"get", "put"} <= set(schema["paths"]["/v1/blobs/{blob_hash}"])


def test_only_configured_writers_may_write(serve_in_thread, tmp_path):
    server = serve_in_thread(database_url=f"sqlite:///{tmp_path}/w.sqlite", writers=frozenset({WRITER.address}))
    refused = put(server, blob_path(b"x"), b"x", signer=OTHER)
    assert refused.status_code == 403 and f"account {OTHER.address} may not write" in error_of(refused)
    assert put(server, blob_path(b"x"), b"x", signer=WRITER).status_code == 201
