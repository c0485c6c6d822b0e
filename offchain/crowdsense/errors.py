"""One exception tree for the whole package.

Every error a user can meet derives from :class:`CrowdsenseError`, so the CLI can turn any of
them into a one-line message and a non-zero exit code, and library callers can catch one type.
Subclasses also derive from the matching built-in (``ValueError``...) so that ordinary Python
code keeps working.
"""

from __future__ import annotations

__all__ = [
    "CrowdsenseError",
    "InputError",
    "ToolchainError",
    "DeploymentError",
    "DecryptionError",
]


class CrowdsenseError(Exception):
    """Root of every error raised on purpose by this package."""


class InputError(CrowdsenseError, ValueError):
    """Input that does not have the expected shape, type or range."""


class ToolchainError(CrowdsenseError, RuntimeError):
    """The compiler, node or another external tool is missing or misbehaves."""


class DeploymentError(CrowdsenseError, RuntimeError):
    """The deployment file is missing, malformed or does not match the connected chain."""


class DecryptionError(CrowdsenseError, ValueError):
    """A ciphertext or key envelope does not authenticate under the key at hand.

    This is what a receiver that did not claim a subtask gets: the envelope was encrypted to
    the claimant's public key, not to its own. It lives here, not with the client's errors,
    because the ciphers (:mod:`crowdsense.pmcb.sealing`) raise it without any chain around.
    """
