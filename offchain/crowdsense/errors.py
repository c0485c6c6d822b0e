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
]


class CrowdsenseError(Exception):
    """Root of every error raised on purpose by this package."""


class InputError(CrowdsenseError, ValueError):
    """Input that does not have the expected shape, type or range."""


class ToolchainError(CrowdsenseError, RuntimeError):
    """The compiler, node or another external tool is missing or misbehaves."""


class DeploymentError(CrowdsenseError, RuntimeError):
    """The deployment file is missing, malformed or does not match the connected chain."""
