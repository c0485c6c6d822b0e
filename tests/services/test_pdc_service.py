"""The PDC platform over HTTP (crowdsense.services.pdc_routes, pdc_client): real parties with
their own keys and journals, a real service on each database engine, a real chain.

Distances are checked against the Manhattan distance of the grid points computed here from the
region (not against anything the service says); a round is checked to survive SIGKILL of the
service between a receiver's query and its reveal.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import requests

from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
from crowdsense.chain.journal import Journal
from crowdsense.chain.node import free_port
from crowdsense.ldpf.pdc.receiver import Receiver
from crowdsense.ldpf.pdc.region import GridRegion
from crowdsense.services.client import ServiceNotFoundError, ServiceRefusedError
from crowdsense.services.pdc_client import PdcClient, answer_task
from crowdsense.services.pdc_routes import PdcConfig

#: A 40 x 30 grid of 50 m cells in the west of Rio de Janeiro, and a task centre in it.
REGION = GridRegion(origin=(-22.95, -43.30), step=50.0, width=40, height=30)
CENTRE = "-22.942,-43.291"
#: Receivers (dev accounts 3..6) and where each stands.
LOCATIONS = {3: "-22.945,-43.295", 4: "-22.937,-43.282", 5: "-22.949,-43.299", 6: "-22.9425,-43.2915"}

pytestmark = pytest.mark.filterwarnings("ignore::crowdsense.ldpf.pdc.errors.WeakKeyWarning")


def manhattan(a: tuple[int, int], b: tuple[int, int]) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


@pytest.fixture()
def platform(serve_in_thread: Any, database_url: str, fresh_env: Any, pdc_key_file: Path) -> Any:
    """A service that is the PDC platform (operator: the admin account), on each engine."""
    config = PdcConfig(pdc_key_file, fresh_env.roles.admin.address, rpc_url=fresh_env.url,
                       deployment=fresh_env.deployment_path)
    server = serve_in_thread(pdc=config, database_url=database_url)
    server.env = fresh_env
    return server


def _signer(index: int) -> Any:
    from crowdsense.chain.accounts import dev_signer

    return dev_signer(index)


def _answer(server: Any, index: int, tmp: Path, task_id: str = "t1", location: str | None = None) -> Any:
    """Dev account ``index`` answers ``task_id`` with its own journal, as `crowdsense pdc answer` does."""
    env, signer = server.env, _signer(index)
    journal = Journal(tmp / f"receiver-{index}.sqlite")
    try:
        board = ChainCommitmentBoard(env.conn).as_account(signer, journal)
        with PdcClient(server.url, signer) as client:
            return answer_task(client, task_id, location or LOCATIONS[index], board=board,
                               secret_store=JournalSecretStore(journal, env.conn))
    finally:
        journal.close()


def _open(server: Any, task_id: str = "t1") -> Any:
    with PdcClient(server.url, server.env.roles.admin) as operator:
        return operator.open_task(task_id, REGION, CENTRE)


def test_a_round_over_http_gives_each_receiver_its_distance_and_the_operator_the_nearest(platform, tmp_path):
    message, region = _open(platform)
    assert region == REGION and message.grid == REGION.grid
    centre = REGION.point(CENTRE)
    got = {i: _answer(platform, i, tmp_path) for i in LOCATIONS}
    for i, result in got.items():
        assert result.point == REGION.point(LOCATIONS[i])
        assert result.distance == manhattan(result.point, centre)
    with PdcClient(platform.url, platform.env.roles.admin) as operator:
        answers = operator.answers("t1")
    expected = {_signer(i).address: manhattan(REGION.point(loc), centre) for i, loc in LOCATIONS.items()}
    assert answers["accepted"] == expected and answers["rejected"] == {} and answers["pending"] == []
    # anyone may read the task; what it shows is the encrypted centre and the region, no centre
    public = requests.get(f"{platform.url}/v1/pdc/tasks/t1", timeout=10).json()
    assert public["region"] == REGION.to_json() and CENTRE not in json.dumps(public)


def test_answering_again_finishes_nothing_twice_and_says_the_same(platform, tmp_path):
    _open(platform)
    first = _answer(platform, 3, tmp_path)
    assert _answer(platform, 3, tmp_path) == first  # the journal says revealed; the service repeats itself


def test_a_receiver_cannot_answer_in_another_receivers_name(platform, tmp_path):
    message, _ = _open(platform)
    env, alice, mallory = platform.env, _signer(3), _signer(7)
    journal = Journal(tmp_path / "alice.sqlite")
    receiver = Receiver(REGION.point(LOCATIONS[3]), REGION.grid, board=ChainCommitmentBoard(env.conn)
                        .as_account(alice, journal), secret_store=JournalSecretStore(journal, env.conn))
    query = receiver.respond(message)
    with PdcClient(platform.url, mallory) as client, pytest.raises(ServiceRefusedError) as refused:
        client.query(query)
    assert refused.value.status == 403 and "signed by " + mallory.address in str(refused.value)
    journal.close()


def test_a_receiver_lying_about_r_is_caught_and_only_its_committed_r_passes(platform, tmp_path):
    message, _ = _open(platform)
    env, alice = platform.env, _signer(3)
    journal = Journal(tmp_path / "alice.sqlite")
    receiver = Receiver(REGION.point(LOCATIONS[3]), REGION.grid, board=ChainCommitmentBoard(env.conn)
                        .as_account(alice, journal), secret_store=JournalSecretStore(journal, env.conn))
    with PdcClient(platform.url, alice) as client:
        reveal = receiver.finish(client.query(receiver.respond(message)))
        with pytest.raises(ServiceRefusedError) as caught:
            client.reveal(dataclasses.replace(reveal, r=reveal.r + 1))  # claims a shorter distance
        assert caught.value.status == 422 and "caught" in str(caught.value)
        # the query stays pending: the committed r still passes
        assert client.reveal(reveal) == manhattan(REGION.point(LOCATIONS[3]), REGION.point(CENTRE))
    journal.close()


def test_refusals_say_what_was_wrong(platform, tmp_path):
    env = platform.env
    with PdcClient(platform.url, _signer(3)) as stranger, pytest.raises(ServiceRefusedError) as refused:
        stranger.open_task("t1", REGION, CENTRE)
    assert refused.value.status == 403 and "not this platform's operator" in str(refused.value)
    with PdcClient(platform.url) as anyone, pytest.raises(ServiceNotFoundError):
        anyone.task("t9")
    _open(platform)
    with PdcClient(platform.url, env.roles.admin) as operator, pytest.raises(ServiceRefusedError) as again:
        operator.open_task("t1", REGION, CENTRE)
    assert again.value.status == 409 and "already open" in str(again.value)
    with PdcClient(platform.url, env.roles.admin) as operator, pytest.raises(ServiceRefusedError) as outside:
        operator.open_task("t2", REGION, "-22.80,-43.10")
    assert outside.value.status == 422 and "outside the task's region" in str(outside.value)
    unsigned = requests.post(f"{platform.url}/v1/pdc/tasks/t1/queries", data=b"{not json", timeout=10)
    assert unsigned.status_code == 401  # authenticated before anything is parsed
    with PdcClient(platform.url, _signer(3)) as alice, pytest.raises(ServiceRefusedError) as bad:
        alice._json("POST", "/v1/pdc/tasks/t1/queries", {"type": "ldpf-pdc/query"}, signed=True)
    assert bad.value.status == 400 and "the query is malformed" in str(bad.value)
    assert requests.get(f"{platform.url}/v1/health", timeout=10).json()["roles"] == ["blobs", "pdc"]


def test_a_service_without_a_key_is_no_platform(serve_in_thread, tmp_path):
    server = serve_in_thread(database_url=f"sqlite:///{tmp_path}/plain.sqlite")
    answer = requests.get(f"{server.url}/v1/pdc/tasks/t1", timeout=10)
    assert answer.status_code == 404 and "not a PDC platform" in answer.json()["error"]


def test_a_platform_killed_between_query_and_reveal_completes_the_round(service_process, database_url, fresh_env,
                                                                        pdc_key_file, tmp_path):
    env, alice = fresh_env, _signer(3)
    options = ("--pdc-key", str(pdc_key_file), "--pdc-operator", env.roles.admin.address, "--rpc-url", env.url,
               "--deployment", str(env.deployment_path))
    service = service_process(database_url, *options)
    with PdcClient(service.url, env.roles.admin) as operator:
        message, _ = operator.open_task("t1", REGION, CENTRE)
    journal = Journal(tmp_path / "alice.sqlite")
    receiver = Receiver(REGION.point(LOCATIONS[3]), REGION.grid, board=ChainCommitmentBoard(env.conn)
                        .as_account(alice, journal), secret_store=JournalSecretStore(journal, env.conn))
    with PdcClient(service.url, alice) as client:
        decryption = client.query(receiver.respond(message))
    service.kill()  # SIGKILL: the pending answer is only in the database now
    service.port = free_port()  # on another port: the old one may be taken meanwhile by a parallel test
    service.url = f"http://127.0.0.1:{service.port}"
    service.start()
    with PdcClient(service.url, alice) as client:
        assert client.query(receiver.stored_query("t1")) == decryption  # asked again: the same answer
        distance = client.reveal(receiver.finish(decryption))
    assert distance == manhattan(REGION.point(LOCATIONS[3]), REGION.point(CENTRE))
    with PdcClient(service.url, env.roles.admin) as operator:
        assert operator.answers("t1")["accepted"] == {alice.address: distance}
    journal.close()
