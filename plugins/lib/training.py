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
