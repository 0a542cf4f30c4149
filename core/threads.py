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
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

WaitPolicy = Literal["passive", "active", "default"]


@dataclass(frozen=True)
class CpuPolicy:
    """workers: CPU workers; threads: torch intra-op threads in each; wait: OpenMP's idle
    threads sleep (passive), spin (active), or libgomp's own default (spin a while)."""

    workers: int
    threads: int
    wait: WaitPolicy = "passive"


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
    workers: int | None = None, threads: int | None = None, wait: WaitPolicy = "passive"
) -> CpuPolicy:
    """The policy for this machine: what is not given is chosen (one worker per physical core,
    then the cores shared among the workers, at least one thread each)."""
    cores = physical_cores()
    workers = workers or cores
    return CpuPolicy(workers=workers, threads=threads or max(1, cores // workers), wait=wait)


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
