"""The platform's selection of a task's receivers: leaves as the contract computes them, proofs."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address

from crowdsense.errors import InputError
from crowdsense.ldpf.selection import Selection, SelectionProof, selection_leaf

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ACCOUNTS = [to_checksum_address("0x" + f"{i:040x}") for i in range(1, 8)]


@pytest.fixture(scope="module")
def selection() -> Selection:
    return Selection.build(ACCOUNTS, chain_id=31337, registry=REGISTRY, task_id=4)


def test_leaf_is_the_documented_encoding():
    salt = bytes(range(32))
    domain = keccak(encode(["uint256", "address"], [31337, REGISTRY]))
    expected = keccak(keccak(encode(["bytes32", "uint256", "address", "bytes32"], [domain, 4, ACCOUNTS[0], salt])))
    assert selection_leaf(31337, REGISTRY, 4, ACCOUNTS[0], salt) == expected


def test_every_selected_account_has_a_proof_to_the_root(selection):
    for account in ACCOUNTS:
        proof = selection.proof_of(account.lower())
        assert proof.account == account and proof.root == selection.root and proof.verify()
    assert ACCOUNTS[3] in selection and "0x" + "ab" * 20 not in selection


def test_a_proof_is_for_one_task_account_and_salt(selection):
    proof = selection.proof_of(ACCOUNTS[2])
    for changed in ({"task_id": 5}, {"account": ACCOUNTS[3]}, {"salt": b"\x01" * 32}, {"chain_id": 1}):
        assert not SelectionProof(**{**proof.__dict__, **changed}).verify()


def test_salts_differ_per_account_and_roots_per_seed(selection):
    salts = {selection.proof_of(a).salt for a in ACCOUNTS}
    assert len(salts) == len(ACCOUNTS)
    again = Selection.build(ACCOUNTS, chain_id=31337, registry=REGISTRY, task_id=4)
    assert again.root != selection.root  # a fresh seed: a root says nothing about who is under it


def test_the_record_serves_the_same_proofs(selection):
    kept = Selection.from_json(json.loads(json.dumps(selection.to_json())))
    assert kept.root == selection.root and kept.proof_of(ACCOUNTS[1]) == selection.proof_of(ACCOUNTS[1])
    tampered = {**selection.to_json(), "accounts": ACCOUNTS[:-1]}
    with pytest.raises(InputError, match="another root"):
        Selection.from_json(tampered)


def test_proof_json_round_trip_and_checks(selection):
    doc = json.loads(json.dumps(selection.proof_of(ACCOUNTS[0]).to_json()))
    assert SelectionProof.from_json(doc) == selection.proof_of(ACCOUNTS[0])
    with pytest.raises(InputError, match="does not lead to root"):
        SelectionProof.from_json({**doc, "taskId": 9})
    with pytest.raises(InputError, match="exactly the keys"):
        SelectionProof.from_json({**doc, "extra": 1})
    with pytest.raises(InputError, match="expected hex strings"):
        SelectionProof.from_json({**doc, "salt": "0x12"})


@pytest.mark.parametrize("accounts, message", [([], "none"), ([ACCOUNTS[0], ACCOUNTS[0].lower()], "twice"),
                                               (["0x1234"], "not an address")])
def test_bad_selections_are_refused(accounts, message):
    with pytest.raises(InputError, match=message):
        Selection.build(accounts, chain_id=1, registry=REGISTRY, task_id=0)


def test_an_account_not_selected_has_no_proof(selection):
    with pytest.raises(InputError, match="not selected for task 4"):
        selection.proof_of("0x" + "ab" * 20)
