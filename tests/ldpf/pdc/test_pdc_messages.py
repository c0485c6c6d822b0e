"""JSON messages: round trips, phe compatibility, strict parsing of malformed or tampered text."""

import json

import pytest

from crowdsense.errors import InputError
from crowdsense.ldpf.pdc import (
    DecryptionMessage,
    EncryptedDistanceMessage,
    Grid,
    MessageError,
    QueryMessage,
    RevealMessage,
    TaskMessage,
    encode_point,
    parse_message,
)
from crowdsense.ldpf.pdc.fastpaillier import PrivateEngine
from crowdsense.ldpf.pdc.protocol import encrypt_task

H32 = bytes(range(32))


@pytest.fixture
def task(keypair):
    return encrypt_task(PrivateEngine(keypair[1]), "task-1", Grid(4, 3), (1, 2))


@pytest.fixture
def others():
    return [
        QueryMessage(task_id="task-1", task_digest=H32, receiver="0xAbC", commitment=H32[::-1], z=123456789),
        DecryptionMessage(task_id="task-1", receiver="alice", commitment=H32, plaintext=10**30, randomness=7),
        RevealMessage(task_id="task-1", receiver="alice", commitment=H32, r=2**255, salt=H32[::-1]),
        EncryptedDistanceMessage(task_id="t", task_digest=H32, receiver="bob", z=5),
    ]


def _tamper(message, **changes):
    obj = json.loads(message.to_json())
    obj.update(changes)
    return json.dumps(obj)


def test_task_message_round_trips(task):
    assert TaskMessage.from_json(task.to_json()) == task


def test_other_messages_round_trip(others):
    for message in others:
        assert type(message).from_json(message.to_json()) == message
        assert parse_message(message.to_json()) == message


def test_parse_message_dispatches_on_type(task):
    assert isinstance(parse_message(task.to_json().encode()), TaskMessage)


def test_task_ciphertexts_are_decimal_strings_with_exponent(task):
    item = json.loads(task.to_json())["ciphertexts"][0]
    assert set(item) == {"ciphertext", "exponent"}
    assert item["exponent"] == 0 and item["ciphertext"].isdigit()


def test_task_ciphertexts_decrypt_with_phe_to_encode1(task, keypair):
    _, sk = keypair
    values = TaskMessage.from_json(task.to_json()).encrypted_numbers()
    assert [sk.decrypt(v) for v in values] == encode_point((1, 2), Grid(4, 3), scheme=1).tolist()


def test_task_digest_changes_with_any_ciphertext(task):
    changed = list(task.ciphertexts)
    changed[3] = changed[3] + 1
    other = TaskMessage(task.task_id, task.grid, task.public_key_n, tuple(changed))
    assert other.digest != task.digest
    assert len(task.digest) == 32


def test_task_digest_is_stable_across_json(task):
    assert TaskMessage.from_json(task.to_json()).digest == task.digest


@pytest.mark.parametrize(
    "text, match",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"type": "ldpf-pdc/nope"}', "unknown message type"),
        (b"\xff\xfe", "UTF-8"),
    ],
)
def test_parse_message_rejects_garbage(text, match):
    with pytest.raises(MessageError, match=match):
        parse_message(text)


def test_from_json_rejects_wrong_type(others):
    with pytest.raises(MessageError, match="expected a 'ldpf-pdc/reveal'"):
        RevealMessage.from_json(others[0].to_json())


def test_from_json_rejects_unexpected_field(others):
    with pytest.raises(MessageError, match="unexpected field"):
        QueryMessage.from_json(_tamper(others[0], extra=1))


def test_from_json_rejects_missing_field(others):
    obj = json.loads(others[0].to_json())
    del obj["commitment"]
    with pytest.raises(MessageError, match="missing field"):
        QueryMessage.from_json(json.dumps(obj))


def test_from_json_rejects_duplicate_field(others):
    text = others[2].to_json()[:-1] + ',"r":"1"}'
    with pytest.raises(MessageError, match="duplicate"):
        RevealMessage.from_json(text)


@pytest.mark.parametrize("version", [1, 3, "2", True, 0])
def test_from_json_rejects_other_versions(others, version):
    with pytest.raises(MessageError, match="version"):
        QueryMessage.from_json(_tamper(others[0], version=version))


@pytest.mark.parametrize("value", ["-5", "007", "1e5", "12a", "", " 1", 12, None, "1" * 5001])
def test_decimal_fields_are_strict(others, value):
    with pytest.raises(MessageError, match="r must be"):
        RevealMessage.from_json(_tamper(others[2], r=value))


def test_floats_and_nan_are_rejected(others):
    with pytest.raises(MessageError, match="not allowed"):
        QueryMessage.from_json(others[0].to_json().replace('"version":2', '"version":2.0'))
    with pytest.raises(MessageError, match="not allowed"):
        QueryMessage.from_json(others[0].to_json().replace('"version":2', '"version":NaN'))


@pytest.mark.parametrize("value", ["0x1234", "abcd" * 16, "0x" + "zz" * 32, 5])
def test_hex_fields_are_strict(others, value):
    with pytest.raises(MessageError, match="commitment must be"):
        QueryMessage.from_json(_tamper(others[0], commitment=value))


@pytest.mark.parametrize("receiver", ["", "a b", "x" * 129, 7, "é"])
def test_identifiers_are_strict(others, receiver):
    with pytest.raises(MessageError, match="receiver must be"):
        QueryMessage.from_json(_tamper(others[0], receiver=receiver))


def test_ciphertext_exponent_must_be_zero(others):
    with pytest.raises(MessageError, match="exponent"):
        QueryMessage.from_json(_tamper(others[0], z={"ciphertext": "5", "exponent": -3}))


def test_reveal_rejects_r_beyond_uint256(others):
    with pytest.raises(MessageError, match="uint256"):
        RevealMessage.from_json(_tamper(others[2], r=str(2**256)))


def test_task_rejects_ciphertext_out_of_range(task):
    obj = json.loads(task.to_json())
    obj["ciphertexts"][2]["ciphertext"] = str(task.public_key_n**2)
    with pytest.raises(MessageError, match=r"ciphertexts\[2\]"):
        TaskMessage.from_json(json.dumps(obj))


@pytest.mark.parametrize(
    "item, match",
    [
        ({"ciphertext": "012", "exponent": 0}, r"ciphertexts\[4\]\.ciphertext"),
        ({"ciphertext": "12", "exponent": 1}, r"ciphertexts\[4\]\.exponent"),
        ({"ciphertext": "12", "exponent": False}, r"ciphertexts\[4\]\.exponent"),
        ({"ciphertext": 12, "exponent": 0}, r"ciphertexts\[4\]\.ciphertext"),
        ({"ciphertext": "12"}, r"ciphertexts\[4\]: missing field"),
        ("12", r"ciphertexts\[4\] must be a JSON object"),
        (12, r"ciphertexts\[4\] must be a JSON object"),
        ({"ciphertext": "12", "exponent": 0, "x": 1}, r"unexpected field"),
    ],
)
def test_task_names_the_malformed_ciphertext(task, item, match):
    obj = json.loads(task.to_json())
    obj["ciphertexts"][4] = item
    with pytest.raises(MessageError, match=match):
        TaskMessage.from_json(json.dumps(obj))


def test_task_rejects_ciphertext_count_not_matching_grid(task):
    obj = json.loads(task.to_json())
    obj["ciphertexts"].pop()
    with pytest.raises(MessageError, match="expected 7 ciphertexts"):
        TaskMessage.from_json(json.dumps(obj))


def test_task_rejects_empty_grid(task):
    obj = json.loads(task.to_json())
    obj["grid"] = {"width": 0, "height": 3}
    with pytest.raises(MessageError, match="grid"):
        TaskMessage.from_json(json.dumps(obj))


def test_task_rejects_other_encoding(task):
    obj = json.loads(task.to_json())
    obj["encoding"] = "encode2"
    with pytest.raises(MessageError, match="encode1"):
        TaskMessage.from_json(json.dumps(obj))


def test_task_rejects_even_modulus(task):
    obj = json.loads(task.to_json())
    obj["public_key"]["n"] = str(task.public_key_n + 1)
    with pytest.raises(MessageError, match="odd"):
        TaskMessage.from_json(json.dumps(obj))


def test_message_errors_are_input_errors(others):
    with pytest.raises(InputError):
        QueryMessage.from_json("{}")


def test_constructor_validates_fields():
    with pytest.raises(MessageError, match="commitment"):
        QueryMessage(task_id="t", task_digest=H32, receiver="a", commitment=b"short", z=1)


@pytest.fixture
def proven_query(keypair, task):
    from crowdsense.ldpf.pdc.proofs import precompute_query, proof_context, prove_query, task_tables

    pre = precompute_query(keypair[0].n, task.grid.shape, (2, 1), r_bits=32)
    tables = task_tables(task.public_key_n, task.ciphertexts, task.grid.width)
    proof = prove_query(pre, tables, proof_context(task.digest, "alice", H32))
    return QueryMessage(task_id="task-1", task_digest=task.digest, receiver="alice", commitment=H32,
                        z=proof.x.w * proof.y.w % keypair[0].n ** 2, proof=proof)


def test_query_with_proof_and_reveal_with_mask_opening_round_trip(proven_query):
    assert QueryMessage.from_json(proven_query.to_json()) == proven_query
    reveal = RevealMessage(task_id="t", receiver="a", commitment=H32, r=5, salt=H32, mask_opening=2**200)
    assert parse_message(reveal.to_json()) == reveal


@pytest.mark.parametrize("mutate, field", [
    (lambda p: p.pop("y"), "proof must be an object"),
    (lambda p: p["x"].update(w="xyz"), r"proof.x.w must be a hex string"),
    (lambda p: p["x"]["d"].__setitem__(0, "02" * 10), r"proof.x.d\[0\]"),
    (lambda p: p["y"].update(e=p["y"]["e"][:-1]), "same non-zero number"),
    (lambda p: p["x"].update(z_m=["-1"] * len(p["x"]["z_m"])), "hex string"),
])
def test_malformed_proofs_are_rejected_naming_the_field(proven_query, mutate, field):
    obj = json.loads(proven_query.to_json())
    mutate(obj["proof"])
    with pytest.raises(MessageError, match=field):
        QueryMessage.from_json(json.dumps(obj))
