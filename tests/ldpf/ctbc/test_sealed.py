"""A UD sealed to the platform opens only for the platform, for its committer and epoch."""

from __future__ import annotations

import pytest

from crowdsense.ecies import encryption_key_of, encryption_secret
from crowdsense.errors import DecryptionError, InputError
from crowdsense.ldpf.ctbc.payload import PAYLOAD_SIZE, encode_ud
from crowdsense.ldpf.ctbc.sealed import SEALED_SIZE, PlatformKey, UDOpener, open_ud, seal_ud, ud_aad

ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
UD = encode_ud(5, 2, 1_234_567, -7_654_321)


@pytest.fixture(scope="module")
def platform() -> PlatformKey:
    return PlatformKey.generate()


def test_sealed_ud_opens_for_the_platform_committer_and_epoch(platform):
    sealed = seal_ud(platform.encryption_key, UD, committer=ALICE)
    assert len(sealed) == SEALED_SIZE == 1 + 33 + 12 + PAYLOAD_SIZE + 16
    assert UD not in sealed and UD[64:96] not in sealed and UD[96:] not in sealed  # no coordinate word
    assert open_ud(platform, sealed, committer=ALICE, epoch=5) == UD
    assert open_ud(platform, sealed, committer=ALICE.lower(), epoch=5) == UD  # address case is not identity


def test_sealing_twice_gives_unlinkable_blobs(platform):
    assert seal_ud(platform.encryption_key, UD, committer=ALICE) != seal_ud(platform.encryption_key, UD,
                                                                             committer=ALICE)


@pytest.mark.parametrize("committer, epoch", [("0x" + "11" * 20, 5), (ALICE, 6)], ids=["copier", "other-epoch"])
def test_sealed_ud_does_not_open_for_another_committer_or_epoch(platform, committer, epoch):
    sealed = seal_ud(platform.encryption_key, UD, committer=ALICE)
    with pytest.raises(DecryptionError, match="sealed UD does not authenticate"):
        open_ud(platform, sealed, committer=committer, epoch=epoch)


def test_only_the_platform_opens_it(platform):
    sealed = seal_ud(platform.encryption_key, UD, committer=ALICE)
    with pytest.raises(DecryptionError):
        open_ud(PlatformKey.generate(), sealed, committer=ALICE, epoch=5)


def test_a_changed_byte_is_detected(platform):
    sealed = bytearray(seal_ud(platform.encryption_key, UD, committer=ALICE))
    sealed[100] ^= 1
    with pytest.raises(DecryptionError):
        open_ud(platform, bytes(sealed), committer=ALICE, epoch=5)


def test_platform_key_is_the_accounts_encryption_key():
    """A platform account's Signer and PlatformKey(account key) seal and open alike."""
    account_key = b"\x2a" * 32
    key = PlatformKey(account_key)
    assert key.encryption_key == encryption_key_of(encryption_secret(account_key))
    assert isinstance(key, UDOpener) and "PlatformKey(0x" in repr(key)


def test_a_signer_is_an_opener(platform):
    from crowdsense.chain.accounts import simulation_signer

    signer = simulation_signer("platform", seed="sealed-tests")
    sealed = seal_ud(signer.encryption_key, UD, committer=ALICE)
    assert isinstance(signer, UDOpener)
    assert open_ud(signer, sealed, committer=ALICE, epoch=5) == UD


def test_aad_names_domain_committer_and_epoch():
    aad = ud_aad("Alice", 7)
    assert aad.startswith(b"crowdsense/ctbc-ud/v1") and aad.endswith((7).to_bytes(8, "big"))
    assert ud_aad("Alice", 7) != ud_aad("alice", 7)  # only hex addresses ignore case
    assert ud_aad(ALICE, 7) == ud_aad(ALICE.lower(), 7)


@pytest.mark.parametrize("call, message", [
    (lambda k: seal_ud(b"\x05" * 31, UD, committer=ALICE), "encryption key must be 32 bytes"),
    (lambda k: seal_ud((5).to_bytes(32, "big"), UD, committer=ALICE), "naming a secp256k1 point"),
    (lambda k: seal_ud(k.encryption_key, b"\x01" * 10, committer=ALICE), "a UD payload is 128 bytes"),
    (lambda k: seal_ud(k.encryption_key, UD, committer=""), "committer must be a non-empty str"),
    (lambda k: ud_aad(ALICE, -1), r"epoch must be an integer in \[0, 2\*\*64\)"),
    (lambda k: ud_aad(ALICE, True), "epoch must be an integer"),
    (lambda k: PlatformKey(b"short"), "seed must be 32 bytes"),
], ids=["short-key", "no-point", "short-ud", "no-committer", "negative-epoch", "bool-epoch", "short-seed"])
def test_bad_input_is_refused_with_what_is_expected(platform, call, message):
    with pytest.raises(InputError, match=message):
        call(platform)


def test_a_blob_of_the_wrong_size_is_refused_before_decryption(platform):
    with pytest.raises(DecryptionError, match=f"a sealed UD is {SEALED_SIZE} bytes, got 12"):
        open_ud(platform, b"\x01" * 12, committer=ALICE, epoch=5)
