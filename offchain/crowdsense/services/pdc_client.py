"""A party's client of the PDC platform service (:mod:`crowdsense.services.pdc_routes`).

The receiver's side runs on the receiver's machine: :func:`answer_task` fetches the task and
its region, places the receiver's own location on the grid (it never leaves the machine),
commits to r on chain, sends the query, checks the platform's decryption, opens r on chain and
sends the reveal. Every step is journaled by :class:`~crowdsense.ldpf.pdc.receiver.Receiver`
(the opening before the commitment), and every request can be repeated (the service answers a
repeated query or reveal as the first time), so a receiver interrupted anywhere runs the same
command again and finishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crowdsense.ldpf.pdc.messages import DecryptionMessage, QueryMessage, RevealMessage, TaskMessage
from crowdsense.ldpf.pdc.region import GridRegion
from crowdsense.services.client import ServiceClient, ServiceIntegrityError

__all__ = ["PdcClient", "PdcAnswer", "answer_task"]


def _task_path(task_id: str) -> str:
    from urllib.parse import quote

    return f"/v1/pdc/tasks/{quote(task_id, safe='')}"


class PdcClient(ServiceClient):
    """HTTP client of a PDC platform service (the operator's and the receivers' calls)."""

    @staticmethod
    def _task(doc: Any) -> tuple[TaskMessage, GridRegion]:
        return TaskMessage.from_dict(doc["task"]), GridRegion.from_json(doc["region"], "the task's region")

    def open_task(self, task_id: str, region: GridRegion, centre: Any) -> tuple[TaskMessage, GridRegion]:
        """Open a task (the operator): the platform encrypts the centre's encoding once."""
        doc = self._json("POST", "/v1/pdc/tasks", {"taskId": task_id, "region": region.to_json(),
                                                  "centre": list(centre) if not isinstance(centre, str) else centre},
                         signed=True)
        return self._task(doc)

    def task(self, task_id: str) -> tuple[TaskMessage, GridRegion]:
        """The task message (the encrypted centre) and where its grid lies."""
        message, region = self._task(self._json("GET", _task_path(task_id)))
        if message.task_id != task_id:
            raise ServiceIntegrityError(f"service at {self.base_url} answered task {message.task_id!r} for "
                                        f"{task_id!r}: expected the task asked for")
        return message, region

    def query(self, query: QueryMessage) -> DecryptionMessage:
        """Send a query (signed by its receiver) and return the platform's decryption."""
        return DecryptionMessage.from_dict(self._json("POST", _task_path(query.task_id) + "/queries",
                                                      query.to_dict(), signed=True))

    def reveal(self, reveal: RevealMessage) -> int:
        """Send the opening of r (signed by its receiver) and return the accepted distance."""
        doc = self._json("POST", _task_path(reveal.task_id) + "/reveals", reveal.to_dict(), signed=True)
        return int(doc["distance"])

    def answers(self, task_id: str) -> dict[str, Any]:
        """Accepted distances, rejections and pending receivers of a task (the operator)."""
        return dict(self._json("GET", _task_path(task_id) + "/answers", signed=True))


@dataclass(frozen=True)
class PdcAnswer:
    """What a receiver learned from a round: its grid point and its distance to the task."""

    task_id: str
    receiver: str
    point: tuple[int, int]
    distance: int

    def to_json(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "receiver": self.receiver, "gridPoint": list(self.point),
                "distance": self.distance}


def answer_task(client: PdcClient, task_id: str, location: Any, *, board: Any, secret_store: Any,
                r_bits: int | None = None, budget: Any = None) -> PdcAnswer:
    """Take part in task ``task_id`` as the client's signer, at ``location`` (``"LAT,LON"``).

    ``board`` is the receiver's view of the on-chain commitment board and ``secret_store`` its
    journal (:class:`~crowdsense.chain.boards.JournalSecretStore`); ``budget`` an optional
    :class:`~crowdsense.ldpf.pdc.budget.AnswerBudget`. Run again after an interruption, it
    continues from the journaled state (module docstring).
    """
    from crowdsense.ldpf.pdc.protocol import DEFAULT_R_BITS
    from crowdsense.ldpf.pdc.receiver import Receiver

    message, region = client.task(task_id)
    point = region.point(location)
    receiver = Receiver(point, region.grid, board=board, secret_store=secret_store,
                        r_bits=DEFAULT_R_BITS if r_bits is None else r_bits, budget=budget)
    state = receiver.state(task_id)  # an earlier run of this receiver stopped here
    if state == "revealed":
        reveal = receiver.stored_reveal(task_id)
    else:
        if state is None:
            query = receiver.respond(message)
        elif state in ("committing", "committed"):
            query = receiver.resume(task_id)
        else:  # "revealing": the decryption came, the on-chain opening may not have landed
            query = receiver.stored_query(task_id)
        reveal = receiver.finish(client.query(query))
    distance = client.reveal(reveal)
    return PdcAnswer(task_id, receiver.account, point, distance)
