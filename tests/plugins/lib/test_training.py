"""The training time budget: `--minutes` is the whole run, the last checkpoint included."""

from __future__ import annotations

import time

import pytest

from scorehost.plugins.lib.training import Budget


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(budget: Budget, clock: _Clock, step: float, checkpoint: float, every: int) -> tuple[float, int]:
    """The loop the train commands run, on a clock that steps and checkpoints move on."""
    steps = checkpoints = 0
    while budget.keep_training():
        clock.now += step
        steps += 1
        if steps % every == 0 or not budget.keep_training():
            with budget.checkpoint():
                clock.now += checkpoint
            checkpoints += 1
    return budget.spent, checkpoints


@pytest.mark.parametrize("step", [0.05, 0.5, 2.0])
@pytest.mark.parametrize("checkpoint", [1.0, 10.0, 25.0])
@pytest.mark.parametrize("estimate", [0.5, 1.0, 1.5])  # the estimate may be short or long
def test_the_run_ends_within_its_budget_the_last_checkpoint_included(step, checkpoint, estimate):
    clock = _Clock()
    budget = Budget(60.0, clock=clock)
    budget.expect(checkpoint * estimate)
    spent, checkpoints = _run(budget, clock, step, checkpoint, every=50)
    assert checkpoints >= 1
    # on time, but for one step and what the first guess got wrong before a checkpoint was timed
    assert spent <= 60.0 + step + max(0.0, checkpoint * (1 - estimate))
    assert spent >= 60.0 - checkpoint * max(estimate, 1.0) - step  # and the budget is used


def test_a_resumed_run_counts_the_time_already_spent():
    clock = _Clock()
    budget = Budget(60.0, clock=clock)
    budget.add(50.0)
    budget.expect(1.0)
    spent, _ = _run(budget, clock, 0.5, 1.0, every=1000)
    assert 59.0 <= spent <= 60.5


def test_train_mmm_with_a_minutes_budget_ends_on_time(tmp_path):
    """The real loop on the user's files: the final validation, test and export fit the budget
    (train --minutes 1 ran 182 s when they came after it)."""
    from scorehost.plugins.mmm.train import train

    from ..mmm.test_train import data_folder

    folder, out = data_folder(tmp_path), tmp_path / "run"
    config = {"context": 512, "dim": 32, "layers": 1, "heads": 2}
    started = time.monotonic()
    state = train(out, out / "best", folder, 0.5, 2, config, 1e-3, 10**6, 1, "cpu")
    wall = time.monotonic() - started
    assert state["step"] > 0 and (out / "best" / "mmm.json").exists()
    # data, training and the last checkpoint (valid, test, export) inside the 30 s: before,
    # the data (1.5 to 10 s here, with other work on the machine) and the checkpoint came on top
    assert wall <= 0.5 * 60 + 2, wall


def test_a_budget_the_data_used_up_still_trains_one_step_and_saves_it(tmp_path):
    from scorehost.plugins.mmm.train import train

    from ..mmm.test_train import data_folder

    folder, out = data_folder(tmp_path), tmp_path / "run"
    config = {"context": 512, "dim": 32, "layers": 1, "heads": 2}
    state = train(out, out / "best", folder, 0.001, 2, config, 1e-3, 10**6, 1, "cpu")
    assert state["step"] == 1 and (out / "best" / "mmm.json").exists() and (out / "log.json").exists()
