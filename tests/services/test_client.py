"""The party's client over real HTTP: verified reads, signed idempotent writes, typed one-line
errors, retries only where repeating cannot hurt, and timeouts."""

from __future__ import annotations

import socket
import threading

import pytest
from eth_utils import keccak
from sqlalchemy import insert

from crowdsense.chain.accounts import dev_signer
from crowdsense.errors import InputError
from crowdsense.services.client import (
    ServiceClient,
    ServiceIntegrityError,
    ServiceNotFoundError,
    ServiceRefusedError,
    ServiceUnavailableError,
)
from crowdsense.services.db import blobs

WRITER, CLAIMANT = dev_signer(1), dev_signer(2)


@pytest.fixture()
def server(serve_in_thread, database_url):
    return serve_in_thread(database_url=database_url)


def test_blob_round_trip_and_idempotent_put(server):
    client = ServiceClient(server.url, WRITER)
    digest = client.put_blob(b"ciphertext")
    assert digest == keccak(b"ciphertext")
    assert client.put_blob(b"ciphertext") == digest  # again: accepted, nothing new
    reader = ServiceClient(server.url)  # no account: reads only
    assert reader.get_blob(digest) == b"ciphertext" and reader.get_blob("0x" + digest.hex()) == b"ciphertext"
    assert reader.has_blob(digest) and not reader.has_blob(keccak(b"other"))
    assert reader.health()["status"] == "ok"


def test_envelope_round_trip_and_conflict(server):
    client = ServiceClient(server.url, WRITER)
    subtask = keccak(b"subtask")
    assert client.put_envelope(subtask, CLAIMANT.address, b"sealed key") is True
    assert client.put_envelope(subtask, CLAIMANT.address, b"sealed key") is False
    assert client.get_envelope(subtask, CLAIMANT.address) == b"sealed key"
    assert client.has_envelope(subtask, CLAIMANT.address) and not client.has_envelope(subtask, WRITER.address)
    with pytest.raises(ServiceRefusedError, match=r"refused PUT .* \(409\): another envelope") as caught:
        client.put_envelope(subtask, CLAIMANT.address, b"other key")
    assert caught.value.status == 409
    reader = ServiceClient(server.url)  # a claimant names the writer it wants: the releaser
    assert reader.get_envelope(subtask, CLAIMANT.address, WRITER.address) == b"sealed key"
    with pytest.raises(InputError, match="an envelope is named by its writer"):
        reader.get_envelope(subtask, CLAIMANT.address)


def test_absent_objects_are_typed_not_found(server):
    client = ServiceClient(server.url)
    with pytest.raises(ServiceNotFoundError, match=r"\(404\): no blob 0x"):
        client.get_blob(keccak(b"absent"))
    with pytest.raises(ServiceNotFoundError, match=r"\(404\): no key envelope"):
        client.get_envelope(keccak(b"absent"), CLAIMANT.address, WRITER.address)


def test_bytes_altered_in_the_service_are_detected_by_the_reader(server):
    digest = keccak(b"genuine")
    engine = server.app.state.service.blobs.engine
    with engine.begin() as conn:  # the service's database turns against the reader: other bytes under the name
        conn.execute(insert(blobs).values(hash="0x" + digest.hex(), kind="ciphertext", data=b"forged", size=6,
                                          created=0, writer=WRITER.address.lower()))
    with pytest.raises(ServiceIntegrityError, match=r"hash to 0x[0-9a-f]{64}: expected bytes matching their hash"):
        ServiceClient(server.url).get_blob(digest)


def test_a_write_without_an_account_is_refused_before_sending(server):
    with pytest.raises(InputError, match="needs an account to sign with"):
        ServiceClient(server.url).put_blob(b"x")


def test_a_service_that_checks_another_domain_refuses_the_signature(server):
    client = ServiceClient(server.url, WRITER, domain="crowdsense.example:443")
    with pytest.raises(ServiceRefusedError, match=r"\(401\): the signature is not"):
        client.put_blob(b"x")


class CountingListener:
    """A loopback port that accepts connections and then drops them or holds them unanswered."""

    def __init__(self, *, hold: bool) -> None:
        from crowdsense.chain.node import free_port

        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", free_port()))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.hold, self.held = hold, []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.hold:
                self.held.append(conn)  # never answered: the client times out
            else:
                conn.close()  # dropped before any answer

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture()
def listener():
    made = []

    def make(*, hold: bool) -> CountingListener:
        made.append(CountingListener(hold=hold))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_dropped_connections_are_retried_for_idempotent_calls_only(listener):
    dropping = listener(hold=False)
    client = ServiceClient(dropping.url, WRITER, retries=2, backoff=0.01)
    with pytest.raises(ServiceUnavailableError, match=r"connection failed after 3 attempt\(s\)"):
        client.get_blob(keccak(b"x"))
    assert dropping.accepted == 3
    with pytest.raises(ServiceUnavailableError, match=r"after 1 attempt\(s\)"):
        client._request("POST", "/v1/anything", body=b"x", idempotent=False)
    assert dropping.accepted == 4  # one more connection, no retry


def test_a_service_that_never_answers_times_out(listener):
    silent = listener(hold=True)
    client = ServiceClient(silent.url, WRITER, timeout=0.3, retries=1, backoff=0.01)
    with pytest.raises(ServiceUnavailableError, match=r"timed out after 2 attempt\(s\)"):
        client.put_blob(b"x")
    assert silent.accepted == 2


def test_nothing_listening_is_unavailable(unused_port):
    with pytest.raises(ServiceUnavailableError, match=rf"service at http://127\.0\.0\.1:{unused_port} is unavailable"):
        ServiceClient(f"http://127.0.0.1:{unused_port}", retries=0).health()


@pytest.mark.parametrize("kwargs, fragment", [
    ({"base_url": "ftp://host"}, "is not usable: expected http://host:port"),
    ({"base_url": "http://host:port"}, "malformed port"),
    ({"base_url": "http://127.0.0.1:1", "timeout": 0}, "timeout must be in"),
    ({"base_url": "http://127.0.0.1:1", "retries": -1}, "retries must be an int"),
    ({"base_url": "http://127.0.0.1:1", "signer": "0xkey"}, "signer must be a Signer"),
])
def test_unusable_client_arguments_are_refused(kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        ServiceClient(**kwargs)


def test_malformed_hashes_and_addresses_are_refused_before_sending():
    client = ServiceClient("http://127.0.0.1:1", WRITER)
    with pytest.raises(InputError, match="is not a 32-byte hash"):
        client.get_blob(b"short")
    with pytest.raises(InputError, match="claimant 'bob' is not an address"):
        client.get_envelope(keccak(b"s"), "bob")
    with pytest.raises(InputError, match="writer 'eve' is not an address"):
        client.get_envelope(keccak(b"s"), CLAIMANT.address, "eve")
