"""Revert decoding: one typed class per ABI error, selectors from first principles."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address

from crowdsense.chain import errors, reverts
from crowdsense.chain.deployment import CONTRACT_NAMES, load_abi

ALICE = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"


def _abi_errors() -> dict[str, list[dict]]:
    found = {}
    for name in CONTRACT_NAMES:
        for item in load_abi(name):
            if item["type"] == "error":
                found[item["name"]] = item["inputs"]
    return found


def _selector(name: str, inputs: list[dict]) -> bytes:
    signature = f"{name}({','.join(i['type'] for i in inputs)})"
    return keccak(signature.encode())[:4]


def test_every_abi_error_has_a_class():
    classes = {cls.solidity_name for cls in errors.REVERT_CLASSES}
    assert set(_abi_errors()) == classes


@pytest.mark.parametrize("name", sorted(_abi_errors()))
def test_decode_revert_returns_the_class_of_each_selector(name):
    inputs = _abi_errors()[name]
    samples = {"uint256": 7, "uint8": 2, "uint32": 4, "uint64": 5, "address": ALICE, "bytes32": b"\x11" * 32}
    args = [samples[i["type"]] for i in inputs]
    data = _selector(name, inputs) + abi_encode([i["type"] for i in inputs], args)
    decoded = reverts.decode_revert("0x" + data.hex())
    assert decoded.solidity_name == name
    for spec, value in zip(inputs, args):
        expected = to_checksum_address(value) if spec["type"] == "address" else value
        assert getattr(decoded, spec["name"]) == expected
    assert decoded.pre_check is False


def test_decode_revert_level_mismatch_message_names_levels_and_receiver():
    data = _selector("TaskRegistryLevelMismatch", [{"type": "address"}, {"type": "uint8"}, {"type": "uint8"}])
    data += abi_encode(["address", "uint8", "uint8"], [ALICE, 2, 1])
    err = reverts.decode_revert(data)
    assert isinstance(err, errors.LevelMismatchError)
    assert str(err) == f"level mismatch: subtask needs level 2, receiver {to_checksum_address(ALICE)} has level 1"


def test_decode_revert_unauthorized_names_the_role():
    role = keccak(text="REGISTRAR_ROLE")
    data = _selector("AccessControlUnauthorizedAccount", [{"type": "address"}, {"type": "bytes32"}])
    data += abi_encode(["address", "bytes32"], [ALICE, role])
    err = reverts.decode_revert(data)
    assert isinstance(err, errors.UnauthorizedAccountError)
    assert "REGISTRAR_ROLE" in str(err) and err.neededRole == role


def test_decode_revert_unknown_selector_gives_unknown_error():
    err = reverts.decode_revert(b"\xde\xad\xbe\xef" + b"\x00" * 32)
    assert isinstance(err, errors.UnknownRevertError)
    assert "0xdeadbeef" in str(err)


def test_decode_revert_empty_data_gives_unknown_error():
    assert isinstance(reverts.decode_revert(b""), errors.UnknownRevertError)


def test_decode_revert_string_reason():
    data = keccak(text="Error(string)")[:4] + abi_encode(["string"], ["nope"])
    err = reverts.decode_revert(data)
    assert isinstance(err, errors.RevertStringError) and err.reason == "nope"


def test_decode_revert_truncated_arguments_gives_unknown_error():
    data = _selector("TaskRegistryUnknownTask", [{"type": "uint256"}]) + b"\x01"
    assert isinstance(reverts.decode_revert(data), errors.UnknownRevertError)


def test_revert_errors_are_crowdsense_errors():
    from crowdsense.errors import CrowdsenseError

    assert issubclass(errors.AlreadyClaimedError, CrowdsenseError)
    assert issubclass(errors.NodeUnavailableError, ConnectionError)


def test_pre_check_error_keeps_keyword_fields_and_flag():
    err = errors.AlreadyHoldsSubtaskError(taskId=3, receiver=ALICE, heldIndex=1, pre_check=True)
    assert err.pre_check and err.taskId == 3 and err.heldIndex == 1
    assert json.loads(json.dumps(err.to_json()))["args"]["receiver"] == to_checksum_address(ALICE)


def test_revert_error_rejects_unknown_field():
    with pytest.raises(TypeError):
        errors.TaskClosedError(taskId=1, index=2)


def test_every_contract_error_class_has_its_solidity_name_and_a_message():
    for cls in errors.REVERT_CLASSES:
        assert cls.solidity_name.startswith(("TaskRegistry", "CommitmentVerifier", "AccessControl"))
        assert cls.template and cls.template != "{solidity_name}"


def test_call_decoded_raises_the_typed_revert_of_a_web3_error():
    from web3.exceptions import ContractCustomError

    data = _selector("TaskRegistryUnknownTask", [{"type": "uint256"}]) + abi_encode(["uint256"], [41])

    def reverting_call():
        raise ContractCustomError("0x" + data.hex(), data="0x" + data.hex())

    with pytest.raises(errors.UnknownTaskError, match="unknown task 41") as caught:
        reverts.call_decoded(reverting_call)
    assert caught.value.pre_check is False


def test_call_decoded_passes_arguments_and_results_through():
    assert reverts.call_decoded(divmod, 7, 2) == (3, 1)


def test_call_decoded_leaves_node_and_other_errors_alone():
    def down():
        raise errors.NodeUnavailableError("http://127.0.0.1:1", "connection refused")

    def broken():
        raise KeyError("not a revert")

    with pytest.raises(errors.NodeUnavailableError):
        reverts.call_decoded(down)
    with pytest.raises(KeyError):
        reverts.call_decoded(broken)


def test_decryption_error_belongs_to_the_package_root_so_ciphers_need_no_client():
    from crowdsense import errors as root

    assert errors.DecryptionError is root.DecryptionError
    assert issubclass(root.DecryptionError, (root.CrowdsenseError, ValueError))


def test_receipt_timeout_promises_a_resume_only_for_a_journaled_transaction():
    from crowdsense.chain.errors import ReceiptTimeoutError

    journaled, bare = ReceiptTimeoutError("0xab", 2.5), ReceiptTimeoutError("0xab", 2.5, journaled=False)
    assert "crowdsense resume" in str(journaled) and "after 2.5 s" in str(journaled)
    assert "resume" not in str(bare) and "journaled" not in str(bare) and "may still be mined" in str(bare)
