"""CTBC between real parties over HTTP (crowdsense.services.edge_routes, ctbc_routes, ctbc_client):
the edge, the anonymizer and the platform as three services with three operators, users with
their own keys, locations and journals, a real chain, each database engine.

What is checked is computed here from the users' locations (who is near the task), not taken
from the services; and what each party holds is checked to be what the protocol allows it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests
from sqlalchemy import create_engine, select

from crowdsense.chain.accounts import dev_signer
from crowdsense.chain.boards import ChainCommitmentBoard, JournalSecretStore
from crowdsense.chain.journal import Journal
from crowdsense.ldpf.city import project_lonlat
from crowdsense.services.client import ServiceRefusedError
from crowdsense.services.ctbc_client import (
    AnonymizerClient,
    CtbcClient,
    EdgeClient,
    commit_epoch,
    join_epoch,
    local_task,
    reveal_task,
)
from crowdsense.ldpf.ctbc.sealed import write_platform_key
from crowdsense.services.ctbc_routes import CtbcConfig

ORIGIN = (-22.90, -43.20)
CENTRE = "-22.9010,-43.2010"
#: dev account -> location: three users within about 100 m of the task, two about 600 m away,
#: two 3 km away (outside the task's region of 1 km either side).
LOCATIONS = {3: "-22.9012,-43.2011", 4: "-22.9008,-43.2009", 5: "-22.9011,-43.2006",
             6: "-22.8960,-43.2030", 7: "-22.8958,-43.2034", 8: "-22.8740,-43.2200", 9: "-22.8742,-43.2205"}
K, N = 2, 2


def _metres_to_centre(index: int) -> float:
    pts = project_lonlat(np.array([[float(v) for v in s.split(",")] for s in (LOCATIONS[index], CENTRE)]),
                         origin=ORIGIN)
    return float(np.hypot(*(pts[0] - pts[1])))


@pytest.fixture()
def parties(serve_in_thread: Any, database_url: str, fresh_env: Any, tmp_path: Path) -> Any:
    """The edge (operator dev 0), the anonymizer (dev 1) and the platform (dev 2) as three services."""
    env = fresh_env
    key_file = tmp_path / "ctbc-key.json"
    write_platform_key(key_file)
    edge = serve_in_thread(roles={"edge": env.roles.admin.address}, database_url=database_url)
    anonymizer = serve_in_thread(roles={"anonymizer": env.roles.registrar.address}, database_url=database_url)
    platform = serve_in_thread(roles={"ctbc": CtbcConfig(key_file, env.roles.releaser.address, rpc_url=env.url,
                                                         deployment=env.deployment_path)},
                               database_url=database_url)

    class Parties:
        pass

    p = Parties()
    p.env, p.edge, p.anonymizer, p.platform, p.tmp, p.database_url = env, edge, anonymizer, platform, tmp_path, \
        database_url
    with EdgeClient(edge.url, env.roles.admin) as operator:
        p.epoch = operator.open_epoch(ORIGIN)["epoch"]
        operator.register([dev_signer(i).address for i in LOCATIONS] + [env.roles.releaser.address])
    return p


def _user(p: Any, index: int) -> tuple[Any, Journal, Any]:
    signer = dev_signer(index)
    journal = Journal(p.tmp / f"user-{index}.sqlite")
    return signer, journal, ChainCommitmentBoard(p.env.conn).as_account(signer, journal)


def _join_and_commit(p: Any, users: Any = LOCATIONS) -> None:
    for i in users:
        with EdgeClient(p.edge.url, dev_signer(i)) as edge, AnonymizerClient(p.anonymizer.url, dev_signer(i)) as anon:
            join_epoch(edge, anon, p.epoch, LOCATIONS[i])
    with AnonymizerClient(p.anonymizer.url, p.env.roles.registrar) as operator:
        grouped = operator.group(p.epoch, K)
    assert grouped["users"] == len(users)
    for i in users:
        _, journal, board = _user(p, i)
        try:
            with AnonymizerClient(p.anonymizer.url, dev_signer(i)) as anon, \
                    CtbcClient(p.platform.url, dev_signer(i)) as platform:
                commit_epoch(anon, platform, p.epoch, board=board, secret_store=JournalSecretStore(journal, p.env.conn))
        finally:
            journal.close()


def _open_task(p: Any, task_id: str = "t1") -> dict[str, Any]:
    operator = p.env.roles.releaser
    with EdgeClient(p.edge.url, operator) as edge, CtbcClient(p.platform.url, operator) as platform:
        params = edge.epoch(p.epoch)
        task = local_task(params, CENTRE, n_required=N, half_width=1000.0, half_height=1000.0)
        return platform.open_task(task_id, epoch=p.epoch, k=K, task=params.transform.forward_task(task))


def _reveal(p: Any, index: int, task_id: str = "t1") -> dict[str, Any]:
    _, journal, board = _user(p, index)
    try:
        with CtbcClient(p.platform.url, dev_signer(index)) as platform:
            return reveal_task(platform, task_id, board=board, secret_store=JournalSecretStore(journal, p.env.conn))
    finally:
        journal.close()


def _selection(p: Any, task_id: str = "t1") -> dict[str, Any]:
    with CtbcClient(p.platform.url, p.env.roles.releaser) as operator:
        return operator.selection(task_id)


def test_users_on_their_own_keys_are_selected_near_the_task_and_verified_on_chain(parties):
    p = parties
    _join_and_commit(p)
    opened = _open_task(p)
    inside = [i for i in LOCATIONS if _metres_to_centre(i) < 1000]
    assert opened["candidates"] == len(inside) and opened["asked"] == N
    answers = {i: _reveal(p, i) for i in LOCATIONS}
    selected = {i for i, a in answers.items() if a["state"] == "selected"}
    assert len(selected) == N
    # the two selected stand in the cluster nearest the task (within 150 m), none of the far ones
    assert all(_metres_to_centre(i) < 150 for i in selected)
    final = _selection(p)
    assert final["complete"] and set(final["selected"]) == {dev_signer(i).address for i in selected}
    assert final["failed"] == {} and final["asked"] == []
    # the anonymizer holds transformed positions only: none is a user's local position
    engine = create_engine(p.database_url.replace("postgresql://", "postgresql+psycopg://"))
    from crowdsense.services.db import anon_positions

    with engine.connect() as db:
        rows = list(db.execute(select(anon_positions.c.x, anon_positions.c.y)))
    engine.dispose()
    local = project_lonlat(np.array([[float(v) for v in LOCATIONS[i].split(",")] for i in LOCATIONS]), origin=ORIGIN)
    held = np.array([[float.fromhex(r.x), float.fromhex(r.y)] for r in rows])
    assert len(held) == len(LOCATIONS)
    assert np.min(np.abs(held[:, None, :] - local[None, :, :]).sum(axis=2)) > 1.0


def test_an_opening_that_does_not_verify_excludes_the_user_and_asks_the_next(parties):
    p = parties
    _join_and_commit(p)
    _open_task(p)
    asked = [i for i in LOCATIONS if _state(p, i) == "asked"]
    assert len(asked) == N
    cheat = asked[0]
    signer, journal, _ = _user(p, cheat)
    try:
        opening = JournalSecretStore(journal, p.env.conn).get(f"ctbc/bit/{p.epoch}/{signer.address}")
    finally:
        journal.close()
    with CtbcClient(p.platform.url, signer) as platform, pytest.raises(ServiceRefusedError) as refused:
        platform.reveal("t1", bytes.fromhex(opening["commitment"]), bytes(32), bytes.fromhex(opening["payload"]))
    assert refused.value.status == 422 and "excluded" in refused.value.error
    after = _selection(p)
    assert after["failed"] == {signer.address: "the opening does not verify against the upload and the chain"}
    assert len(after["asked"]) == N  # the replacement is asked
    assert _state(p, cheat) == "failed"


def test_the_operator_replaces_users_who_never_reveal(parties):
    p = parties
    _join_and_commit(p)
    _open_task(p)
    with CtbcClient(p.platform.url, p.env.roles.releaser) as operator:
        first = operator.selection("t1")["asked"]
        expired = operator.expire("t1")
        after = operator.selection("t1")
    assert {a.lower() for a in expired["excluded"]} == {a.lower() for a in first}
    assert set(after["failed"]) == set(first) and len(after["asked"]) == N and not set(after["asked"]) & set(first)


def _state(p: Any, index: int) -> str:
    with CtbcClient(p.platform.url, dev_signer(index)) as platform:
        return str(platform.me("t1")["state"])


def test_each_party_refuses_what_it_must(parties):
    p = parties
    mallory = dev_signer(11)
    with EdgeClient(p.edge.url, mallory) as edge, pytest.raises(ServiceRefusedError) as refused:
        edge.epoch(p.epoch)  # not registered: no transform
    assert refused.value.status == 403
    with EdgeClient(p.edge.url, mallory) as edge, pytest.raises(ServiceRefusedError) as refused:
        edge.open_epoch(ORIGIN)
    assert refused.value.status == 403
    _join_and_commit(p, {3: LOCATIONS[3], 4: LOCATIONS[4], 5: LOCATIONS[5]})
    with AnonymizerClient(p.anonymizer.url, dev_signer(6)) as anon, pytest.raises(ServiceRefusedError) as refused:
        anon.send_position(p.epoch, (1.0, 2.0))  # after grouping
    assert refused.value.status == 409
    # an upload whose commitment is not on chain under its sender
    signer, journal, _ = _user(p, 3)
    try:
        opening = JournalSecretStore(journal, p.env.conn).get(f"ctbc/bit/{p.epoch}/{signer.address}")
    finally:
        journal.close()
    with CtbcClient(p.platform.url, dev_signer(6)) as platform, pytest.raises(ServiceRefusedError) as refused:
        platform.upload(p.epoch, bytes.fromhex(opening["commitment"]), bytes.fromhex(opening["ud"]),
                        bytes.fromhex(opening["payload"]))
    assert refused.value.status == 422  # sealed to user 3, and committed by user 3
    with CtbcClient(p.platform.url, mallory) as platform, pytest.raises(ServiceRefusedError) as refused:
        platform.open_task("t2", epoch=p.epoch, k=K, task=local_task(
            EdgeClient(p.edge.url, p.env.roles.releaser).epoch(p.epoch), CENTRE, n_required=1,
            half_width=10.0, half_height=10.0))
    assert refused.value.status == 403
    # the transformed task is never served
    assert requests.get(f"{p.platform.url}/v1/ctbc/tasks/t1", timeout=10).status_code in (404, 405)
    # each service says which role it plays, and the roles it lacks answer 404
    roles = {name: requests.get(f"{getattr(p, name).url}/v1/health", timeout=10).json()["roles"]
             for name in ("edge", "anonymizer", "platform")}
    assert roles == {"edge": ["blobs", "edge"], "anonymizer": ["blobs", "anonymizer"], "platform": ["blobs", "ctbc"]}
    assert requests.get(f"{p.edge.url}/v1/ctbc/key", timeout=10).status_code == 404
