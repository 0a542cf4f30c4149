"""How many torch threads a CPU worker computes with: every worker's when its job is alone on
the CPU and other programs leave the cores idle (cpu_spread), its own share otherwise (#12)."""

from __future__ import annotations

import threading

import pytest
import torch

from scorehost.core.engine import Engine
from scorehost.core.hookspecs import hookimpl
from scorehost.core.host import Host
from scorehost.core.model import Model
from scorehost.core.requests import EditRequest, Options, Region, Variation
from scorehost.core.threads import CpuPolicy


class HoldOptions(Options):
    hold: bool = False


class Counting(Model):
    """Records torch's thread count inside inpaint; waits for `release` when asked to hold."""

    model_id = "counting"
    description = "test: records torch's threads"
    concurrent = True
    Options = HoldOptions

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []
        self.inside = threading.Event()
        self.release = threading.Event()

    def inpaint(self, request, options, job):
        self.seen.append(torch.get_num_threads())
        if options.hold:
            self.inside.set()
            self.release.wait(10)
        return [Variation(score=request.score, log_prob=0.0, seed=s) for s in options.seeds()]


class Plugin:
    def __init__(self, model: Model) -> None:
        self.model = model

    @hookimpl
    def register_models(self, register):
        register(self.model)


@pytest.fixture
def counting():
    return Counting()


class Load:
    """Stands in for OtherLoad: the cores other programs keep busy, as the test says."""

    def __init__(self, cores: float | None) -> None:
        self.figure = cores

    def cores(self) -> float | None:
        return self.figure

    def stop(self) -> None:
        pass


def _engine(model: Model, spread: bool = True, others: float | None = 0.0) -> Engine:
    host = Host(builtins=(), env={"SCOREHOST_PLUGINS": ""})
    host.pm.register(Plugin(model), name="counting")
    engine = Engine(host, device="cpu", default_timeout=20, cpu=CpuPolicy(2, 1, spread=spread))
    if spread:
        engine._load.stop()
        engine._load = Load(others)
    return engine


def _request(score, **options) -> EditRequest:
    return EditRequest(
        model="counting", score=score, regions=[Region(track=1, start=0, end=480)], options=options
    )


def test_a_job_alone_on_the_cpu_computes_with_every_workers_threads(chorale, counting):
    engine = _engine(counting)
    try:
        engine.run(_request(chorale), 10)
        engine.run(_request(chorale), 10)
    finally:
        engine.shutdown()
    assert counting.seen == [2, 2]


def test_a_job_beside_a_busy_worker_keeps_its_own_share(chorale, counting):
    engine = _engine(counting)
    try:
        held = engine.submit(_request(chorale, hold=True))
        assert counting.inside.wait(10)
        engine.run(_request(chorale), 10)  # the other worker, while the first is busy
        counting.release.set()
        held.wait(10)
        engine.run(_request(chorale), 10)  # alone again
    finally:
        counting.release.set()
        engine.shutdown()
    assert counting.seen == [2, 1, 2]


@pytest.mark.parametrize(
    ("spread", "others"),
    [(False, 0.0), (True, 1.0), (True, 0.6), (True, None)],
    ids=["without-spread", "a-busy-core", "most-of-one", "unknown-load"],
)
def test_a_job_alone_keeps_its_share_without_spread_or_while_other_programs_use_the_cores(
    chorale, counting, spread, others
):
    engine = _engine(counting, spread=spread, others=others)
    try:
        engine.run(_request(chorale), 10)
    finally:
        engine.shutdown()
    assert counting.seen == [1]


def test_other_programs_load_is_read_from_proc(tmp_path):
    """The real reading: a busy-loop process shows as about one core; this process's own work does not."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from scorehost.core.threads import OtherLoad

    if not Path("/proc/stat").exists():
        pytest.skip("no /proc here: the load is unknown and a lone job keeps its share")
    load = OtherLoad()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.5)
        beside = load.cores()
        end = time.monotonic() + 1.5
        while time.monotonic() < end:  # this process busy too: not counted
            pass
        mine = load.cores()
    finally:
        busy.kill()
        busy.wait()
    time.sleep(1.5)
    after = load.cores()
    load.stop()
    assert 0.6 < beside < 1.6 and 0.6 < mine < 1.6, (beside, mine)
    assert after < beside - 0.5, (after, beside)
