"""The answer budget: two answers locate a receiver exactly, the budget refuses the next one."""

import json

import pytest

from crowdsense.commitments import MemorySecretStore
from crowdsense.errors import InputError
from crowdsense.ldpf.pdc import Platform, Receiver, run_round
from crowdsense.ldpf.pdc.budget import BUDGET_FILE, DEFAULT_ANSWERS, DEFAULT_PERIOD_S, AnswerBudget, AnswerBudgetExceeded


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def _receiver(grid, board, name, location, budget, **kwargs):
    return Receiver(location, grid, board=board.as_account(name), secret_store=MemorySecretStore(),
                    allow_insecure=True, budget=budget, **kwargs)


def test_two_answers_to_corner_centres_locate_the_receiver(keypair, grid, board, tmp_path):
    """Centres (0, 0) and (w - 1, 0) give x + y and (w - 1 - x) + y: x and y follow exactly."""
    platform = Platform(keypair[1], grid, board=board, allow_insecure=True)
    secret = (5, 4)
    alice = _receiver(grid, board, "alice", secret, AnswerBudget(tmp_path, limit=2))
    d1 = run_round(platform, [alice], task_id="t1", centre=(0, 0))["alice"]
    d2 = run_round(platform, [alice], task_id="t2", centre=(grid.width - 1, 0))["alice"]
    x = (d1 - d2 + grid.width - 1) // 2
    assert (x, d1 - x) == secret
    with pytest.raises(AnswerBudgetExceeded, match="answer budget exhausted: 2 answer"):
        alice.respond(platform.open_task("t3", (0, grid.height - 1)))
    assert alice.state("t3") is None and platform.distances("t3") == {}


def test_budget_refuses_the_answer_after_b(tmp_path):
    clock = Clock()
    budget = AnswerBudget(tmp_path, limit=3, period_s=60, clock=clock)
    for task in ("a", "b", "c"):
        budget.charge("p", task)
    with pytest.raises(AnswerBudgetExceeded) as caught:
        budget.charge("p", "d")
    assert "\n" not in str(caught.value) and caught.value.next_at == clock.now + 60
    assert budget.remaining("p") == 0


def test_budget_window_slides(tmp_path):
    clock = Clock()
    budget = AnswerBudget(tmp_path, limit=1, period_s=100, clock=clock)
    budget.charge("p", "a")
    clock.now += 100  # the first answer leaves the window exactly now
    budget.charge("p", "b")
    clock.now += 99
    with pytest.raises(AnswerBudgetExceeded):
        budget.charge("p", "c")


def test_budget_counts_each_platform_separately(tmp_path):
    budget = AnswerBudget(tmp_path, limit=1)
    budget.charge("p", "a")
    budget.charge("q", "a")
    with pytest.raises(AnswerBudgetExceeded):
        budget.charge("p", "b")


def test_answering_the_same_task_again_is_free(tmp_path):
    budget = AnswerBudget(tmp_path, limit=1)
    budget.charge("p", "a")
    budget.charge("p", "a")
    assert len(budget.answers("p")) == 1


def test_budget_survives_a_new_process(tmp_path):
    clock = Clock()
    AnswerBudget(tmp_path, limit=1, clock=clock).charge("p", "a")
    saved = json.loads((tmp_path / BUDGET_FILE).read_text())
    assert saved["answers"]["p"][0] == [clock.now, "a"]
    with pytest.raises(AnswerBudgetExceeded):
        AnswerBudget(tmp_path, limit=1, clock=clock).charge("p", "b")


def test_receiver_budget_is_per_platform_key_by_default(keypair, phe_keypair, grid, board, tmp_path):
    budget = AnswerBudget(tmp_path, limit=1)
    first = Platform(keypair[1], grid, board=board, allow_insecure=True)
    second = Platform(phe_keypair[1], grid, board=board, allow_insecure=True)
    alice = _receiver(grid, board, "alice", (1, 1), budget)
    run_round(first, [alice], task_id="t1", centre=(0, 0))
    run_round(second, [alice], task_id="t2", centre=(0, 0))  # another key: another budget
    with pytest.raises(AnswerBudgetExceeded):
        alice.respond(first.open_task("t3", (2, 2)))


def test_receiver_budget_follows_a_stable_platform_identity(keypair, phe_keypair, grid, board, tmp_path):
    # A platform that switches keys gets no fresh budget when the client names the platform.
    budget = AnswerBudget(tmp_path, limit=1)
    alice = _receiver(grid, board, "alice", (1, 1), budget, platform_id="0xPlatform")
    run_round(Platform(keypair[1], grid, board=board, allow_insecure=True), [alice], task_id="t1", centre=(0, 0))
    with pytest.raises(AnswerBudgetExceeded, match="0xPlatform"):
        alice.respond(Platform(phe_keypair[1], grid, board=board, allow_insecure=True).open_task("t2", (0, 0)))


def test_defaults_are_one_answer_per_day(tmp_path):
    budget = AnswerBudget(tmp_path)
    assert (budget.limit, budget.period_s) == (DEFAULT_ANSWERS, DEFAULT_PERIOD_S) == (1, 86_400.0)


@pytest.mark.parametrize("kwargs", [{"limit": 0}, {"limit": 1.5}, {"limit": True}, {"period_s": 0},
                                    {"period_s": float("inf")}, {"period_s": "1"}])
def test_bad_budget_settings_are_refused(tmp_path, kwargs):
    with pytest.raises(InputError):
        AnswerBudget(tmp_path, **kwargs)


def test_unreadable_journal_is_reported(tmp_path):
    (tmp_path / BUDGET_FILE).write_text("{not json")
    with pytest.raises(InputError, match="unreadable"):
        AnswerBudget(tmp_path).charge("p", "a")
