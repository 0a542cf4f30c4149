"""Training-loop helpers the plugins share: time budget, schedule and resumable checkpoints.

Checkpoints are torch state dicts read back with weights_only=True (no pickle of code);
shipped weights are safetensors with a JSON beside them.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # torch and safetensors load where weights are read or written
    import torch


class Budget:
    """A run's wall-clock budget (`--minutes`), its checkpoints included: training stops while
    there is still time for the last checkpoint (validation, test, export), so that the run
    ends on time. The time a checkpoint needs is the longest one measured so far, or, before
    the first, the caller's estimate. `spent` carries the time of earlier runs (a resumed one).
    The train loops take one step and a checkpoint even when nothing is left, so that every run
    saves what it did; only then can a run end past its budget.
    """

    def __init__(self, seconds: float, spent: float = 0.0, clock: Callable[[], float] = time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.reserve = 0.0
        self._origin = clock() - spent

    @property
    def spent(self) -> float:
        return self.clock() - self._origin

    def add(self, seconds: float) -> None:
        """Count time spent before this run (a resumed checkpoint's)."""
        self._origin -= seconds

    @property
    def training_seconds(self) -> float:
        """The part of the budget the training steps have (the learning rate anneals over it)."""
        return max(self.seconds - self.reserve, 1e-9)

    def keep_training(self) -> bool:
        return self.spent + self.reserve < self.seconds

    def expect(self, seconds: float) -> None:
        """An estimate of one checkpoint's time, until one is measured."""
        self.reserve = max(self.reserve, seconds)

    @contextmanager
    def checkpoint(self) -> Iterator[None]:
        """Time a checkpoint; the last one is kept this long inside the budget."""
        started = self.clock()
        yield
        self.reserve = max(self.reserve, self.clock() - started)


def timed(work: Callable[[], object], clock: Callable[[], float] = time.monotonic) -> float:
    """Seconds one call of work takes."""
    started = clock()
    work()
    return clock() - started


def learning_rate(base: float, elapsed: float, budget: float, step: int, warmup: int = 200) -> float:
    """Linear warm-up, then a cosine over the time budget (so a run ends annealed on time)."""
    return base * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / budget)))


def save_checkpoint(path: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> None:
    import torch

    saved = {"model": net.state_dict(), "optimizer": opt.state_dict(), "state": json.dumps(state)}
    torch.save(saved, path.with_suffix(".tmp"))
    path.with_suffix(".tmp").replace(path)  # a crash mid-write keeps the previous checkpoint


def load_checkpoint(path: Path, net: torch.nn.Module, opt: torch.optim.Optimizer, device: str) -> dict:
    import torch

    saved = torch.load(path, map_location=device, weights_only=True)
    net.load_state_dict(saved["model"])
    opt.load_state_dict(saved["optimizer"])
    return json.loads(saved["state"])


def export_weights(folder: Path, stem: str, net: torch.nn.Module, config: dict) -> None:
    """Weights as safetensors plus a JSON (network config, vocabulary, training stats)."""
    from safetensors.torch import save_model

    folder.mkdir(parents=True, exist_ok=True)
    # Half precision halves the shipped file; loading casts back to the network's dtype.
    save_model(copy.deepcopy(net).half(), str(folder / f"{stem}.safetensors"))  # handles tied weights
    (folder / f"{stem}.json").write_text(json.dumps(config, indent=1) + "\n")


def read_config(folder: Path, stem: str) -> dict:
    return json.loads((folder / f"{stem}.json").read_text())


def load_weights(net: torch.nn.Module, folder: Path, stem: str) -> None:
    from safetensors.torch import load_model

    load_model(net, str(folder / f"{stem}.safetensors"))


# Training on several processes (torch DistributedDataParallel). `launch` starts them, one per
# GPU (NCCL) or CPU process (gloo), or joins the ones torchrun started; each process runs the
# same training function with its `Ranks`. The global batch stays --batch, split evenly among
# the processes, each drawing its own examples (seeded by rank); rank 0 alone writes
# checkpoints, evaluates, exports and shows progress, and decides the time budget for all.

# A peer waits this long for another (rank 0's data build or checkpoint) before giving up.
PEER_TIMEOUT_MINUTES = 60


class Ranks:
    """This process's place among the training processes: rank 0 of 1 unless launched."""

    def __init__(self, rank: int = 0, world: int = 1, device: str = "cpu") -> None:
        self.rank, self.world, self.device = rank, world, device

    @property
    def main(self) -> bool:
        return self.rank == 0

    def echo(self, message: str) -> None:
        if self.main:
            print(message)

    def where(self) -> str:
        """Where the run trains, for its first line: the device, or the processes on it."""
        return self.device if self.world == 1 else f"{self.world} processes on {self.device.split(':')[0]}"

    def share(self, batch: int) -> int:
        """This process's part of the global batch."""
        if batch % self.world:
            raise click.UsageError(f"--batch {batch} does not split evenly over {self.world} processes")
        return batch // self.world

    def seed(self, step: int) -> int:
        """The seed of this process's draws from `step` on: the step itself on rank 0 (one process
        draws as it always did), a seed of (step, rank) elsewhere."""
        if self.rank == 0:
            return step
        import numpy as np

        return int(np.random.SeedSequence([step, self.rank]).generate_state(1)[0])

    def parallel(self, net: torch.nn.Module) -> torch.nn.Module:
        """The module to train through: DistributedDataParallel over net with several processes
        (gradients averaged in backward, rank 0's weights copied to all at the start)."""
        if self.world == 1:
            return net
        from torch.nn.parallel import DistributedDataParallel

        return DistributedDataParallel(net)  # inputs are on the device already: no device_ids

    def from_main(self, *values: float) -> list[float]:
        """Rank 0's values, on every process (a one-process run returns its own)."""
        if self.world == 1:
            return list(values)
        import torch
        import torch.distributed as dist

        shared = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.broadcast(shared, 0)
        return shared.tolist()

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it builds the data cache), then the others (they read it)."""
        if not self.main:
            self.from_main(0.0)
        yield
        if self.main:
            self.from_main(0.0)


nproc_option = click.option(
    "--nproc", type=click.IntRange(min=1), default=None,
    help="Train on N processes (DistributedDataParallel): one GPU each with --device cuda (NCCL), "
    "else CPU processes (gloo), --threads each. The global batch stays --batch, split evenly among "
    "them. Under torchrun leave it out (docs/training.md).",
)  # fmt: skip


def launch(work: Callable[..., None], nproc: int | None, device: str, batch: int, /, **kwargs) -> None:
    """Run work(ranks, **kwargs) on nproc processes, or as one of the processes torchrun started
    (its RANK, WORLD_SIZE, LOCAL_RANK and MASTER_* variables; torch.distributed's env:// setup),
    or, without either, as today in this process. CUDA devices take one GPU per process
    (cuda:LOCAL_RANK) and NCCL; the CPU takes gloo. work must be a module-level function."""
    import os

    launched = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    if launched:
        local = int(os.environ.get("LOCAL_WORLD_SIZE", os.environ["WORLD_SIZE"]))
        if nproc not in (None, local):
            raise click.UsageError(f"--nproc {nproc} under torchrun, which started {local} processes here")
        nproc = int(os.environ["WORLD_SIZE"])
    nproc = nproc or 1
    if nproc < 1:
        raise click.UsageError("--nproc must be 1 or more")
    Ranks(world=nproc).share(batch)  # refused before any process starts
    if nproc == 1:
        work(Ranks(device=device), **kwargs)
    elif launched:
        _join(work, device, kwargs)
    else:
        import torch

        if device.startswith("cuda"):
            if device != "cuda":
                raise click.UsageError(
                    f"--nproc takes cuda:0 to cuda:{nproc - 1}; pass --device cuda, not {device}"
                )
            if torch.cuda.device_count() < nproc:
                raise click.UsageError(
                    f"--nproc {nproc} needs {nproc} GPUs; {torch.cuda.device_count()} found"
                )
        torch.multiprocessing.spawn(_spawned, args=(nproc, _free_port(), work, device, kwargs), nprocs=nproc)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawned(rank: int, nproc: int, port: int, work: Callable[..., None], device: str, kwargs: dict) -> None:
    """One process of `launch --nproc`, given the environment torchrun would give it."""
    import os

    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(nproc),
                      LOCAL_WORLD_SIZE=str(nproc), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))  # fmt: skip
    _join(work, device, kwargs)


def _join(work: Callable[..., None], device: str, kwargs: dict) -> None:
    import datetime
    import os

    import torch
    import torch.distributed as dist

    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    if device.startswith("cuda"):
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
        torch.cuda.set_device(device)
    backend = "nccl" if device.startswith("cuda") else "gloo"
    dist.init_process_group(backend, timeout=datetime.timedelta(minutes=PEER_TIMEOUT_MINUTES))
    try:
        if rank:  # dropout differs among ranks; rank 0 keeps torch's default seed, as one process does
            torch.manual_seed(Ranks(rank, world).seed(0))
        work(Ranks(rank, world, device), **kwargs)
    finally:
        dist.destroy_process_group()


def train_steps(
    budget: Budget,
    state: dict,
    opt: torch.optim.Optimizer,
    forward: Callable[[], torch.Tensor],
    checkpoint: Callable[[], None],
    *,
    lr: float,
    eval_every: int,
    desc: str,
    ranks: Ranks,
    warmup: int = 200,
    shown: Callable[[torch.Tensor], float] = lambda loss: loss.item(),
) -> None:
    """The train commands' loop: forward() draws a batch and returns its loss; each step sets the
    learning rate, backpropagates, clips the gradient norm to 1 and steps. Every eval_every
    steps, and when the budget is spent, rank 0 runs checkpoint() (timed into the budget). At
    least one step and one checkpoint, even when nothing is left of the budget. Rank 0's clock
    decides the learning rate and the end for every process, so they stay in step."""
    import torch
    from tqdm import tqdm

    params = [p for group in opt.param_groups for p in group["params"]]
    bar = tqdm(
        initial=int(budget.spent), total=int(budget.seconds), unit="s", desc=desc, disable=not ranks.main
    )
    more = True
    while True:
        rate = learning_rate(lr, budget.spent, budget.training_seconds, state["step"], warmup)
        more, rate = ranks.from_main(more, rate)
        if not more:
            break
        for group in opt.param_groups:
            group["lr"] = rate
        loss = forward()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        state["step"] += 1
        state["elapsed"] = budget.spent
        bar.update(int(state["elapsed"]) - bar.n)
        bar.set_postfix(step=state["step"], loss=f"{shown(loss):.3f}")
        more = budget.keep_training()
        if ranks.main and (state["step"] % eval_every == 0 or not more):
            with budget.checkpoint():
                checkpoint()
            more = more and budget.keep_training()
    bar.close()
