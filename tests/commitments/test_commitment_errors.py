"""One error family for every board: the chain's CommitmentVerifier reverts are its members."""

import pytest
from eth_abi import encode as abi_encode

from crowdsense import commitments
from crowdsense.chain import errors as chain_errors
from crowdsense.chain.reverts import decode_revert
from crowdsense.errors import CrowdsenseError, InputError

RULES = ["ZeroCommitmentError", "AlreadyCommittedError", "CommitmentNotFoundError",
         "AlreadyRevealedError", "OpeningMismatchError", "InvalidPayloadLengthError"]
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SAMPLES = {"bytes32": b"\x11" * 32, "address": ALICE, "uint256": 1025}


def test_rule_errors_keep_their_fields_and_name_them_in_the_message():
    err = commitments.OpeningMismatchError(b"\x01" * 32, b"\x02" * 32)
    assert (err.commitment, err.computed) == (b"\x01" * 32, b"\x02" * 32)
    assert "0x" + "01" * 32 in str(err) and "0x" + "02" * 32 in str(err)
    assert isinstance(err, CrowdsenseError)


def test_rule_errors_refuse_a_wrong_number_of_fields():
    with pytest.raises(TypeError):
        commitments.OpeningMismatchError(b"\x01" * 32)


def test_the_root_takes_a_plain_message():
    assert str(commitments.CommitmentError("node unreachable")) == "node unreachable"


@pytest.mark.parametrize("name", ["ZeroCommitmentError", "InvalidPayloadLengthError"])
def test_input_rules_are_input_errors(name):
    assert issubclass(getattr(commitments, name), InputError)


@pytest.mark.parametrize("name", RULES)
def test_each_decoded_revert_is_the_board_error_of_the_same_name(name):
    cls = getattr(chain_errors, name)
    data = chain_errors.error_selector(cls.solidity_name, cls.abi_types)
    data += abi_encode(list(cls.abi_types), [SAMPLES[t] for t in cls.abi_types])
    decoded = decode_revert(data)
    assert isinstance(decoded, getattr(commitments, name))
    assert isinstance(decoded, chain_errors.ContractRevertError)
    for field, abi_type in zip(cls.fields, cls.abi_types):
        assert getattr(decoded, field) == SAMPLES[abi_type]
