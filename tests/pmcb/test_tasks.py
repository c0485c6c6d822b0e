"""Decomposition into levels and the subtask encryption scheme (no node needed)."""

from __future__ import annotations

import coincurve
import pytest
from eth_utils import keccak

from crowdsense import ecies as crypto
from crowdsense.errors import DecryptionError
from crowdsense.chain.store import SubtaskStore
from crowdsense.pmcb.tasks import (
    decompose,
    decrypt_subtask,
    encrypt_plan,
    open_key,
    seal_key,
    sensitivity_levels,
    subtask_plaintext,
)
from crowdsense.errors import InputError

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CLAIMANT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


# ---------------------------------------------------------------------------- levels
# level(r) = 1 + floor(r (T-1) / (m-1) + 1/2), worked by hand below.


def test_sensitivity_levels_one_part_per_level():
    assert sensitivity_levels([0.1, 0.5, 0.9], num_levels=3) == [1, 2, 3]


def test_sensitivity_levels_two_parts_span_lowest_and_highest():
    # m = 2: r = 0 -> 1, r = 1 -> 1 + floor(2 + .5) = 3
    assert sensitivity_levels([5, 1], num_levels=3) == [3, 1]


def test_sensitivity_levels_six_parts_two_per_level():
    # r (T-1)/(m-1) = r * 2/5 = 0, .4, .8, 1.2, 1.6, 2 -> +.5 floor -> 0, 0, 1, 1, 2, 2
    assert sensitivity_levels([1, 2, 3, 4, 5, 6], num_levels=3) == [1, 1, 2, 2, 3, 3]


def test_sensitivity_levels_equal_sensitivities_share_a_level():
    # dense ranks 0, 1, 1, 2 with m = 3
    assert sensitivity_levels([0, 7, 7, 9], num_levels=3) == [1, 2, 2, 3]


def test_sensitivity_levels_single_part_gets_top_level():
    assert sensitivity_levels([0.3], num_levels=4) == [4]


def test_sensitivity_levels_rejects_nan():
    with pytest.raises(InputError, match="finite"):
        sensitivity_levels([float("nan"), 1.0], num_levels=3)


def test_decompose_strings_rank_by_position():
    plan = decompose("t", ["a", "b", "c"], num_levels=3)
    assert plan.levels == [1, 2, 3] and [s.text for s in plan.subtasks] == ["a", "b", "c"]


def test_decompose_explicit_level_wins():
    plan = decompose("t", [{"text": "a", "sensitivity": 0}, {"text": "b", "sensitivity": 1, "level": 1}],
                     num_levels=3)
    assert plan.levels == [1, 1]


def test_decompose_rejects_too_many_parts():
    with pytest.raises(InputError, match="1..32 parts, got 33"):
        decompose("t", [f"p{i}" for i in range(33)], num_levels=3)


def test_decompose_rejects_level_out_of_range():
    with pytest.raises(InputError, match="level 4 is outside 1..3"):
        decompose("t", [{"text": "a", "level": 4}], num_levels=3)


def test_decompose_rejects_empty_title():
    with pytest.raises(InputError, match="title"):
        decompose(" ", ["a"], num_levels=3)


def test_plan_digest_depends_on_content_only():
    a = decompose("t", ["x", "y"], num_levels=3)
    b = decompose("t", ["x", "y"], num_levels=3)
    c = decompose("t", ["x", "z"], num_levels=3)
    assert a.digest == b.digest != c.digest


# ---------------------------------------------------------------------------- encryption


def test_encrypt_plan_hash_is_keccak_of_ciphertext_without_plaintext():
    plan = decompose("survey", ["street noise", "home noise"], num_levels=3)
    for enc, sub in zip(encrypt_plan(plan, chain_id=31337, registry=REGISTRY), plan.subtasks):
        assert enc.subtask_hash == keccak(enc.blob)
        assert sub.text.encode() not in enc.blob
        assert enc.subtask_hash != keccak(subtask_plaintext(plan, sub))


def test_encrypt_plan_draws_distinct_keys_and_hashes():
    plan = decompose("survey", ["same", "same"], num_levels=3)
    a, b = encrypt_plan(plan, chain_id=1, registry=REGISTRY)
    assert a.key != b.key and a.subtask_hash != b.subtask_hash


def test_decrypt_subtask_roundtrip():
    plan = decompose("survey", ["street noise", "home noise"], num_levels=3)
    enc = encrypt_plan(plan, chain_id=5, registry=REGISTRY)[1]
    content = decrypt_subtask(enc.blob, enc.key, chain_id=5, registry=REGISTRY, level=enc.level, index=1)
    assert content["part"] == "home noise" and content["title"] == "survey" and content["count"] == 2


def test_a_description_names_the_releasers_key_to_reply_to():
    releaser_key = crypto.encryption_key_of(crypto.encryption_secret(b"\x07" * 32))
    plan = decompose("survey", ["street noise"], num_levels=3)
    enc = encrypt_plan(plan, chain_id=5, registry=REGISTRY, reply_to=releaser_key)[0]
    content = decrypt_subtask(enc.blob, enc.key, chain_id=5, registry=REGISTRY, level=enc.level, index=0)
    assert content["replyTo"] == "0x" + releaser_key.hex()
    bare = encrypt_plan(plan, chain_id=5, registry=REGISTRY)[0]
    assert "replyTo" not in decrypt_subtask(bare.blob, bare.key, chain_id=5, registry=REGISTRY, level=bare.level,
                                            index=0)
    with pytest.raises(InputError, match="reply_to must be a 32-byte encryption key"):
        encrypt_plan(plan, chain_id=5, registry=REGISTRY, reply_to=b"\x00" * 31)


def test_decrypt_subtask_wrong_index_fails_authentication():
    plan = decompose("survey", ["a", "b"], num_levels=3)
    enc = encrypt_plan(plan, chain_id=5, registry=REGISTRY)[0]
    with pytest.raises(DecryptionError):
        decrypt_subtask(enc.blob, enc.key, chain_id=5, registry=REGISTRY, level=enc.level, index=1)


def test_decrypt_subtask_tampered_blob_fails_authentication():
    plan = decompose("survey", ["a"], num_levels=3)
    enc = encrypt_plan(plan, chain_id=5, registry=REGISTRY)[0]
    tampered = enc.blob[:-1] + bytes([enc.blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        decrypt_subtask(tampered, enc.key, chain_id=5, registry=REGISTRY, level=enc.level, index=0)


class _KeyHolder:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def ecies_decrypt(self, envelope: bytes, *, aad: bytes) -> bytes:
        return crypto.ecies_decrypt(self.secret, envelope, aad=aad)


def test_seal_key_opens_only_for_the_recipient():
    owner, other = b"\x01" * 32, b"\x02" * 32
    public = coincurve.PrivateKey(owner).public_key.format(compressed=False)
    h, key = keccak(b"blob"), crypto.new_key()
    envelope = seal_key(public, key, subtask_hash=h, claimant=CLAIMANT)
    assert open_key(_KeyHolder(owner), envelope, subtask_hash=h, claimant=CLAIMANT) == key
    with pytest.raises(DecryptionError):
        open_key(_KeyHolder(other), envelope, subtask_hash=h, claimant=CLAIMANT)


def test_seal_key_bound_to_subtask_hash():
    owner = b"\x03" * 32
    public = coincurve.PrivateKey(owner).public_key.format(compressed=True)
    envelope = seal_key(public, crypto.new_key(), subtask_hash=keccak(b"a"), claimant=CLAIMANT)
    with pytest.raises(DecryptionError):
        open_key(_KeyHolder(owner), envelope, subtask_hash=keccak(b"b"), claimant=CLAIMANT)


def test_envelope_sealed_to_an_x_only_key_opens_with_its_secret_only():
    secret, other = crypto.encryption_secret(b"\x07" * 32), crypto.encryption_secret(b"\x08" * 32)
    h, key = keccak(b"blob"), crypto.new_key()
    envelope = seal_key(crypto.encryption_key_of(secret), key, subtask_hash=h, claimant=CLAIMANT)
    assert open_key(_KeyHolder(secret), envelope, subtask_hash=h, claimant=CLAIMANT) == key
    with pytest.raises(DecryptionError):
        open_key(_KeyHolder(other), envelope, subtask_hash=h, claimant=CLAIMANT)


# ---------------------------------------------------------------------------- store


def test_store_roundtrip_and_tamper_detection(tmp_path):
    from crowdsense.chain.errors import StoreError

    store = SubtaskStore(tmp_path)
    h = store.put_blob(b"ciphertext")
    assert h == keccak(b"ciphertext") and store.get_blob(h) == b"ciphertext"
    store.blob_path(h).write_bytes(b"other")
    with pytest.raises(StoreError, match="altered"):
        store.get_blob(h)


def test_store_missing_envelope_says_hand_over(tmp_path):
    from crowdsense.chain.errors import KeyNotHandedOverError

    with pytest.raises(KeyNotHandedOverError, match="handover"):
        SubtaskStore(tmp_path).get_envelope(keccak(b"x"), CLAIMANT)


# ---------------------------------------------------------------------------- registrar inputs


@pytest.mark.parametrize("content", [
    {"levels": {"0": 1, "7": 3}, "T": 3},
    {"0": 1, "7": 3},
    {"nodes": [0, 7], "levels": [1, 3]},
    {"levels": [{"node": 0, "level": 1}, {"node": 7, "level": 3}]},
])
def test_read_levels_accepts_each_layout(tmp_path, content):
    import json

    from crowdsense.chain.registration import read_levels

    (tmp_path / "levels.json").write_text(json.dumps(content))
    assert read_levels(tmp_path / "levels.json") == {"0": 1, "7": 3}


def test_read_levels_rejects_level_zero(tmp_path):
    from crowdsense.chain.registration import read_levels

    (tmp_path / "levels.json").write_text('{"levels": {"3": 0}}')
    with pytest.raises(InputError, match="node '3' has level 0"):
        read_levels(tmp_path / "levels.json")


def test_read_address_csv_needs_header_and_addresses(tmp_path):
    from crowdsense.chain.registration import read_address_csv

    (tmp_path / "a.csv").write_text("node,address\n1,0x70997970c51812dc3a010c7d01b50e0d17dc79c8\n")
    assert read_address_csv(tmp_path / "a.csv") == {"1": CLAIMANT}
    (tmp_path / "b.csv").write_text("node,address\n1,not-an-address\n")
    with pytest.raises(InputError, match="line 2"):
        read_address_csv(tmp_path / "b.csv")
