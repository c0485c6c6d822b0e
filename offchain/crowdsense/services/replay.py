"""Single-use signed requests: the nonces a service has seen, kept until they expire.

A signed request is valid for ``window`` seconds either side of its timestamp
(:func:`~crowdsense.services.auth.verify_request`). Inside that time a copy of it would verify
again, so the service records ``(account, nonce)`` with the moment the timestamp stops being
accepted (``timestamp + window``) and refuses a second request with the same pair. After that
moment the timestamp check alone refuses a copy, so the row is useless and is deleted: the
table holds at most one window's worth of requests.

The record is a primary-key insert committed before the request is served, so two copies sent
at once, even to two processes sharing the database, cannot both pass.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from crowdsense.services.auth import AuthenticationError, SignedRequest
from crowdsense.services.db import nonces

__all__ = ["NonceLedger"]


class NonceLedger:
    """The ``nonces`` table of a service database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, request: SignedRequest, *, window: int, now: float | None = None) -> None:
        """Record ``request``'s nonce (and prune expired ones), or refuse it as a replay.

        Raises
        ------
        AuthenticationError
            The account already used this nonce in a request whose timestamp is still valid.
        """
        now_s = int(time.time() if now is None else now)
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(nonces).where(nonces.c.expiry < now_s))
                conn.execute(insert(nonces).values(account=request.account.lower(), nonce=request.nonce,
                                                   expiry=request.timestamp + window))
        except IntegrityError:
            raise AuthenticationError(
                f"replayed request: nonce {request.nonce} of {request.account} was already used: expected a "
                "fresh random nonce in every request") from None

    def count(self) -> int:
        """Rows held (for operators and tests)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(nonces)).scalar_one())
