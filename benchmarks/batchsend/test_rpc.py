"""Batched JSON-RPC of :mod:`batchsend.rpc` against a real node and a port nothing listens on."""

from __future__ import annotations

import pytest

from batchsend.errors import NodeConnectionError, RpcError
from batchsend.rpc import RpcClient
from crowdsense.chain.node import free_port
from crowdsense.errors import CrowdsenseError, InputError


def test_rpc_batch_returns_errors_in_place(anvil_url: str) -> None:
    calls = [("eth_chainId", []), ("no_such_method", []), ("eth_blockNumber", [])]
    answers = RpcClient(anvil_url).batch(calls)
    assert int(answers[0], 16) == 31337
    assert isinstance(answers[1], RpcError)
    assert answers[1].method == "no_such_method"
    assert int(answers[2], 16) >= 0


def test_node_down_raises_node_connection_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(NodeConnectionError) as info:
        RpcClient(url, timeout=1).call("eth_chainId")
    assert isinstance(info.value, CrowdsenseError)
    assert info.value.url == url


def test_rpc_client_refuses_a_url_that_is_not_http() -> None:
    with pytest.raises(InputError):
        RpcClient("ws://127.0.0.1:8545")
