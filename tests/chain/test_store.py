"""The folder store of ciphertexts and key envelopes under concurrent writers; no node needed.

(Its round trip and tamper checks are tested with the task decomposition, tests/pmcb/test_tasks.py.)
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from crowdsense.chain.store import SubtaskStore

CLAIMANT = "0x" + "ab" * 20


def test_concurrent_writers_of_one_object_leave_one_whole_copy(tmp_path):
    """Threads (as hand-overs run at once) writing the same envelope: every write completes and
    the file holds one writer's complete content, with no temporary file left behind."""
    store = SubtaskStore(tmp_path)
    subtask = b"\x02" * 32
    contents = [bytes([i]) * 4096 for i in range(8)]
    barrier = threading.Barrier(len(contents))

    def write(i: int) -> None:
        barrier.wait()
        for _ in range(20):
            store.put_envelope(subtask, CLAIMANT, contents[i])

    with ThreadPoolExecutor(max_workers=len(contents)) as pool:
        list(pool.map(write, range(len(contents))))
    assert store.get_envelope(subtask, CLAIMANT) in contents
    assert [p.name for p in store.envelope_path(subtask, CLAIMANT).parent.iterdir()] == [f"{CLAIMANT}.bin"]
