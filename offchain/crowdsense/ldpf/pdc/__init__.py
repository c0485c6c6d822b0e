"""LDPF's PDC method for remote regions: Manhattan distance under Paillier encryption, cheat-proof.

The platform learns each receiver's Manhattan distance to a task and nothing else; the receiver
learns its own distance and nothing about the task centre; a receiver whose Z is not formed from
the task (proven before decryption), a receiver lying about its blinding value and a platform
returning a wrong decryption are caught. See :mod:`crowdsense.ldpf.pdc.protocol` for the protocol
and its security argument.

Modules: :mod:`~crowdsense.ldpf.pdc.encoding` (grid, Encode 1 / Encode 2, Proposition 2),
:mod:`~crowdsense.ldpf.pdc.keys` (key generation and length policy), :mod:`~crowdsense.ldpf.pdc.fastpaillier`
(raw-integer Paillier with ``gmpy2``), :mod:`~crowdsense.ldpf.pdc.messages` (JSON messages),
:mod:`~crowdsense.ldpf.pdc.platform` and :mod:`~crowdsense.ldpf.pdc.receiver` (the two
parties, on a commitment board and secret store of :mod:`crowdsense.commitments`),
:mod:`~crowdsense.ldpf.pdc.selection`
(N nearest receivers), :mod:`~crowdsense.ldpf.pdc.proofs` (the well-formedness proofs of a
query), :mod:`~crowdsense.ldpf.pdc.budget` (the receiver's answer budget),
:mod:`~crowdsense.ldpf.pdc.baseline` (straightforward and Encode-1-only comparison points).

Example
-------
>>> from crowdsense.commitments import MemoryCommitmentBoard, MemorySecretStore
>>> from crowdsense.ldpf.pdc import *
>>> pk, sk = generate_keypair(2048)
>>> grid = Grid(100)
>>> board = MemoryCommitmentBoard("platform")
>>> platform = Platform(sk, grid, board=board)
>>> alice = Receiver((3, 4), grid, board=board.as_account("alice"), secret_store=MemorySecretStore())
>>> run_round(platform, [alice], task_id="t1", centre=(10, 10))
{'alice': 13}
"""

from crowdsense.ldpf.pdc.encoding import Grid, encode1, encode2, encode_point, encoded_distance, manhattan
from crowdsense.ldpf.pdc.errors import (
    BlindingBitsError,
    CheatingDetected,
    GridError,
    KeyLengthError,
    MessageError,
    PDCError,
    ProtocolStateError,
    SelectionWarning,
    WeakKeyWarning,
)
from crowdsense.ldpf.pdc.keys import MIN_KEY_BITS, RECOMMENDED_KEY_BITS, generate_keypair
from crowdsense.ldpf.pdc.messages import (
    DecryptionMessage,
    EncryptedDistanceMessage,
    QueryMessage,
    RevealMessage,
    TaskMessage,
    parse_message,
)
from crowdsense.ldpf.pdc.platform import Platform, run_round
from crowdsense.ldpf.pdc.protocol import DEFAULT_R_BITS, MAX_R_BITS, MIN_R_BITS
from crowdsense.ldpf.pdc.receiver import Receiver
from crowdsense.ldpf.pdc.selection import Selected, select_nearest

__all__ = [
    "Grid",
    "encode1",
    "encode2",
    "encode_point",
    "encoded_distance",
    "manhattan",
    "BlindingBitsError",
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
]
