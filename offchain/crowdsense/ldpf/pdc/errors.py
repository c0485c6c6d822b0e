"""Errors and warnings of the PDC protocol (LDPF section 4.3).

All of them derive from the project tree in :mod:`crowdsense.errors`, so the CLI and library
callers can catch :class:`~crowdsense.errors.CrowdsenseError` (or ``ValueError`` for bad input)
without knowing this package. Bad input never leaves partial state behind: every public entry
point validates first and only then changes anything. The commitment board's errors are those of
:mod:`crowdsense.commitments.errors`, shared with CTBC and the chain.
"""

from __future__ import annotations

from crowdsense.errors import CrowdsenseError, InputError

__all__ = [
    "PDCError",
    "GridError",
    "KeyLengthError",
    "BlindingBitsError",
    "MessageError",
    "ProtocolStateError",
    "CheatingDetected",
    "WeakKeyWarning",
    "SelectionWarning",
]


class PDCError(CrowdsenseError):
    """Root of the errors raised on purpose by :mod:`crowdsense.ldpf.pdc`."""


class GridError(PDCError, InputError):
    """An empty grid, a point off the grid or a non-integer coordinate."""


class KeyLengthError(PDCError, InputError):
    """A Paillier key shorter than the documented minimum (or too short for the plaintexts)."""


class BlindingBitsError(PDCError, InputError):
    """A blinding bit length outside the documented range."""


class MessageError(PDCError, InputError):
    """A protocol message that is malformed, inconsistent or has been tampered with."""


class ProtocolStateError(PDCError, InputError):
    """A well-formed message that does not fit the protocol state (unknown task, duplicate, order)."""


class CheatingDetected(PDCError):
    """A party deviated from Protocol 2 in a way the other party can prove or detect.

    Parameters
    ----------
    party : {"receiver", "platform"}
        The party that misbehaved (not the one that noticed).
    reason : str
        What was checked and what failed.
    """

    def __init__(self, party: str, reason: str) -> None:
        self.party = party
        self.reason = reason
        super().__init__(f"{party} cheating detected: {reason}")


class WeakKeyWarning(UserWarning):
    """A key that is accepted but below the recommended length (2048 bits)."""


class SelectionWarning(UserWarning):
    """Fewer eligible receivers than requested: all eligible ones are returned."""
