"""Connecting: node down, transient failures retried, deployment file checked against the chain."""

from __future__ import annotations

import json

import pytest

from crowdsense.chain.connection import RetryingHTTPProvider, connect, open_connection, verify_deployment
from crowdsense.chain.errors import NodeUnavailableError
from crowdsense.chain.deployment import Deployment
from crowdsense.errors import DeploymentError, InputError


def test_connect_node_down_is_a_clear_error(unused_port):
    url = f"http://127.0.0.1:{unused_port}"
    with pytest.raises(NodeUnavailableError) as caught:
        connect(url, retries=2, backoff=0.01)
    assert str(caught.value) == f"node at {url} is unavailable: connection failed (ConnectionError) after 3 attempts"
    assert (caught.value.url, caught.value.reason) == (url, "connection failed (ConnectionError) after 3 attempts")


def test_retries_back_off_exponentially_up_to_the_cap(unused_port):
    """Delays ``backoff * 2**i`` capped at ``max_backoff``, one per retry, none after the last attempt."""
    delays: list[float] = []
    provider = RetryingHTTPProvider(f"http://127.0.0.1:{unused_port}", retries=4, backoff=0.5, max_backoff=3.0,
                                    sleep=delays.append)
    with pytest.raises(NodeUnavailableError, match="after 5 attempts"):
        provider.make_request("eth_chainId", [])
    assert delays == [0.5, 1.0, 2.0, 3.0]
    assert provider.retry_count == 4


def test_connect_rejects_non_http_url():
    with pytest.raises(InputError, match="http"):
        connect("ws://127.0.0.1:8545")


def test_connect_retries_transient_http_errors(flaky_proxy):
    flaky_proxy.fail_next = 3
    w3 = connect(flaky_proxy.url, retries=4, backoff=0.01)
    assert w3.eth.chain_id == 31337
    assert flaky_proxy.failures == 3 and w3.provider.retry_count == 3


def test_connect_gives_up_after_the_retries(flaky_proxy):
    flaky_proxy.fail_next = 10
    with pytest.raises(NodeUnavailableError) as caught:
        connect(flaky_proxy.url, retries=2, backoff=0.01)
    assert caught.value.reason == "HTTP 503 after 3 attempts"
    assert flaky_proxy.failures == 3 and flaky_proxy.forwarded == []


def test_connect_hung_node_times_out(flaky_proxy):
    flaky_proxy.stall_next, flaky_proxy.stall_seconds = 2, 1.0
    with pytest.raises(NodeUnavailableError) as caught:
        connect(flaky_proxy.url, timeout=0.2, retries=1, backoff=0.01)
    assert caught.value.reason == "no answer within 0.2 s after 2 attempts"
    assert flaky_proxy.failures == 2 and flaky_proxy.forwarded == []  # both attempts reached the hung node


def test_open_connection_missing_deployment_file(node_url, tmp_path):
    missing = tmp_path / "nowhere.json"
    with pytest.raises(DeploymentError, match=f"deployment file {missing} not found.*crowdsense deploy"):
        open_connection(node_url, missing)


def test_open_connection_wrong_chain_id(env, tmp_path):
    raw = json.loads(env.deployment_path.read_text())
    raw["chainId"] = 1
    wrong = tmp_path / "1.json"
    wrong.write_text(json.dumps(raw))
    with pytest.raises(DeploymentError, match="is for chain id 1, but the node reports chain id 31337"):
        open_connection(env.url, wrong)


def test_open_connection_no_code_at_address(env, tmp_path):
    raw = json.loads(env.deployment_path.read_text())
    raw["contracts"]["TaskRegistry"]["address"] = "0x" + "42" * 20
    bad = tmp_path / "nocode.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(DeploymentError, match="no contract code at 0x4242.*TaskRegistry"):
        open_connection(env.url, bad)


def test_open_connection_loads_both_contracts(env):
    conn = open_connection(env.url, env.deployment_path)
    dep = Deployment.load(env.deployment_path)
    assert conn.registry.address == dep.address("TaskRegistry")
    assert conn.registry.functions.numLevels().call() == 3
    verify_deployment(conn.w3, dep)  # does not raise


def test_deploy_contracts_assigns_roles(env):
    from crowdsense.chain.registry import TaskRegistryClient

    reader = TaskRegistryClient(env.conn)
    assert reader.has_role("admin", env.roles.admin.address)
    assert reader.has_role("registrar", env.roles.registrar.address)
    assert not reader.has_role("registrar", env.roles.admin.address)
    assert reader.has_role("releaser", env.roles.releaser.address)
