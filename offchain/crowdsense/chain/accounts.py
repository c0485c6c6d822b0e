"""Signing accounts: from an encrypted keystore, an environment variable, or (locally) derived.

A :class:`Signer` holds a private key and never shows it: its ``repr`` and ``str`` give the
address only, it refuses to be pickled or copied, and no error message of this module quotes
a key or a password. Sources, in the order the CLI tries them:

1. an encrypted JSON keystore (the Ethereum "V3" format that geth, brownie and MetaMask
   write) plus its password (:func:`load_keystore`);
2. the environment variable ``CROWDSENSE_PRIVATE_KEY`` holding a 32-byte hex key
   (:func:`signer_from_env`);
3. on a local development chain only (chain id 31337 or 1337): the well-known Anvil/Hardhat
   test accounts (:func:`dev_signer`) and deterministic *simulation* accounts derived from a
   node id (:func:`simulation_signer`), so a simulation of thousands of receivers needs no
   key files. Both are public knowledge and worthless on a real chain.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping, NoReturn

from eth_account import Account
from eth_account.datastructures import SignedTransaction
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import keccak

from crowdsense import ecies as crypto
from crowdsense.chain.addresses import parse_address
from crowdsense.chain.errors import AccountError
from crowdsense.errors import InputError
from crowdsense.jsonfile import read_json_file

__all__ = [
    "ENV_PRIVATE_KEY",
    "DEV_CHAIN_IDS",
    "DEV_MNEMONIC",
    "Signer",
    "load_keystore",
    "create_keystore",
    "signer_from_key",
    "signer_from_env",
    "dev_signer",
    "simulation_signer",
    "require_dev_chain",
]

ENV_PRIVATE_KEY = "CROWDSENSE_PRIVATE_KEY"
#: Chain ids of local development nodes (Anvil/Hardhat 31337, Ganache 1337).
DEV_CHAIN_IDS = frozenset({31337, 1337})
#: The public test mnemonic of Anvil and Hardhat (accounts funded with 10 000 ETH at start).
DEV_MNEMONIC = "test test test test test test test test test test test junk"
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Signer:
    """An account that signs transactions and opens key envelopes, and never reveals its key.

    Parameters
    ----------
    account : eth_account LocalAccount
        The key holder. Keep no other reference to it.
    source : str
        Where the key came from, for messages (``"keystore alice.json"``); never the key.
    """

    __slots__ = ("_account", "address", "source")

    def __init__(self, account: LocalAccount, *, source: str) -> None:
        self._account = account
        self.address: ChecksumAddress = account.address
        self.source = source

    def __repr__(self) -> str:
        return f"Signer({self.address}, from {self.source})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")

    def __copy__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be copied")

    def __deepcopy__(self, memo: Any) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be copied")

    @property
    def public_key(self) -> bytes:
        """Uncompressed 65-byte secp256k1 public key (``0x04 || X || Y``)."""
        return crypto.public_key_of(self._account.key)

    @property
    def encryption_key(self) -> bytes:
        """The 32-byte encryption key a claim carries (derived from this account's key)."""
        return crypto.encryption_key_of(crypto.encryption_secret(self._account.key))

    def sign_transaction(self, tx: Mapping[str, Any]) -> SignedTransaction:
        """Sign a complete transaction dict (nonce, gas, fees and chainId filled in)."""
        return self._account.sign_transaction(dict(tx))

    def ecies_decrypt(self, envelope: bytes, *, aad: bytes, what: str = "key envelope") -> bytes:
        """Open a key envelope (or delivered data: ``what``) encrypted to this account's
        :attr:`encryption_key`."""
        return crypto.ecies_decrypt(crypto.encryption_secret(self._account.key), envelope, aad=aad, what=what)


def _key_bytes(text: str, *, where: str) -> bytes:
    raw = text.strip().removeprefix("0x")
    if len(raw) != 64:
        raise AccountError(f"{where} is not a 32-byte hex private key (got {len(raw)} hex characters, expected 64)")
    try:
        key = bytes.fromhex(raw)
    except ValueError:
        raise AccountError(f"{where} is not a 32-byte hex private key (it contains non-hex characters)") from None
    if not 0 < int.from_bytes(key, "big") < _SECP256K1_N:
        raise AccountError(f"{where} is not a valid secp256k1 private key (out of range)")
    return key


def signer_from_key(key: str | bytes, *, source: str = "a private key") -> Signer:
    """A signer from a hex string or 32 raw bytes."""
    raw = _key_bytes(key, where=source) if isinstance(key, str) else bytes(key)
    if len(raw) != 32:
        raise AccountError(f"{source} must be 32 bytes, got {len(raw)}")
    return Signer(Account.from_key(raw), source=source)


def signer_from_env(env: Mapping[str, str] | None = None, *, var: str = ENV_PRIVATE_KEY) -> Signer | None:
    """A signer from the environment variable ``var``, or None when it is unset or empty."""
    value = (os.environ if env is None else env).get(var)
    if not value:
        return None
    return signer_from_key(value, source=f"${var}")


def load_keystore(path: str | Path, password: str) -> Signer:
    """Decrypt an encrypted JSON keystore.

    Raises
    ------
    AccountError
        The file is missing or unreadable, is not a keystore, or the password is wrong; or its
        ``address`` field (optional) is not an address or not the address of its key.
    """
    path = Path(path)
    keyfile = read_json_file(path, "keystore file", error=AccountError)
    if not isinstance(keyfile, dict) or not ({"crypto", "Crypto"} & keyfile.keys()):
        raise AccountError(f"keystore file {path} is not an encrypted keystore (no 'crypto' section)")
    listed = keyfile.get("address")
    if listed is not None:
        listed = parse_address(listed, f"keystore file {path}: 'address'", error=AccountError)
    try:
        key = Account.decrypt(keyfile, password)
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise AccountError(f"wrong password for keystore {path}") from None
        raise AccountError(f"keystore file {path} cannot be decrypted: {exc}") from None
    except (KeyError, TypeError) as exc:
        raise AccountError(f"keystore file {path} is malformed: missing {exc}") from None
    signer = Signer(Account.from_key(key), source=f"keystore {path.name}")
    if listed is not None and listed != signer.address:
        raise AccountError(f"keystore file {path}: its 'address' {listed} is not the address of its key: "
                           "expected the address the key was saved with")
    return signer


def create_keystore(
    path: str | Path,
    password: str,
    *,
    private_key: str | bytes | None = None,
    kdf: str = "scrypt",
    iterations: int | None = None,
) -> Signer:
    """Write a new encrypted keystore (mode 0600) and return its signer.

    A fresh key is drawn (by eth_account, from the OS CSPRNG) unless ``private_key`` is given.
    An existing file is never overwritten. ``kdf``/``iterations`` trade unlock time for
    resistance to guessing; keep the defaults outside tests.
    """
    path = Path(path)
    if not password:
        raise InputError("a keystore password must not be empty")
    if path.exists():
        raise AccountError(f"keystore file {path} already exists; refusing to overwrite it")
    if private_key is None:
        account = Account.create()
    else:
        account = Account.from_key(signer_from_key(private_key)._account.key)
    keyfile = Account.encrypt(account.key, password, kdf=kdf, iterations=iterations)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keyfile, fh)
        fh.flush()
        os.fsync(fh.fileno())
    return Signer(account, source=f"keystore {path.name}")


def require_dev_chain(chain_id: int, what: str) -> None:
    """Refuse publicly known keys anywhere but a local development chain."""
    if chain_id not in DEV_CHAIN_IDS:
        raise AccountError(
            f"the node reports chain id {chain_id}, not a local development chain: {what} use publicly known "
            f"keys, so they are only allowed on chain id {' or '.join(map(str, sorted(DEV_CHAIN_IDS)))}"
        )


def dev_signer(index: int) -> Signer:
    """Account ``index`` of the Anvil/Hardhat test mnemonic (BIP-44 path m/44'/60'/0'/0/index)."""
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**31:
        raise InputError(f"dev account index must be an int in [0, 2**31), got {index!r}")
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return Signer(account, source=f"dev account {index}")


def simulation_signer(node_id: str | int, *, seed: str = "crowdsense-simulation") -> Signer:
    """Deterministic account of a simulated receiver: ``key = keccak256(seed ":" node_id)``.

    Anyone who knows the seed and the node id knows the key, which is exactly what a
    simulation needs (no key files for thousands of receivers) and exactly why it is only for
    local development chains.
    """
    digest = keccak(text=f"{seed}:{node_id}")
    key = int.from_bytes(digest, "big") % (_SECP256K1_N - 1) + 1
    return Signer(Account.from_key(key.to_bytes(32, "big")), source=f"simulation node {node_id}")
