"""Training on several processes: two gloo processes on the CPU, each with half of a fixed global
batch, follow the one-process run step for step (the loop and launcher the train commands use)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from scorehost.plugins.lib.training import (
    Budget,
    Ranks,
    launch,
    load_checkpoint,
    save_checkpoint,
    train_steps,
)

STEPS, BATCH = 6, 8


def _tiny_run(ranks: Ranks, out: Path) -> None:
    """A tiny regression trained for STEPS steps on fixed batches of BATCH examples, of which this
    process takes its share; the clock counts steps, so every run takes the same learning rates."""
    torch.manual_seed(0)  # DDP copies rank 0's weights to the others in any case
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=0.05, weight_decay=0.01)
    data = torch.Generator().manual_seed(1)
    inputs, targets = (
        torch.randn(STEPS, BATCH, 4, generator=data),
        torch.randn(STEPS, BATCH, 1, generator=data),
    )
    share = ranks.share(BATCH)
    mine = slice(ranks.rank * share, (ranks.rank + 1) * share)
    state = {"step": 0, "elapsed": 0.0}
    budget = Budget(STEPS, clock=lambda: state["step"])
    trained, losses, saved = ranks.parallel(net), [], []

    def forward() -> torch.Tensor:
        step = state["step"]
        loss = torch.nn.functional.mse_loss(trained(inputs[step, mine]), targets[step, mine])
        losses.append(loss.item())
        return loss

    def checkpoint() -> None:
        save_checkpoint(out / "checkpoint.pt", net, opt, state)
        saved.append(state["step"])

    train_steps(
        budget, state, opt, forward, checkpoint, lr=0.05, eval_every=2, desc="tiny", ranks=ranks, warmup=2
    )
    (out / f"rank{ranks.rank}.json").write_text(json.dumps({"losses": losses, "saved": saved}))


def _run(out: Path, nproc: int) -> tuple[list[dict], dict]:
    out.mkdir()
    launch(_tiny_run, nproc, "cpu", BATCH, out=out)
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(nproc)]
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    opt = torch.optim.AdamW(net.parameters())
    assert load_checkpoint(out / "checkpoint.pt", net, opt, "cpu")["step"] == STEPS
    return ranks, net.state_dict()


def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    (one,), weights_one = _run(tmp_path / "one", 1)
    two, weights_two = _run(tmp_path / "two", 2)
    # The global loss of a step is the mean of the two halves' means (equal shares of a mean
    # squared error). Both runs add the same float32 terms in another order (a mean of 8 against
    # a mean of two means of 4, and DDP's average of the two gradients), each rounding at about
    # 6e-8 of the value; AdamW's steps (lr 0.05 over 6 steps) carry that on without amplifying
    # it, so 1e-5 of the value is a hundred times what the order of the sums can explain, and far
    # below what one different example in a batch would change (a loss of order 1 moves by 1e-1).
    global_losses = [(a + b) / 2 for a, b in zip(two[0]["losses"], two[1]["losses"], strict=True)]
    assert len(one["losses"]) == STEPS
    assert global_losses == pytest.approx(one["losses"], rel=1e-5, abs=1e-6)
    assert two[0]["losses"] != pytest.approx(two[1]["losses"], rel=1e-3)  # each rank has its own examples
    for name, weight in weights_one.items():
        assert torch.allclose(weights_two[name], weight, rtol=1e-5, atol=1e-6), name
    # rank 0 alone checkpoints, every eval_every steps and at the end
    assert one["saved"] == two[0]["saved"] == [2, 4, 6] and two[1]["saved"] == []


def test_each_rank_draws_its_own_examples_and_rank_0_draws_as_one_process_does():
    assert Ranks(0, 2).seed(5) == Ranks().seed(5) == 5
    assert len({Ranks(r, 4).seed(5) for r in range(4)} | {Ranks(r, 4).seed(6) for r in range(4)}) == 8


def test_the_global_batch_must_split_evenly():
    import click

    with pytest.raises(click.UsageError, match="does not split evenly over 3 processes"):
        launch(_tiny_run, 3, "cpu", BATCH, out=Path("unused"))
