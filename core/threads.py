"""How the engine's CPU workers use the cores: how many workers, how many torch threads each,
and how idle OpenMP threads wait.

A musician's machine is never quiet: the DAW's audio engine and the editor's playback keep
cores busy. torch's CPU build runs its ops on an OpenMP pool (GNU libgomp) whose idle threads
spin while they wait for work; with another process on the cores, a spinning thread holds the
core the thread it waits for needs, and an 8-bar harmonization took 47 times its quiet time
(docs/benchmarks.md). So by default each worker runs torch on one thread, there is one worker
per physical core (throughput grows with concurrent requests, since torch releases the GIL
in its ops), and idle OpenMP threads sleep (OMP_WAIT_POLICY=PASSIVE).

libgomp reads OMP_WAIT_POLICY once, when torch is imported: set after that it has no effect
(measured with torch 2.13: 3 s against 30-58 s for the same loop under load). torch's thread
count is per thread: torch.set_num_threads in a worker thread sets that thread's pool only.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

WaitPolicy = Literal["passive", "active", "default"]


@dataclass(frozen=True)
class CpuPolicy:
    """workers: CPU workers; threads: torch intra-op threads in each; wait: OpenMP's idle
    threads sleep (passive), spin (active), or libgomp's own default (spin a while); spread:
    a job alone on the CPU computes with every worker's threads."""

    workers: int
    threads: int
    wait: WaitPolicy = "passive"
    spread: bool = True


def physical_cores() -> int:
    """Physical cores this process may run on (hyperthreads of one core count once)."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return max(1, (os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        siblings = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list")
        try:
            cores.add(siblings.read_text().strip())
        except OSError:
            cores.add(str(cpu))
    return max(1, len(cores))


def cpu_policy(
    workers: int | None = None, threads: int | None = None, wait: WaitPolicy = "passive", spread: bool = True
) -> CpuPolicy:
    """The policy for this machine: what is not given is chosen (one worker per physical core,
    then the cores shared among the workers, at least one thread each)."""
    cores = physical_cores()
    workers = workers or cores
    return CpuPolicy(workers=workers, threads=threads or max(1, cores // workers), wait=wait, spread=spread)


def set_wait_policy(wait: WaitPolicy) -> bool:
    """Set OMP_WAIT_POLICY for the torch this process will import; False where it cannot take
    effect (torch is imported already) or the environment already says (the user's choice wins)."""
    if wait == "default" or "OMP_WAIT_POLICY" in os.environ:
        return False
    if "torch" in sys.modules:
        log.info("OMP_WAIT_POLICY=%s not applied: torch was imported before the engine started", wait)
        return False
    os.environ["OMP_WAIT_POLICY"] = wait.upper()
    return True


def set_torch_threads(threads: int) -> bool:
    """Give the calling thread's torch `threads` intra-op threads; False while torch is not
    imported (a model that needs it has not run yet)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return False
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return True


class OtherLoad:
    """How many cores other programs kept busy over the last second: the CPU time the whole
    machine spent (/proc/stat) minus this process's own (/proc/self/stat), sampled four times a
    second by a daemon thread; None where /proc is not there (not Linux)."""

    def __init__(self, every: float = 0.25, samples: int = 5) -> None:
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.samples: deque[tuple[float, int, int]] = deque(maxlen=samples)
        self._stop = threading.Event()
        first = self._sample()
        if first is not None:
            self.samples.append(first)
            threading.Thread(target=self._run, args=(every,), name="scorehost-load", daemon=True).start()

    def cores(self) -> float | None:
        if len(self.samples) < 2:
            return None
        (t0, machine0, own0), (t1, machine1, own1) = self.samples[0], self.samples[-1]
        return max(0.0, ((machine1 - machine0) - (own1 - own0)) / self.tick / (t1 - t0))

    def stop(self) -> None:
        self._stop.set()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            sample = self._sample()
            if sample is not None:
                self.samples.append(sample)

    @staticmethod
    def _sample() -> tuple[float, int, int] | None:
        """(monotonic seconds, the machine's busy jiffies, this process's)."""
        try:
            fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
            mine = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        values = [int(v) for v in fields]
        busy = sum(values) - values[3] - (values[4] if len(values) > 4 else 0)  # less idle, iowait
        return time.monotonic(), busy, int(mine[11]) + int(mine[12])  # utime, stime
