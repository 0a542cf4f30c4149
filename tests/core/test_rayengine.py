"""The Ray engine on a local Ray cluster this module starts (`ray start --head`, 16 logical
CPUs on this machine's cores): the same results as the local engine, cancellation carried
into the replica, a replica killed mid-request, a burst against two replicas, replicas that
cannot start, and the OSC and MuseScore tests run unchanged through `--engine ray`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scorehost.core import hookimpl
from scorehost.core.engine import Engine, Status
from scorehost.core.errors import QueueFull
from scorehost.core.host import Host
from scorehost.core.model import Model
from scorehost.core.requests import EditRequest, Region, Variation
from scorehost.core.settings import Settings
from scorehost.core.testing import plugin_host

from ..conftest import CHORALE, corpus_path

# The cluster below is on loopback and for this module alone: no token (Ray reads this when
# it is imported).
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'scorehost[ray]'")

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster():
    """A Ray head on loopback; its address. Stopped (with every Ray process here) at the end."""
    ray_cli = str(Path(sys.executable).parent / "ray")
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled"}  # loopback only, for this test
    subprocess.run(
        [ray_cli, "start", "--head", f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=16",
         "--include-dashboard=false", "--disable-usage-stats"],
        check=True, capture_output=True, env=env, timeout=120,
    )  # fmt: skip
    yield f"127.0.0.1:{port}"
    if ray.is_initialized():  # a driver still connected when its cluster stops exits a minute later
        ray.shutdown()
    subprocess.run([ray_cli, "stop", "--force"], capture_output=True, env=env, timeout=120)


class Patient(Model):
    """Works for `seconds` in steps of 50 ms, reporting progress and checking its job; writes
    its pid to `mark` when it starts and 'cancelled <pid>' when its job stops it."""

    model_id = "patient"
    description = "test: slow, cooperative"

    def __init__(self, mark: str, seconds: float = 3.0) -> None:
        super().__init__()
        self.mark, self.seconds = mark, seconds

    def inpaint(self, request, options, job) -> list[Variation]:
        Path(self.mark).write_text(f"started {os.getpid()}")
        steps = int(self.seconds / 0.05)
        try:
            for step in range(steps):
                time.sleep(0.05)
                job.progress((step + 1) / steps)
        except Exception as exc:
            Path(self.mark).write_text(f"{type(exc).__name__} {os.getpid()}")
            raise
        return [Variation(score=request.score, log_prob=None, seed=0)]


class _Plugin:
    def __init__(self, *models: Model) -> None:
        self.models = models

    @hookimpl
    def register_models(self, register) -> None:
        for model in self.models:
            register(model)


def _ray_engine(host: Host, address: str, **settings) -> Engine:
    import cloudpickle

    from scorehost.core.rayengine import RayEngine

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the test models go by value
    queue_size = settings.pop("queue_size", 64)
    given = {"engine": "ray", "ray_address": address, "ray_cpus_per_replica": 0} | settings
    return RayEngine(host, Settings(**given), queue_size=queue_size)


def _alto_bar(chorale, model: str, **options) -> EditRequest:
    bars = chorale.bars()
    return EditRequest(
        model=model, score=chorale, regions=[Region(track=1, start=bars[2].start, end=bars[4].start)],
        options=options,
    )  # fmt: skip


def test_ray_gives_the_local_engines_results_for_the_same_seed(cluster, chorale):
    host = Host(env={"SCOREHOST_PLUGINS": "thirds"})
    local = Engine(host, device="cpu")
    remote = _ray_engine(host, cluster, ray_replicas=2)
    try:
        for request in (
            _alto_bar(chorale, "deepbach", seed=3),
            _alto_bar(chorale, "thirds-below", source="soprano"),
        ):
            here, there = local.run(request, timeout=120), remote.run(request, timeout=300)
            assert [v.score for v in there.variations] == [v.score for v in here.variations]
            assert there.warnings == here.warnings
        assert len({p["pid"] for p in remote.placements("thirds-below")}) == 2  # two replicas
    finally:
        remote.shutdown()
        local.shutdown()


def test_cancellation_reaches_the_replica(cluster, chorale, tmp_path):
    mark = tmp_path / "mark"
    engine = _ray_engine(plugin_host(_Plugin(Patient(str(mark), seconds=20))), cluster)
    try:
        job = engine.submit(_alto_bar(chorale, "patient"))
        deadline = time.monotonic() + 120
        while job.fraction == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.fraction > 0 and mark.read_text().startswith("started")
        job.cancel()
        assert job.ended(5) and job.status == Status.CANCELLED
        deadline = time.monotonic() + 5
        while not mark.read_text().startswith("JobCancelled") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mark.read_text().startswith("JobCancelled"), mark.read_text()  # the model saw it
    finally:
        engine.shutdown()


def test_a_replica_killed_mid_request_is_replaced_and_the_request_answered(cluster, chorale, tmp_path):
    mark = tmp_path / "mark"
    engine = _ray_engine(plugin_host(_Plugin(Patient(str(mark), seconds=3))), cluster, ray_replicas=2)
    try:
        engine.load("patient")
        job = engine.submit(_alto_bar(chorale, "patient"))
        deadline = time.monotonic() + 60
        while not (mark.exists() and mark.read_text().startswith("started")) and time.monotonic() < deadline:
            time.sleep(0.05)
        victim = int(mark.read_text().split()[1])
        os.kill(victim, signal.SIGKILL)
        job.ended(120)
        # sent once more, to the other replica: a result; or, if that went too, a clear error
        assert job.status == Status.DONE or job.error.code == "replica_lost", (job.status, job.error)
        again = engine.run(_alto_bar(chorale, "patient"), timeout=120)
        assert again.variations
        assert victim not in {p["pid"] for p in engine.placements("patient")}
    finally:
        engine.shutdown()


def test_a_burst_of_200_against_two_replicas_is_answered_in_full(cluster, chorale):
    host = Host(env={"SCOREHOST_PLUGINS": "thirds"})
    engine = _ray_engine(host, cluster, ray_replicas=2, queue_size=120)
    request = _alto_bar(chorale, "thirds-below", source="soprano")
    try:
        engine.load("thirds-below")
        jobs, busy = [], []
        for _ in range(200):
            try:
                jobs.append(engine.submit(request))
            except QueueFull as exc:
                busy.append(exc)
        assert len(jobs) + len(busy) == 200 and len(jobs) >= 120
        assert all("try again" in str(e) for e in busy)
        for job in jobs:
            assert job.ended(180), job.summary()
        assert {j.status for j in jobs} == {Status.DONE}, {str(j.error) for j in jobs if j.error}
        first = jobs[0].result.variations[0].score
        assert all(j.result.variations[0].score == first for j in jobs)
    finally:
        engine.shutdown()


def test_replicas_that_cannot_start_fail_their_requests_clearly(cluster, chorale, tmp_path):
    host = plugin_host(_Plugin(Patient(str(tmp_path / "mark"))))
    engine = _ray_engine(host, cluster, ray_gpus_per_replica=1, ray_start_timeout=5)
    try:
        job = engine.submit(_alto_bar(chorale, "patient"))
        assert job.ended(60)
        assert job.status == Status.FAILED
        assert "did not start within 5 s" in str(job.error) and "--ray-gpus-per-replica" in str(job.error)
    finally:
        engine.shutdown()


def test_the_osc_and_musescore_tests_pass_unchanged_on_ray(cluster):
    """The bridge suites, run again with every engine a Ray engine on this cluster: in-process
    bridges through tests/conftest.py make_engine, `scorehost serve` through SCOREHOST_ENGINE."""
    env = {**os.environ, "SCOREHOST_TEST_ENGINE": "ray", "SCOREHOST_ENGINE": "ray",
           "SCOREHOST_RAY_ADDRESS": cluster, "SCOREHOST_RAY_CPUS_PER_REPLICA": "0"}  # fmt: skip
    suites = ["tests/bridges/osc", "tests/bridges/musescore"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings", *suites],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-6000:]
    assert " passed" in run.stdout.splitlines()[-1], run.stdout[-2000:]


@pytest.fixture(scope="module")
def chorale():
    from scorehost.core.scoreio import read_score

    return read_score(corpus_path(CHORALE))
