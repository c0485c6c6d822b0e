"""LDPF's PDC method for remote regions: Manhattan distance under Paillier encryption, cheat-proof.

The platform learns each receiver's Manhattan distance to a task and nothing else; the receiver
learns its own distance and nothing about the task centre; a receiver lying about its blinding
value or a platform returning a wrong decryption is caught. See :mod:`offchain.pdc.protocol`
for the protocol and its security argument.

Modules: :mod:`~offchain.pdc.encoding` (grid, Encode 1 / Encode 2, Proposition 2),
:mod:`~offchain.pdc.keys` (key generation and length policy), :mod:`~offchain.pdc.fastpaillier`
(raw-integer Paillier with ``gmpy2``), :mod:`~offchain.pdc.messages` (JSON messages),
:mod:`~offchain.pdc.board` / :mod:`~offchain.pdc.store` (pluggable commitment board and secret
store), :mod:`~offchain.pdc.protocol` (Platform, Receiver), :mod:`~offchain.pdc.selection`
(N nearest receivers), :mod:`~offchain.pdc.baseline` (straightforward and Encode-1-only
comparison points).

Example
-------
>>> from offchain.pdc import *
>>> pk, sk = generate_keypair(2048)
>>> grid = Grid(100)
>>> board = InMemoryCommitmentBoard("platform")
>>> platform = Platform(sk, grid, board=board)
>>> alice = Receiver((3, 4), grid, board=board.as_account("alice"), secret_store=InMemorySecretStore())
>>> run_round(platform, [alice], task_id="t1", centre=(10, 10))
{'alice': 13}
"""

from offchain.pdc.board import BlindingRecord, CommitmentBoard, InMemoryCommitmentBoard
from offchain.pdc.encoding import Grid, encode1, encode2, encode_point, encoded_distance, manhattan
from offchain.pdc.errors import (
    BlindingBitsError,
    BoardError,
    CheatingDetected,
    GridError,
    KeyLengthError,
    MessageError,
    PDCError,
    ProtocolStateError,
    SelectionWarning,
    WeakKeyWarning,
)
from offchain.pdc.keys import MIN_KEY_BITS, RECOMMENDED_KEY_BITS, generate_keypair
from offchain.pdc.messages import (
    DecryptionMessage,
    EncryptedDistanceMessage,
    QueryMessage,
    RevealMessage,
    TaskMessage,
    parse_message,
)
from offchain.pdc.protocol import DEFAULT_R_BITS, MAX_R_BITS, MIN_R_BITS, Platform, Receiver, run_round
from offchain.pdc.selection import Selected, select_nearest
from offchain.pdc.store import InMemorySecretStore, SecretStore

__all__ = [
    "BlindingRecord",
    "CommitmentBoard",
    "InMemoryCommitmentBoard",
    "Grid",
    "encode1",
    "encode2",
    "encode_point",
    "encoded_distance",
    "manhattan",
    "BlindingBitsError",
    "BoardError",
    "CheatingDetected",
    "GridError",
    "KeyLengthError",
    "MessageError",
    "PDCError",
    "ProtocolStateError",
    "SelectionWarning",
    "WeakKeyWarning",
    "MIN_KEY_BITS",
    "RECOMMENDED_KEY_BITS",
    "generate_keypair",
    "DecryptionMessage",
    "EncryptedDistanceMessage",
    "QueryMessage",
    "RevealMessage",
    "TaskMessage",
    "parse_message",
    "DEFAULT_R_BITS",
    "MAX_R_BITS",
    "MIN_R_BITS",
    "Platform",
    "Receiver",
    "run_round",
    "Selected",
    "select_nearest",
    "InMemorySecretStore",
    "SecretStore",
]
