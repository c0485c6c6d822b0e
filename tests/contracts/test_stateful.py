"""Stateful property test of both contracts against a Python model.

Random sequences of level changes, levels roots of new epochs, releases, claims (by registered
level and by Merkle proof, forged proofs included), submissions, closes, commits and reveals,
from random callers, are applied to the chain and to the model. The model predicts the outcome
of every call: success, or the exact custom error with its arguments, which the chain must
raise. The invariants below must hold after every step:

* no receiver holds two subtasks of one task;
* every claimed subtask's level equals its claimant's level at claim time (registered, or
  proven under the levels root of the task's epoch);
* every task keeps the levels epoch it was released in;
* a claimed subtask never changes hands;
* only the registrar changes levels;
* a commitment opens only with its exact opening, and only once.

Task ids, subtask indexes and commitments are drawn mostly from what exists in the current run
(one draw in ``OUT_OF_RANGE_EVERY`` names one that does not), and one of the two claim rules
has receivers claim subtasks of their own level: drawn blindly from small ranges, almost every
claim would hit a missing task and the checks behind the first one would never run. Every run
starts with the receivers registered and a task released. ``COVERAGE`` counts the outcome of every
call (``claim_succeeded``, ``claim_rejected``, ``claim_rejected_level``, ...), so that a campaign
shows which checks it exercised.

The regular suite runs a short campaign. ``make fuzz`` (or ``FUZZ_STEPS=N brownie test
tests/contracts/test_stateful.py``) runs at least N steps in total, writes the result, coverage
included, to ``benchmarks/results/fuzz.json`` (or ``$FUZZ_OUT``), and fails unless every outcome
of ``REQUIRED_OUTCOMES`` occurred in at least 1 % of the steps.

The machine is a plain hypothesis ``RuleBasedStateMachine`` that snapshots and reverts the chain
itself: brownie 1.22's compiled ``state_machine`` helper rejects the classes it generates
(``TypeError: _BrownieStateMachine object expected``). Strategies still come from
``brownie.test.strategy``.
"""

from __future__ import annotations

import json
import math
import os
import random
import secrets
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import brownie
import level_trees
from brownie import chain
from brownie.test import strategy
from hypothesis import Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from revert_strings import err

from crowdsense.commitments import bit_commitment, blinding_commitment, new_bit_opening, new_blinding_opening

LEVELS = 3
#: A claim's encryption key: the x-coordinate of the secp256k1 generator, a point of the curve.
KEY = "0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
CAMPAIGN = bool(os.environ.get("FUZZ_STEPS"))
#: rule steps in total: 400 in the regular suite, FUZZ_STEPS in a fuzzing campaign
TOTAL_STEPS = int(os.environ.get("FUZZ_STEPS") or 400)
#: steps of a run (a sequence of steps from a fresh deployment)
STEPS_PER_RUN = 100 if CAMPAIGN else 50
#: runs hypothesis keeps short at the start of every batch (its ``small_example_cap``: at least
#: 10, and a tenth of the batch): batches are made large so that most runs are full length
SMALL_RUNS = 10
#: one draw in this many names a task, subtask or commitment that does not exist
OUT_OF_RANGE_EVERY = 12
#: users: 0 admin, 1 registrar, 2 releaser, 3.. receivers
RECEIVERS = range(3, 7)
#: outcomes a campaign must reach in at least 1 % of its steps
REQUIRED_OUTCOMES = (
    "claim_succeeded", "claim_rejected_level", "claim_rejected_claimed", "claim_rejected_holds",
    "claim_rejected_closed", "submit_succeeded", "reveal_succeeded", "reveal_rejected",
    "set_root_succeeded", "proof_claim_succeeded", "proof_claim_rejected_proof",
)

#: the short name of each custom error in the outcome counts
REASONS = {
    "AccessControlUnauthorizedAccount": "role",
    "TaskRegistryUnknownTask": "unknown",
    "TaskRegistryTaskClosed": "closed",
    "TaskRegistryIndexOutOfRange": "index",
    "TaskRegistryNotRegistered": "unregistered",
    "TaskRegistryInvalidLevel": "level_range",
    "TaskRegistryLevelMismatch": "level",
    "TaskRegistryAlreadyClaimed": "claimed",
    "TaskRegistryAlreadyHoldsSubtask": "holds",
    "TaskRegistryNotClaimant": "not_claimant",
    "TaskRegistryDataAlreadySubmitted": "submitted",
    "TaskRegistryNotReleaser": "not_releaser",
    "TaskRegistryNoLevelsRoot": "no_root",
    "TaskRegistryInvalidLevelProof": "proof",
    "TaskRegistrySelectionRequired": "selection_required",
    "TaskRegistryNotForSelection": "not_for_selection",
    "TaskRegistrySelectionPending": "selection_pending",
    "TaskRegistrySelectionAlreadySet": "selection_set",
    "TaskRegistryNotSelected": "not_selected",
    "CommitmentVerifierAlreadyCommitted": "committed",
    "CommitmentVerifierNotFound": "unknown",
    "CommitmentVerifierAlreadyRevealed": "revealed",
    "CommitmentVerifierOpeningMismatch": "mismatch",
}

STATS: dict[str, Any] = {"steps": 0, "runs": 0, "run_lengths": []}
COVERAGE: Counter = Counter()

#: a custom error as (name, *arguments), or None for a call that must succeed
Expected = tuple | None


class Model:
    """Python model of TaskRegistry + CommitmentVerifier."""

    def __init__(self):
        self.levels = {}  # address -> level
        self.roots = []  # per epoch 1, 2, ...: dict(levels: address -> level, proofs: address -> proof)
        self.tasks = []  # list of dict(releaser, levels, claimants, data, closed, epoch)
        # (str(committer), commitment) -> dict(opening, committer, revealed): the verifier keys
        # records by committer, so a copied commitment is another record
        self.bits = {}
        self.blindings = {}

    def task_error(self, task_id: int) -> Expected:
        """Why task ``task_id`` is not open, or None."""
        if task_id >= len(self.tasks):
            return ("TaskRegistryUnknownTask", task_id)
        if self.tasks[task_id]["closed"]:
            return ("TaskRegistryTaskClosed", task_id)
        return None

    def subtask_error(self, task_id: int, index: int, *, plain_claim: bool = False) -> Expected:
        """Why subtask ``index`` of task ``task_id`` is not an open subtask, or None; with
        ``plain_claim``, also a task released for selection (claimed only with a selection)."""
        error = self.task_error(task_id)
        if error is None and plain_claim and self.tasks[task_id]["selection"] is not False:
            return ("TaskRegistrySelectionRequired", task_id)
        count = len(self.tasks[task_id]["levels"]) if error is None else 0
        if error is None and index >= count:
            return ("TaskRegistryIndexOutOfRange", task_id, index, count)
        return error

    def claim_error(self, task_id: int, index: int, user) -> Expected:
        """The contract's checks of ``claimSubtask``, in its order."""
        return (self.subtask_error(task_id, index, plain_claim=True)
                or self._claimant_level_error(task_id, index, user))

    def selection_error(self, task_id: int, caller, selector) -> Expected:
        """The contract's checks of ``setSelection`` (the role first: the modifier)."""
        if caller != selector:
            return ("AccessControlUnauthorizedAccount", caller, "SELECTOR_ROLE")
        error = self._for_selection_error(task_id)
        if error is not None:
            return error
        selection = self.tasks[task_id]["selection"]
        if selection is not None:
            return ("TaskRegistrySelectionAlreadySet", task_id, selection["root"])
        return None

    def _for_selection_error(self, task_id: int) -> Expected:
        """Why task ``task_id`` is not an open task released for selection, or None."""
        error = self.task_error(task_id)
        if error is None and self.tasks[task_id]["selection"] is False:
            return ("TaskRegistryNotForSelection", task_id)
        return error

    def selected_claim_error(self, task_id: int, index: int, user, valid: bool) -> Expected:
        """The contract's checks of ``claimSelectedSubtask`` with the registered level, in its
        order; ``valid``: the selection proof leads from the user's leaf to the task's root."""
        error = self._for_selection_error(task_id) or self.subtask_error(task_id, index)
        if error is not None:
            return error
        if self.tasks[task_id]["selection"] is None:
            return ("TaskRegistrySelectionPending", task_id)
        if not valid:
            return ("TaskRegistryNotSelected", task_id, user)
        return self._claimant_level_error(task_id, index, user)

    def proof_claim_error(self, task_id: int, index: int, user, level: int, valid: bool) -> Expected:
        """The contract's checks of ``claimSubtaskWithProof``, in its order; ``valid``: the proof
        leads from (user, level) to the root of the task's epoch."""
        error = self.subtask_error(task_id, index, plain_claim=True)
        if error is not None:
            return error
        epoch = self.tasks[task_id]["epoch"]
        if epoch == 0:
            return ("TaskRegistryNoLevelsRoot", task_id)
        if not valid:
            return ("TaskRegistryInvalidLevelProof", task_id, epoch, user, level)
        return self._claim_rules_error(task_id, index, user, level)

    def _claimant_level_error(self, task_id: int, index: int, user) -> Expected:
        level = self.levels.get(user, 0)
        if level == 0:
            return ("TaskRegistryNotRegistered", user)
        return self._claim_rules_error(task_id, index, user, level)

    def _claim_rules_error(self, task_id: int, index: int, user, level: int) -> Expected:
        t = self.tasks[task_id]
        required, claimant = t["levels"][index], t["claimants"][index]
        if level != required:
            return ("TaskRegistryLevelMismatch", user, required, level)
        if claimant is not None:
            return ("TaskRegistryAlreadyClaimed", task_id, index, claimant)
        if user in t["claimants"]:
            return ("TaskRegistryAlreadyHoldsSubtask", task_id, user, t["claimants"].index(user))
        return None

    def submit_error(self, task_id: int, index: int, user) -> Expected:
        """The contract's checks of ``submitData``, in its order (the data hash is never zero)."""
        return self.subtask_error(task_id, index) or self._submitter_error(task_id, index, user)

    def _submitter_error(self, task_id: int, index: int, user) -> Expected:
        t = self.tasks[task_id]
        if t["claimants"][index] != user:
            return ("TaskRegistryNotClaimant", task_id, index, user)
        if t["data"][index] is not None:
            return ("TaskRegistryDataAlreadySubmitted", task_id, index)
        return None

    def open_error(self, book: dict, commitment: bytes, user, computed: bytes) -> Expected:
        """The verifier's checks of a reveal, in its order (no ageing: the window is one day);
        ``computed`` is the commitment the given opening hashes to."""
        rec = book.get((str(user), commitment))
        if rec is None:
            return ("CommitmentVerifierNotFound", commitment)
        if rec["revealed"]:
            return ("CommitmentVerifierAlreadyRevealed", commitment)
        if computed != commitment:
            return ("CommitmentVerifierOpeningMismatch", commitment, computed)
        return None


st_user = strategy("uint8", max_value=6)
st_level = strategy("uint8", max_value=LEVELS + 1)
st_levels = strategy("uint8[]", min_length=1, max_length=5, min_value=1, max_value=LEVELS)
st_receiver_levels = strategy("uint8[4]", min_value=1, max_value=LEVELS)
st_bool = strategy("bool")
st_pick = strategy("uint16")
#: one draw packing a task pick, an index pick, a user and a flag (see ``unpack``)
st_draw = strategy("uint64")


def unpack(draw: int) -> tuple[int, int, int, bool]:
    """``(task_pick, index_pick, st_user, st_bool)``, uniform, seeded by one uint64 draw.

    Hypothesis draws rules with few arguments several times as often as rules with four (it
    orders rules by argument count and favours the first): the rules that need the most
    steps to reach their checks (claims, submissions, reveals) take one draw instead of four. The fields come from a generator seeded with it, not from its bits,
    because hypothesis favours small integers (high bits mostly 0)."""
    rng = random.Random(draw)
    return rng.getrandbits(16), rng.getrandbits(16), rng.randrange(7), rng.random() < 0.5


class StateMachine(RuleBasedStateMachine):
    registry = None  # set by the test
    verifier = None
    users: list = []  # 0 admin, 1 registrar, 2 releaser, 3.. receivers
    roles: dict = {}  # role getter name -> role id as bytes

    def __init__(self):
        chain.revert()  # back to the snapshot taken right after deployment
        super().__init__()
        self.model = Model()
        self.touched_users = set()
        self.touched_tasks = set()
        self.touched_commitments = set()
        self.steps = 0
        STATS["runs"] += 1

    def _step(self):
        STATS["steps"] += 1
        self.steps += 1

    def _expect(self, action: str, expected: Expected, call: Callable[[], Any]) -> Any:
        """Make ``call``; it must succeed when ``expected`` is None, else revert with exactly
        that error. Counts the outcome and returns the transaction (None after a revert)."""
        if expected is None:
            COVERAGE[f"{action}_succeeded"] += 1
            return call()
        name, *args = expected
        COVERAGE[f"{action}_rejected"] += 1
        COVERAGE[f"{action}_rejected_{REASONS[name]}"] += 1
        with brownie.reverts(err(name, *args)):
            call()
        return None

    def _role_error(self, caller, role: str, holder) -> Expected:
        if caller == holder:
            return None
        return ("AccessControlUnauthorizedAccount", caller, self.roles[role])

    # ------------------------------------------------------------------ draws from what exists

    def _task_id(self, pick: int) -> int:
        """An existing task, except one pick in OUT_OF_RANGE_EVERY (or when there is none)."""
        count = len(self.model.tasks)
        if count == 0 or pick % OUT_OF_RANGE_EVERY == 0:
            return count + pick % 3
        return pick % count

    def _index(self, task_id: int, pick: int) -> int:
        """A subtask of ``task_id``, except one pick in OUT_OF_RANGE_EVERY."""
        count = len(self.model.tasks[task_id]["levels"]) if task_id < len(self.model.tasks) else 1
        if pick % OUT_OF_RANGE_EVERY == 1:
            return count + pick % 2
        return pick % count

    # -------------------------------------------------------------- registry rules

    @initialize(levels=st_receiver_levels, st_levels=st_levels)
    def init_receivers_and_task(self, levels, st_levels):
        """Every run starts with the receivers registered (in the mapping and under the levels
        root of epoch 1, at the same levels) and one task released."""
        receivers = [self.users[i] for i in RECEIVERS]
        self.registry.setLevels(receivers, list(levels), {"from": self.users[1]})
        self.model.levels.update(zip(receivers, levels))
        members = dict(zip(receivers, levels))
        root, proofs, salts = level_trees.tree(chain.id, self.registry.address, members)
        self.registry.setLevelsRoot(root, {"from": self.users[1]})
        self.model.roots.append({"levels": members, "proofs": proofs, "salts": salts})
        self.touched_users.update(receivers)
        self._release(st_levels, self.users[2])

    @rule(st_user=st_user, st_level=st_level, st_bool=st_bool)
    def rule_set_level(self, st_user, st_level, st_bool):
        self._step()
        user = self.users[st_user]
        self.touched_users.add(user)
        caller = self.users[1] if st_bool else self.users[(st_user + 2) % 7]
        expected = self._role_error(caller, "REGISTRAR_ROLE", self.users[1])
        if expected is None and not 1 <= st_level <= LEVELS:
            expected = ("TaskRegistryInvalidLevel", st_level, LEVELS)
        self._expect("set_level", expected, lambda: self.registry.setLevels([user], [st_level], {"from": caller}))
        if expected is None:
            self.model.levels[user] = st_level

    @rule(st_user=st_user, st_bool=st_bool)
    def rule_clear_level(self, st_user, st_bool):
        self._step()
        user = self.users[st_user]
        self.touched_users.add(user)
        caller = self.users[1] if st_bool else self.users[0]
        expected = self._role_error(caller, "REGISTRAR_ROLE", self.users[1])
        self._expect("clear_level", expected, lambda: self.registry.clearLevels([user], {"from": caller}))
        if expected is None:
            self.model.levels[user] = 0

    def _release(self, st_levels, caller, *, for_selection: bool = False) -> None:
        hashes = [secrets.token_bytes(32) for _ in st_levels]
        expected = self._role_error(caller, "RELEASER_ROLE", self.users[2])
        release = self.registry.releaseTaskForSelection if for_selection else self.registry.releaseTask
        tx = self._expect("release", expected, lambda: release(hashes, list(st_levels), {"from": caller}))
        if expected is None:
            assert tx.return_value == len(self.model.tasks)
            self.touched_tasks.add(len(self.model.tasks))
            self.model.tasks.append(
                {"levels": list(st_levels), "claimants": [None] * len(st_levels), "data": [None] * len(st_levels),
                 "closed": False, "releaser": caller, "epoch": len(self.model.roots),
                 # False: not for selection; None: for selection, not fixed yet; else its tree
                 "selection": None if for_selection else False}
            )

    @rule(st_levels=st_levels, st_bool=st_bool)
    def rule_release(self, st_levels, st_bool):
        self._step()
        self._release(st_levels, self.users[2] if st_bool else self.users[3])

    def _claim(self, task_id: int, index: int, user) -> None:
        self.touched_tasks.add(task_id)
        expected = self.model.claim_error(task_id, index, user)
        tx = self._expect("claim", expected, lambda: self.registry.claimSubtask(task_id, index, KEY, {"from": user}))
        if expected is None:
            assert tx.events["SubtaskClaimed"]["level"] == self.model.levels[user]
            self.model.tasks[task_id]["claimants"][index] = user

    @rule(draw=st_draw)
    def rule_claim(self, draw):
        """Any user claims any subtask."""
        self._step()
        task_pick, index_pick, st_user, _ = unpack(draw)
        task_id = self._task_id(task_pick)
        self._claim(task_id, self._index(task_id, index_pick), self.users[st_user])

    @rule(draw=st_draw)
    def rule_claim_at_own_level(self, draw):
        """A receiver claims a subtask of its own level (one draw in three, one it can win; one in
        six, in a closed task): the claims that pass the level check, and then succeed or meet a
        claimed subtask or a closed task. With ``st_bool``, a receiver that holds a
        subtask tries a second unclaimed one of its level in the same task (if some task
        allows that): the one-subtask-per-task rule."""
        self._step()
        task_pick, index_pick, st_user, st_bool = unpack(draw)
        tasks = self.model.tasks
        # Tasks released for selection refuse every plain claim alike; rule_claim meets them.
        plain = [i for i, t in enumerate(tasks) if t["selection"] is False]
        seconds = [(task_id, i, user) for task_id in plain for user in tasks[task_id]["claimants"] if user
                   for i, level in enumerate(tasks[task_id]["levels"]) if tasks[task_id]["claimants"][i] is None
                   and level == self.model.levels.get(user)]
        if st_bool and seconds:
            self._claim(*seconds[task_pick % len(seconds)])
            return
        winnable = self._winnable() if index_pick % 3 == 1 else []
        if winnable:
            self._claim(*winnable[task_pick % len(winnable)])
            return
        task_id = plain[task_pick % len(plain)] if plain else self._task_id(task_pick)
        closed = [i for i in plain if tasks[i]["closed"]]
        if index_pick % 3 == 2 and closed:  # a task its releaser closed already
            task_id = closed[task_pick % len(closed)]
        index = self._index(task_id, index_pick)
        user = self.users[RECEIVERS[st_user % len(RECEIVERS)]]
        if task_id < len(tasks) and index < len(tasks[task_id]["levels"]):
            t = tasks[task_id]
            own = [i for i, level in enumerate(t["levels"]) if level == self.model.levels.get(user)]
            if index_pick % 3:  # mostly an unclaimed one (if any)
                own = [i for i in own if t["claimants"][i] is None] or own
            index = own[index_pick % len(own)] if own else index
        self._claim(task_id, index, user)

    def _submit(self, task_id: int, index: int, user) -> None:
        self.touched_tasks.add(task_id)
        data = secrets.token_bytes(32)
        expected = self.model.submit_error(task_id, index, user)
        self._expect("submit", expected, lambda: self.registry.submitData(task_id, index, data, {"from": user}))
        if expected is None:
            self.model.tasks[task_id]["data"][index] = data

    def _winnable(self) -> list:
        """(task, index, receiver) of every claim that should succeed now: an open task, an
        unclaimed subtask, a registered receiver of its level holding nothing in the task.
        Levels are cleared and tasks closed often, so blind picks rarely find one, and every
        successful submission needs one."""
        receivers = [self.users[r] for r in RECEIVERS]
        return [(task_id, i, user) for task_id, t in enumerate(self.model.tasks)
                if not t["closed"] and t["selection"] is False
                for user in receivers if user not in t["claimants"]
                for i, level in enumerate(t["levels"])
                if t["claimants"][i] is None and level == self.model.levels.get(user)]

    def _winnable_by_proof(self) -> list:
        """(task, index, receiver) of every claim by proof that should succeed now: a member of
        the root of an open task's epoch, an unclaimed subtask of its proven level there."""
        out = []
        for task_id, t in enumerate(self.model.tasks):
            if t["closed"] or not t["epoch"] or t["selection"] is not False:
                continue
            for user, level in self.model.roots[t["epoch"] - 1]["levels"].items():
                if user not in t["claimants"]:
                    out.extend((task_id, i, user) for i, lvl in enumerate(t["levels"])
                               if lvl == level and t["claimants"][i] is None)
        return out

    def _claim_by_proof(self, task_id: int, index: int, user) -> None:
        """A claim with ``user``'s own proof under the root of the task's epoch (it must win)."""
        root = self.model.roots[self.model.tasks[task_id]["epoch"] - 1]
        self._proof_claim(task_id, index, user, root["levels"][user], root["salts"][str(user)],
                          root["proofs"][str(user)], valid=True)

    def _proof_claim(self, task_id: int, index: int, user, level: int, salt: bytes, proof: list, *,
                     valid: bool) -> None:
        """``claimSubtaskWithProof`` as the model predicts it; ``valid``: the proof leads from
        (user, level, salt) to the root of the task's epoch."""
        self.touched_tasks.add(task_id)
        expected = self.model.proof_claim_error(task_id, index, user, level, valid)
        tx = self._expect("proof_claim", expected, lambda: self.registry.claimSubtaskWithProof(
            task_id, index, KEY, level, salt, proof, {"from": user}))
        if expected is None:
            assert tx.events["SubtaskClaimed"]["level"] == level
            self.model.tasks[task_id]["claimants"][index] = user

    @rule(draw=st_draw)
    def rule_claim_then_submit(self, draw):
        """The honest flow of one receiver: it claims a subtask it can win (by its registered
        level, or with ``st_bool`` by its proof) and submits its data. When nothing can be won,
        the releaser releases a task of every level instead."""
        self._step()
        task_pick, _, _, st_bool = unpack(draw)
        winnable = self._winnable_by_proof() if st_bool else self._winnable()
        if not winnable:
            self._release(list(range(1, LEVELS + 1)), self.users[2])
            return
        task_id, index, user = winnable[task_pick % len(winnable)]
        (self._claim_by_proof if st_bool else self._claim)(task_id, index, user)
        self._submit(task_id, index, user)

    @rule(st_receiver_levels=st_receiver_levels, draw=st_draw)
    def rule_set_levels_root(self, st_receiver_levels, draw):
        """The registrar (or, one draw in six, another user) publishes the root of a new epoch
        over some of the receivers (those left out are removed from it)."""
        self._step()
        pick, _, st_user, st_bool = unpack(draw)
        members = {self.users[r]: level for bit, (r, level) in enumerate(zip(RECEIVERS, st_receiver_levels))
                   if pick >> bit & 1 or bit == pick % len(RECEIVERS)}
        root, proofs, salts = level_trees.tree(chain.id, self.registry.address, members)
        caller = self.users[st_user] if st_bool and pick % 3 == 0 else self.users[1]
        expected = self._role_error(caller, "REGISTRAR_ROLE", self.users[1])
        tx = self._expect("set_root", expected, lambda: self.registry.setLevelsRoot(root, {"from": caller}))
        if expected is None:
            self.model.roots.append({"levels": members, "proofs": proofs, "salts": salts})
            assert tx.return_value == len(self.model.roots) == self.registry.levelsEpoch()

    @rule(draw=st_draw)
    def rule_claim_with_proof(self, draw):
        """A receiver claims by proof, mostly with its own proof of the task's epoch for a subtask
        of its proven level; with ``st_bool``, a forged one: another level, a guessed salt, or
        another member's salt and proof (of a receiver left out of the epoch, any proof is one)."""
        self._step()
        task_pick, index_pick, st_user, st_bool = unpack(draw)
        tasks = self.model.tasks
        task_id = self._task_id(task_pick)
        user = self.users[RECEIVERS[st_user % len(RECEIVERS)]]
        winnable = self._winnable_by_proof()
        if index_pick % 3 and winnable:  # mostly where its own proof would win (forged or not)
            task_id, _, user = winnable[task_pick % len(winnable)]
        epoch = tasks[task_id]["epoch"] if task_id < len(tasks) else len(self.model.roots)
        root = self.model.roots[epoch - 1] if epoch else {"levels": {}, "proofs": {}, "salts": {}}
        level, salt, proof, valid = 1 + index_pick % LEVELS, bytes(32), [], False
        if user in root["levels"]:
            level, salt, proof, valid = root["levels"][user], root["salts"][str(user)], root["proofs"][str(user)], True
        if st_bool:
            others = [a for a in root["levels"] if a != user]
            forge = index_pick % 3 if others else 2
            if forge == 0:  # another member's salt and proof
                other = str(others[task_pick % len(others)])
                salt, proof, valid = root["salts"][other], root["proofs"][other], False
            elif forge == 1:  # its own proof with a guessed salt
                salt, valid = secrets.token_bytes(32), False
            else:  # its own salt and proof, another level
                level, valid = level % LEVELS + 1, False
        index = self._index(task_id, index_pick)
        if task_id < len(tasks) and index < len(tasks[task_id]["levels"]) and index_pick % 3:
            t = tasks[task_id]  # mostly an unclaimed subtask of the level claimed
            fitting = [i for i, lvl in enumerate(t["levels"]) if lvl == level and t["claimants"][i] is None]
            index = fitting[index_pick % len(fitting)] if fitting else index
        self._proof_claim(task_id, index, user, level, salt, proof, valid=valid)

    @rule(st_levels=st_levels, draw=st_draw)
    def rule_select(self, st_levels, draw):
        """The platform (or, one draw in six, another user) fixes the selection of a task released
        for selection, over some receivers; when no such task is open, the releaser releases one."""
        self._step()
        pick, index_pick, st_user, st_bool = unpack(draw)
        waiting = [i for i, t in enumerate(self.model.tasks) if t["selection"] is None and not t["closed"]]
        if not waiting and index_pick % 4:
            self._release(st_levels, self.users[2], for_selection=True)
            return
        task_id = waiting[pick % len(waiting)] if waiting and index_pick % 4 else self._task_id(pick)
        members = [self.users[r] for bit, r in enumerate(RECEIVERS) if pick >> bit & 1 or bit == pick % len(RECEIVERS)]
        root, proofs = level_trees.selection_tree(chain.id, self.registry.address, task_id, [str(u) for u in members])
        caller = self.users[st_user] if st_bool and pick % 3 == 0 else self.users[0]
        self.touched_tasks.add(task_id)
        expected = self.model.selection_error(task_id, caller, self.users[0])
        if expected is not None and expected[0] == "AccessControlUnauthorizedAccount":
            expected = (expected[0], caller, self.roles["SELECTOR_ROLE"])
        self._expect("select", expected, lambda: self.registry.setSelection(task_id, root, {"from": caller}))
        if expected is None:
            self.model.tasks[task_id]["selection"] = {"root": root, "proofs": proofs}

    @rule(draw=st_draw)
    def rule_claim_selected(self, draw):
        """A receiver claims a subtask of a task released for selection with its registered level:
        mostly with its own proof where it is selected (and a subtask of its level); with
        ``st_bool`` with another selected receiver's proof, or with no proof at all."""
        self._step()
        task_pick, index_pick, st_user, st_bool = unpack(draw)
        tasks = self.model.tasks
        chosen = [(i, u) for i, t in enumerate(tasks) if t["selection"] and not t["closed"]
                  for u in t["selection"]["proofs"]]
        if chosen and index_pick % 3:
            task_id, name = chosen[task_pick % len(chosen)]
            user = next(u for u in self.users if str(u) == name)
        else:
            task_id, user = self._task_id(task_pick), self.users[RECEIVERS[st_user % len(RECEIVERS)]]
        selection = tasks[task_id]["selection"] if task_id < len(tasks) else None
        proofs = selection["proofs"] if selection else {}
        salt, proof, valid = bytes(32), [], False
        if str(user) in proofs:
            (salt, proof), valid = proofs[str(user)], True
        if st_bool and proofs:
            other = sorted(proofs)[index_pick % len(proofs)]
            salt, proof = proofs[other]
            valid = other == str(user)
        index = self._index(task_id, index_pick)
        if task_id < len(tasks) and index < len(tasks[task_id]["levels"]) and index_pick % 3:
            t = tasks[task_id]
            fitting = [i for i, lvl in enumerate(t["levels"])
                       if lvl == self.model.levels.get(user) and t["claimants"][i] is None]
            index = fitting[index_pick % len(fitting)] if fitting else index
        self.touched_tasks.add(task_id)
        expected = self.model.selected_claim_error(task_id, index, user, valid)
        tx = self._expect("selected_claim", expected, lambda: self.registry.claimSelectedSubtask(
            task_id, index, KEY, 0, bytes(32), [], salt, proof, {"from": user}))
        if expected is None:
            assert tx.events["SubtaskClaimed"]["level"] == self.model.levels[user]
            self.model.tasks[task_id]["claimants"][index] = user

    @rule(draw=st_draw)
    def rule_submit(self, draw):
        """Any user submits for any subtask; with ``st_bool``, the claimant of a claimed
        subtask (if any), mostly one of an open task without data yet."""
        self._step()
        task_pick, index_pick, st_user, st_bool = unpack(draw)
        claimed = [(task_id, i, user) for task_id, t in enumerate(self.model.tasks)
                   for i, user in enumerate(t["claimants"])
                   if user and (index_pick % 4 == 0 or not t["closed"] and t["data"][i] is None)]
        if st_bool and claimed:
            task_id, index, user = claimed[task_pick % len(claimed)]
        else:
            task_id = self._task_id(task_pick)
            index, user = self._index(task_id, index_pick), self.users[st_user]
        self._submit(task_id, index, user)

    @rule(task_pick=st_pick, st_bool=st_bool)
    def rule_close(self, task_pick, st_bool):
        """The releaser (one call in four) or the admin closes a task: tasks stay open long
        enough for their subtasks to be claimed and submitted."""
        self._step()
        caller = self.users[2] if st_bool and task_pick % 2 else self.users[0]
        task_id = self._task_id(task_pick)
        self.touched_tasks.add(task_id)
        expected = self.model.task_error(task_id)
        if expected is None and caller != self.model.tasks[task_id]["releaser"]:
            expected = ("TaskRegistryNotReleaser", task_id, caller)
        self._expect("close", expected, lambda: self.registry.closeTask(task_id, {"from": caller}))
        if expected is None:
            self.model.tasks[task_id]["closed"] = True

    # -------------------------------------------------------------- commitment rules

    def _committed(self, book: dict, opening, user) -> None:
        """Record a commitment ``user`` just made in the model's ``book`` (bits or blindings)."""
        key = (str(user), opening.commitment)
        self.touched_commitments.add(key)
        book[key] = {"opening": opening, "committer": user, "revealed": False}

    def _pick(self, book: dict, st_pick, st_user, st_bool):
        """A commitment of ``book`` (one pick in OUT_OF_RANGE_EVERY, or when the book is empty,
        a fresh one that was never made), its record, and the caller to try: its committer when
        ``st_bool``, else any user (whose own record of that hash exists only if it copied it)."""
        if not book or st_pick % OUT_OF_RANGE_EVERY == 0:
            return secrets.token_bytes(32), None, self.users[st_user]
        key = sorted(book)[st_pick % len(book)]
        rec = book[key]
        caller = rec["committer"] if st_bool else self.users[st_user]
        self.touched_commitments.update({key, (str(caller), key[1])} & book.keys())
        return key[1], rec, caller

    @rule(st_user=st_user)
    def rule_commit_bit(self, st_user):
        self._step()
        opening = new_bit_opening(secrets.token_bytes(1 + st_user * 7))
        user = self.users[st_user]
        self._expect("commit", None, lambda: self.verifier.commitBit(opening.commitment, opening.r1, {"from": user}))
        self._committed(self.model.bits, opening, user)

    @rule(draw=st_draw)
    def rule_reveal_bit(self, draw):
        self._step()
        st_pick, _, st_user, st_bool = unpack(draw)
        c, rec, user = self._pick(self.model.bits, st_pick, st_user, st_bool)
        opening = rec["opening"] if rec else new_bit_opening(b"never committed")
        payload = opening.payload + (b"!" if st_pick % 3 == 0 else b"")
        expected = self.model.open_error(self.model.bits, c, user, bit_commitment(opening.r1, opening.r2, payload))
        self._expect("reveal", expected, lambda: self.verifier.revealBit(c, opening.r2, payload, {"from": user}))
        if expected is None:
            self.model.bits[(str(user), c)]["revealed"] = True

    @rule(st_pick=st_pick, st_user=st_user)
    def rule_recommit_or_copy_bit(self, st_pick, st_user):
        """Commit a hash on record again: refused for its committer, a record of its own for anyone
        else (a front-runner's copy, which leaves the first record as it was)."""
        self._step()
        if not self.model.bits:
            return
        key = sorted(self.model.bits)[st_pick % len(self.model.bits)]
        c, opening, user = key[1], self.model.bits[key]["opening"], self.users[st_user]
        self.touched_commitments.add(key)
        expected = ("CommitmentVerifierAlreadyCommitted", c) if (str(user), c) in self.model.bits else None
        self._expect("commit", expected, lambda: self.verifier.commitBit(c, opening.r1, {"from": user}))
        if expected is None:
            self._committed(self.model.bits, opening, user)

    @rule(st_user=st_user, st_pick=st_pick)
    def rule_commit_blinding(self, st_user, st_pick):
        self._step()
        opening = new_blinding_opening(st_pick)
        user = self.users[st_user]
        self._expect("commit", None, lambda: self.verifier.commitBlinding(opening.commitment, {"from": user}))
        self._committed(self.model.blindings, opening, user)

    @rule(draw=st_draw)
    def rule_reveal_blinding(self, draw):
        self._step()
        st_pick, _, st_user, st_bool = unpack(draw)
        c, rec, user = self._pick(self.model.blindings, st_pick, st_user, st_bool)
        opening = rec["opening"] if rec else new_blinding_opening(st_pick)
        r = opening.r + (1 if st_pick % 3 == 0 else 0)
        expected = self.model.open_error(self.model.blindings, c, user, blinding_commitment(r, opening.salt))
        self._expect("reveal", expected, lambda: self.verifier.revealBlinding(c, r, opening.salt, {"from": user}))
        if expected is None:
            self.model.blindings[(str(user), c)]["revealed"] = True

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
            assert self.registry.taskLevelsEpoch(task_id) == t["epoch"]
            selection = t["selection"]
            assert tuple(self.registry.taskSelection(task_id)) == (
                selection is not False, "0x" + (selection["root"] if selection else bytes(32)).hex())
            for index, claimant in enumerate(t["claimants"]):
                _, level, onchain, data = self.registry.getSubtask(task_id, index)
                assert level == t["levels"][index]
                assert onchain == (claimant or brownie.ZERO_ADDRESS), "a claimed subtask changed hands"
                assert data == "0x" + (t["data"][index] or bytes(32)).hex()

    def _check_commitments(self, keys):
        for key in keys:
            c = key[1]
            if key in self.model.bits:
                rec = self.model.bits[key]
                recorded, _, r1, revealed = self.verifier.bitCommitment(rec["committer"], c)
                assert (recorded, r1) == (True, "0x" + rec["opening"].r1.hex())
            else:
                rec = self.model.blindings[key]
                recorded, _, revealed = self.verifier.blindingCommitment(rec["committer"], c)
                assert recorded
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
        STATS["run_lengths"].append(self.steps)
        self._check_levels(self.users)
        self._check_tasks(range(len(self.model.tasks)))
        self._check_commitments(list(self.model.bits) + list(self.model.blindings))


def test_stateful(accounts, registry, verifier):
    StateMachine.registry = registry
    StateMachine.verifier = verifier
    StateMachine.users = list(accounts[:7])
    StateMachine.roles = {name: bytes(getattr(registry, name)())
                          for name in ("REGISTRAR_ROLE", "RELEASER_ROLE", "SELECTOR_ROLE")}
    registry.grantRole(registry.SELECTOR_ROLE(), accounts[0], {"from": accounts[0]})  # the platform: the admin
    chain.snapshot()
    started = time.monotonic()
    # One batch of enough runs for TOTAL_STEPS, repeated while steps are missing. No example
    # database: every batch generates new sequences instead of replaying stored ones.
    while STATS["steps"] < TOTAL_STEPS:
        full_runs = math.ceil((TOTAL_STEPS - STATS["steps"]) / STEPS_PER_RUN)
        run_state_machine_as_test(
            StateMachine,
            settings=settings(max_examples=SMALL_RUNS + full_runs + full_runs // 9, stateful_step_count=STEPS_PER_RUN,
                              deadline=None, database=None, phases=(Phase.generate, Phase.shrink)),
        )
    lengths = sorted(STATS["run_lengths"])
    print(f"\nstateful campaign: {STATS['runs']} runs, {STATS['steps']} rule steps, 0 violations; "
          f"run lengths {lengths}; outcomes {dict(sorted(COVERAGE.items()))}")
    assert STATS["steps"] >= TOTAL_STEPS
    if CAMPAIGN:  # a campaign (`make fuzz`) records its result, then must have reached every outcome
        out = Path(os.environ.get("FUZZ_OUT", Path(__file__).parents[2] / "benchmarks" / "results" / "fuzz.json"))
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "campaign": "tests/contracts/test_stateful.py (TaskRegistry + CommitmentVerifier vs Python model)",
            "requested_steps": TOTAL_STEPS,
            "runs": STATS["runs"],
            "steps": STATS["steps"],
            "median_steps_per_run": statistics.median(lengths),
            "longest_run": lengths[-1],
            "violations": 0,
            "coverage": dict(sorted(COVERAGE.items())),
            "seconds": round(time.monotonic() - started, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }, indent=2) + "\n")
        floor = TOTAL_STEPS // 100
        missed = {o: COVERAGE[o] for o in REQUIRED_OUTCOMES if COVERAGE[o] < floor}
        assert not missed, f"outcomes reached fewer than {floor} times: {missed}"
    # Even the short campaign exercises the claim checks past the task lookup.
    assert COVERAGE["claim_succeeded"] and COVERAGE["claim_rejected_level"], dict(COVERAGE)
