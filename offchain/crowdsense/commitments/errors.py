"""The errors of a commitment board: one class per rule of ``CommitmentVerifier``.

Every board raises these, whichever commitment it handles (a CTBC bit commitment or a PDC
blinding commitment) and wherever it keeps them: the in-memory board raises them directly, and
the chain client's typed reverts of ``CommitmentVerifier`` (:mod:`crowdsense.chain.errors`)
derive from the class of the same name here. Protocol code therefore catches one class, say
:class:`AlreadyCommittedError`, and handles a refusal the same way in a simulation and on chain.

A rule error's fields are the parameters of its Solidity error, in ABI order and under the same
names (``commitment``, ``caller``, ``computed``, ``length``, ``maximum``), so the two
implementations carry the same attributes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "CommitmentError",
    "ZeroCommitmentError",
    "AlreadyCommittedError",
    "CommitmentNotFoundError",
    "AlreadyRevealedError",
    "OpeningMismatchError",
    "InvalidPayloadLengthError",
]


class CommitmentError(CrowdsenseError):
    """Root: a commitment could not be recorded or opened.

    A subclass declared with ``fields`` and ``template`` (class keywords) takes its fields
    positionally, keeps them as attributes and formats its message from them (bytes shown as
    ``0x`` hex); the root and a subclass without a template take a plain message, for a board
    that fails for a reason of its own (an unreachable node, say).
    """

    #: Names of the values the constructor takes, in order.
    fields: ClassVar[tuple[str, ...]] = ()
    #: ``str.format`` template of the message over :attr:`fields`.
    template: ClassVar[str] = ""

    def __init_subclass__(cls, *, fields: tuple[str, ...] = (), template: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if template:
            cls.fields, cls.template = fields, template

    def __init__(self, *values: Any) -> None:
        if not self.template:
            super().__init__(*values)
            return
        if len(values) != len(self.fields):
            raise TypeError(f"{type(self).__name__} takes {self.fields}, got {len(values)} value(s)")
        for name, value in zip(self.fields, values):
            setattr(self, name, value)
        shown = {n: "0x" + bytes(v).hex() if isinstance(v, (bytes, bytearray)) else v
                 for n, v in zip(self.fields, values)}
        super().__init__(self.template.format(**shown))


class ZeroCommitmentError(CommitmentError, InputError,
                          template="the zero commitment cannot be recorded (it marks an empty slot)"):
    """``CommitmentVerifierZeroCommitment``: the all-zero hash marks "no record"."""


class AlreadyCommittedError(CommitmentError, fields=("commitment",),
                            template="commitment {commitment} is already recorded by this account (committed once, ever)"):
    """``CommitmentVerifierAlreadyCommitted``: an account records a commitment once, ever."""


class CommitmentNotFoundError(CommitmentError, fields=("commitment",),
                              template="no commitment {commitment} is recorded by this account"):
    """``CommitmentVerifierNotFound``: the account committed nothing of that kind under this hash
    (a commitment is its committer's record: nobody else can open it)."""


class AlreadyRevealedError(CommitmentError, fields=("commitment",),
                           template="commitment {commitment} was already revealed"):
    """``CommitmentVerifierAlreadyRevealed``: a commitment is opened once only."""


class OpeningMismatchError(CommitmentError, fields=("commitment", "computed"),
                           template="opening does not match commitment {commitment}: hashes to {computed}"):
    """``CommitmentVerifierOpeningMismatch``: the opening does not hash to the commitment."""


class InvalidPayloadLengthError(CommitmentError, InputError, fields=("length", "maximum"),
                                template="payload must be 1..{maximum} bytes, got {length}"):
    """``CommitmentVerifierInvalidPayloadLength``: a bit payload must be 1..MAX_PAYLOAD bytes."""
