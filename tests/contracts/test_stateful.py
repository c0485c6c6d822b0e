"""Stateful property test of both contracts against a Python model.

Random sequences of level changes, releases, claims, submissions, closes, commits and reveals,
from random callers, are applied to the chain and to the model; every call must succeed exactly
when the model says so, and the invariants below must hold after every step:

* no receiver holds two subtasks of one task;
* every claimed subtask's level equals its claimant's level at claim time;
* a claimed subtask never changes hands;
* only the registrar changes levels;
* a commitment opens only with its exact opening, and only once.

The regular suite runs a short campaign. ``make fuzz`` (or ``FUZZ_STEPS=N brownie test
tests/contracts/test_stateful.py``) runs at least N steps in total.

The machine is a plain hypothesis ``RuleBasedStateMachine`` that snapshots and reverts the chain
itself: brownie 1.22's compiled ``state_machine`` helper rejects the classes it generates
(``TypeError: _BrownieStateMachine object expected``). Strategies still come from
``brownie.test.strategy``.
"""

import json
import os
import secrets
import time
from pathlib import Path

import brownie
from brownie import chain
from brownie.test import strategy
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from crowdsense.commitments import new_bit_opening, new_blinding_opening

LEVELS = 3
#: rule steps in total: 300 in the regular suite, FUZZ_STEPS in a fuzzing campaign
TOTAL_STEPS = int(os.environ.get("FUZZ_STEPS") or 300)
#: longest run (sequence of steps from a fresh deployment) and runs per hypothesis batch
STEPS_PER_RUN = 50 if os.environ.get("FUZZ_STEPS") else 20
RUNS_PER_BATCH = 50 if os.environ.get("FUZZ_STEPS") else 10

STATS = {"steps": 0, "runs": 0}


class Model:
    """Python model of TaskRegistry + CommitmentVerifier."""

    def __init__(self):
        self.levels = {}  # address -> level
        self.tasks = []  # list of dict(releaser, levels, claimants, data, closed)
        self.bits = {}  # commitment -> dict(opening, committer, revealed)
        self.blindings = {}


st_user = strategy("uint8", max_value=6)
st_level = strategy("uint8", max_value=LEVELS + 1)
st_task = strategy("uint8", max_value=7)
st_index = strategy("uint8", max_value=5)
st_levels = strategy("uint8[]", min_length=1, max_length=5, min_value=1, max_value=LEVELS)
st_bool = strategy("bool")
st_pick = strategy("uint16")


class StateMachine(RuleBasedStateMachine):
    registry = None  # set by the test
    verifier = None
    users: list = []  # 0 admin, 1 registrar, 2 releaser, 3.. receivers

    def __init__(self):
        chain.revert()  # back to the snapshot taken right after deployment
        super().__init__()
        self.model = Model()
        self.touched_users = set()
        self.touched_tasks = set()
        self.touched_commitments = set()
        STATS["runs"] += 1

    def _step(self):
        STATS["steps"] += 1

    # -------------------------------------------------------------- registry rules

    @rule(st_user=st_user, st_level=st_level, st_bool=st_bool)
    def rule_set_level(self, st_user, st_level, st_bool):
        self._step()
        user = self.users[st_user]
        self.touched_users.add(user)
        caller = self.users[1] if st_bool else self.users[(st_user + 2) % 7]
        ok = caller == self.users[1] and 1 <= st_level <= LEVELS
        if ok:
            self.registry.setLevels([user], [st_level], {"from": caller})
            self.model.levels[user] = st_level
        else:
            with brownie.reverts():
                self.registry.setLevels([user], [st_level], {"from": caller})

    @rule(st_user=st_user, st_bool=st_bool)
    def rule_clear_level(self, st_user, st_bool):
        self._step()
        user = self.users[st_user]
        self.touched_users.add(user)
        caller = self.users[1] if st_bool else self.users[0]
        if caller == self.users[1]:
            self.registry.clearLevels([user], {"from": caller})
            self.model.levels[user] = 0
        else:
            with brownie.reverts():
                self.registry.clearLevels([user], {"from": caller})

    @rule(st_levels=st_levels, st_bool=st_bool)
    def rule_release(self, st_levels, st_bool):
        self._step()
        caller = self.users[2] if st_bool else self.users[3]
        hashes = [secrets.token_bytes(32) for _ in st_levels]
        if caller == self.users[2]:
            tx = self.registry.releaseTask(hashes, list(st_levels), {"from": caller})
            self.touched_tasks.add(len(self.model.tasks))
            assert tx.return_value == len(self.model.tasks)
            self.model.tasks.append(
                {"levels": list(st_levels), "claimants": [None] * len(st_levels), "data": [None] * len(st_levels),
                 "closed": False, "releaser": caller}
            )
        else:
            with brownie.reverts():
                self.registry.releaseTask(hashes, list(st_levels), {"from": caller})

    @rule(st_task=st_task, st_index=st_index, st_user=st_user)
    def rule_claim(self, st_task, st_index, st_user):
        self._step()
        user = self.users[st_user]
        tasks = self.model.tasks
        self.touched_tasks.add(st_task)
        ok = False
        if st_task < len(tasks):
            t = tasks[st_task]
            level = self.model.levels.get(user, 0)
            ok = (
                not t["closed"]
                and st_index < len(t["levels"])
                and level != 0
                and t["levels"][st_index] == level
                and t["claimants"][st_index] is None
                and user not in t["claimants"]
            )
        if ok:
            tx = self.registry.claimSubtask(st_task, st_index, {"from": user})
            assert tx.events["SubtaskClaimed"]["level"] == self.model.levels[user]
            tasks[st_task]["claimants"][st_index] = user
        else:
            with brownie.reverts():
                self.registry.claimSubtask(st_task, st_index, {"from": user})

    @rule(st_task=st_task, st_index=st_index, st_user=st_user)
    def rule_submit(self, st_task, st_index, st_user):
        self._step()
        user = self.users[st_user]
        tasks = self.model.tasks
        self.touched_tasks.add(st_task)
        ok = (
            st_task < len(tasks)
            and not tasks[st_task]["closed"]
            and st_index < len(tasks[st_task]["levels"])
            and tasks[st_task]["claimants"][st_index] == user
            and tasks[st_task]["data"][st_index] is None
        )
        data = secrets.token_bytes(32)
        if ok:
            self.registry.submitData(st_task, st_index, data, {"from": user})
            tasks[st_task]["data"][st_index] = data
        else:
            with brownie.reverts():
                self.registry.submitData(st_task, st_index, data, {"from": user})

    @rule(st_task=st_task, st_bool=st_bool)
    def rule_close(self, st_task, st_bool):
        self._step()
        caller = self.users[2] if st_bool else self.users[0]
        tasks = self.model.tasks
        self.touched_tasks.add(st_task)
        ok = st_task < len(tasks) and not tasks[st_task]["closed"] and caller == tasks[st_task]["releaser"]
        if ok:
            self.registry.closeTask(st_task, {"from": caller})
            tasks[st_task]["closed"] = True
        else:
            with brownie.reverts():
                self.registry.closeTask(st_task, {"from": caller})

    # -------------------------------------------------------------- commitment rules

    def _committed(self, book: dict, opening, user) -> None:
        """Record a commitment ``user`` just made in the model's ``book`` (bits or blindings)."""
        self.touched_commitments.add(opening.commitment)
        book[opening.commitment] = {"opening": opening, "committer": user, "revealed": False}

    def _pick(self, book: dict, st_pick, st_user, st_bool):
        """A recorded commitment of ``book``, its record, and the caller to try: its committer
        when ``st_bool``, else any user. None when ``book`` is empty."""
        if not book:
            return None
        c = sorted(book)[st_pick % len(book)]
        self.touched_commitments.add(c)
        rec = book[c]
        return c, rec, rec["committer"] if st_bool else self.users[st_user]

    @rule(st_user=st_user)
    def rule_commit_bit(self, st_user):
        self._step()
        opening = new_bit_opening(secrets.token_bytes(1 + st_user * 7))
        user = self.users[st_user]
        self.verifier.commitBit(opening.commitment, opening.r1, {"from": user})
        self._committed(self.model.bits, opening, user)

    @rule(st_pick=st_pick, st_user=st_user, st_bool=st_bool)
    def rule_reveal_bit(self, st_pick, st_user, st_bool):
        self._step()
        picked = self._pick(self.model.bits, st_pick, st_user, st_bool)
        if picked is None:
            return
        c, rec, user = picked
        tamper = st_pick % 3 == 0
        payload = rec["opening"].payload + (b"!" if tamper else b"")
        ok = user == rec["committer"] and not rec["revealed"] and not tamper
        if ok:
            self.verifier.revealBit(c, rec["opening"].r2, payload, {"from": user})
            rec["revealed"] = True
        else:
            with brownie.reverts():
                self.verifier.revealBit(c, rec["opening"].r2, payload, {"from": user})

    @rule(st_pick=st_pick, st_user=st_user)
    def rule_recommit_bit(self, st_pick, st_user):
        self._step()
        if not self.model.bits:
            return
        c = sorted(self.model.bits)[st_pick % len(self.model.bits)]
        with brownie.reverts():
            self.verifier.commitBit(c, self.model.bits[c]["opening"].r1, {"from": self.users[st_user]})

    @rule(st_user=st_user, st_pick=st_pick)
    def rule_commit_blinding(self, st_user, st_pick):
        self._step()
        opening = new_blinding_opening(st_pick)
        user = self.users[st_user]
        self.verifier.commitBlinding(opening.commitment, {"from": user})
        self._committed(self.model.blindings, opening, user)

    @rule(st_pick=st_pick, st_user=st_user, st_bool=st_bool)
    def rule_reveal_blinding(self, st_pick, st_user, st_bool):
        self._step()
        picked = self._pick(self.model.blindings, st_pick, st_user, st_bool)
        if picked is None:
            return
        c, rec, user = picked
        r = rec["opening"].r + (1 if st_pick % 3 == 0 else 0)
        ok = user == rec["committer"] and not rec["revealed"] and r == rec["opening"].r
        if ok:
            self.verifier.revealBlinding(c, r, rec["opening"].salt, {"from": user})
            rec["revealed"] = True
        else:
            with brownie.reverts():
                self.verifier.revealBlinding(c, r, rec["opening"].salt, {"from": user})

    # -------------------------------------------------------------- invariants
    # Each invariant checks what the last step touched (a full sweep after every step would make
    # the long campaign hours long); ``teardown`` sweeps everything once per run.

    def _check_levels(self, users):
        for user in users:
            assert self.registry.levelOf(user) == self.model.levels.get(user, 0)

    def _check_tasks(self, task_ids):
        assert self.registry.taskCount() == len(self.model.tasks)
        for task_id in task_ids:
            if task_id >= len(self.model.tasks):
                continue
            t = self.model.tasks[task_id]
            holders = [c for c in t["claimants"] if c is not None]
            assert len(holders) == len(set(holders)), "a receiver holds two subtasks of one task"
            assert self.registry.getTask(task_id)[2] == t["closed"]
            for index, claimant in enumerate(t["claimants"]):
                _, level, onchain, data = self.registry.getSubtask(task_id, index)
                assert level == t["levels"][index]
                assert onchain == (claimant or brownie.ZERO_ADDRESS), "a claimed subtask changed hands"
                assert data == "0x" + (t["data"][index] or bytes(32)).hex()

    def _check_commitments(self, commitments):
        for c in commitments:
            if c in self.model.bits:
                rec = self.model.bits[c]
                committer, _, r1, revealed = self.verifier.bitCommitment(c)
                assert (committer, r1) == (rec["committer"], "0x" + rec["opening"].r1.hex())
            else:
                rec = self.model.blindings[c]
                committer, _, revealed = self.verifier.blindingCommitment(c)
                assert committer == rec["committer"]
            assert revealed == rec["revealed"], "a commitment opened other than once with its exact opening"

    @invariant()
    def invariant_touched_state_matches_model(self):
        self._check_levels(self.touched_users)
        self._check_tasks(self.touched_tasks)
        self._check_commitments(self.touched_commitments)
        self.touched_users.clear()
        self.touched_tasks.clear()
        self.touched_commitments.clear()

    def teardown(self):
        self._check_levels(self.users)
        self._check_tasks(range(len(self.model.tasks)))
        self._check_commitments(list(self.model.bits) + list(self.model.blindings))


def test_stateful(accounts, registry, verifier):
    StateMachine.registry = registry
    StateMachine.verifier = verifier
    StateMachine.users = list(accounts[:7])
    chain.snapshot()
    started = time.monotonic()
    # hypothesis ends many runs after a few steps, so batches of runs are repeated until the
    # campaign has made TOTAL_STEPS steps.
    while STATS["steps"] < TOTAL_STEPS:
        run_state_machine_as_test(
            StateMachine,
            settings=settings(max_examples=RUNS_PER_BATCH, stateful_step_count=STEPS_PER_RUN, deadline=None),
        )
    print(f"\nstateful campaign: {STATS['runs']} runs, {STATS['steps']} rule steps, 0 violations")
    assert STATS["steps"] >= TOTAL_STEPS
    if os.environ.get("FUZZ_STEPS"):  # a campaign (`make fuzz`) records its result
        out = Path(os.environ.get("FUZZ_OUT", Path(__file__).parents[2] / "benchmarks" / "results" / "fuzz.json"))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "campaign": "tests/contracts/test_stateful.py (TaskRegistry + CommitmentVerifier vs Python model)",
            "requested_steps": TOTAL_STEPS,
            "runs": STATS["runs"],
            "steps": STATS["steps"],
            "violations": 0,
            "seconds": round(time.monotonic() - started, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }, indent=2) + "\n")
