"""The engine under load and under failure: every job ends with a clear status, and it keeps serving."""

import threading
import time

import pytest

from scorehost.core.engine import Engine, Status
from scorehost.core.errors import QueueFull, RequestError, UnknownModel, UnsupportedConstraint
from scorehost.core.requests import EditRequest, PitchRange, Region
from scorehost.core.score import note_tuples
from scorehost.core.threads import CpuPolicy

ONE_WORKER = CpuPolicy(workers=1, threads=1)  # a blocker holds the device: later jobs queue


def _request(score, model="echo", **extra):
    return EditRequest(model=model, score=score, regions=[Region(track=1, start=480, end=2400)], **extra)


@pytest.fixture
def engine(host):
    e = Engine(host, device="cpu", queue_size=200, default_timeout=10, grace=0.5)
    yield e
    type(host.model("hangs")).release.set()
    e.shutdown(timeout=2)
    type(host.model("hangs")).release.clear()


def test_hundred_concurrent_jobs_all_finish(engine, chorale):
    jobs = []

    def submit(i):
        model = ("echo", "slow", "fails")[i % 3]
        options = {"seconds": 0.01} if model == "slow" else {}
        jobs.append(engine.submit(_request(chorale, model, options=options)))

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(jobs) == 100
    for job in jobs:
        job._done.wait(30)
        assert job.done
        expected = Status.FAILED if job.model.model_id == "fails" else Status.DONE
        assert job.status == expected, job.summary()
    assert len({j.id for j in jobs}) == 100


def test_raising_model_gives_a_clear_error_and_others_complete(engine, chorale):
    bad = engine.submit(_request(chorale, "fails"))
    good = engine.submit(_request(chorale, "echo"))
    assert good.wait(5).variations
    with pytest.raises(Exception, match="model fails failed: ZeroDivisionError: the plugin divided by zero"):
        bad.wait(5)
    assert bad.status == Status.FAILED and bad.summary()["error"]["code"] == "model_error"


def test_hanging_model_times_out_and_the_engine_keeps_serving(engine, chorale):
    hung = engine.submit(_request(chorale, "hangs", timeout=0.3))
    queued_behind = engine.submit(_request(chorale, "echo"))
    hung._done.wait(5)
    assert hung.status == Status.TIMEOUT
    assert "time limit of 0.3 s" in hung.summary()["error"]["message"]
    assert queued_behind.wait(5).variations  # served by a replacement worker
    assert engine.submit(_request(chorale, "echo")).wait(5).variations


def test_cancelled_job_stops_and_others_complete(engine, chorale):
    slow = engine.submit(_request(chorale, "slow", options={"seconds": 5}))
    while slow.status != Status.RUNNING:
        time.sleep(0.01)
    waiting = engine.submit(_request(chorale, "slow", options={"seconds": 5}))
    other = engine.submit(_request(chorale, "echo"))
    started = time.monotonic()
    assert slow.cancel() and waiting.cancel()
    slow._done.wait(2)
    assert slow.status == Status.CANCELLED and time.monotonic() - started < 1.0
    assert waiting.status == Status.CANCELLED
    assert other.wait(5).variations


def test_deadline_applies_to_cooperative_models_too(engine, chorale):
    job = engine.submit(_request(chorale, "slow", options={"seconds": 5}, timeout=0.2))
    job._done.wait(3)
    assert job.status == Status.TIMEOUT


def test_same_model_jobs_are_batched(host, chorale):
    engine = Engine(host, device="cpu", queue_size=100, cpu=ONE_WORKER)
    blocker = engine.submit(_request(chorale, "slow", options={"seconds": 0.3}))
    jobs = [engine.submit(_request(chorale, "batched")) for _ in range(16)]
    for job in jobs:
        job.wait(10)
    blocker.wait(10)
    engine.shutdown()
    assert max(host.model("batched").batch_sizes) > 1
    assert sum(host.model("batched").batch_sizes) == 16


def test_one_failed_item_of_a_batch_fails_alone(host, chorale):
    engine = Engine(host, device="cpu", queue_size=100, cpu=ONE_WORKER)
    blocker = engine.submit(_request(chorale, "slow", options={"seconds": 0.3}))
    jobs = [engine.submit(_request(chorale, "batched", timeout=13 if i == 2 else None)) for i in range(6)]
    blocker.wait(10)
    for job in jobs:
        job._done.wait(10)
    engine.shutdown()
    assert [j.status for j in jobs] == [
        Status.DONE,
        Status.DONE,
        Status.FAILED,
        Status.DONE,
        Status.DONE,
        Status.DONE,
    ]
    assert "this one is refused" in jobs[2].summary()["error"]["message"]


def test_bad_requests_are_refused_before_queueing(engine, chorale):
    with pytest.raises(UnknownModel, match="unknown model 'nope'"):
        engine.submit(_request(chorale, "nope"))
    with pytest.raises(UnsupportedConstraint, match="does not honour pitch_range"):
        engine.submit(_request(chorale, "slow", constraints=[PitchRange(track=1, low=50, high=70)]))
    with pytest.raises(RequestError, match="options"):
        engine.submit(_request(chorale, "slow", options={"seconds": "soon"}))
    with pytest.raises(RequestError, match="regions\\[0\\]: ends at tick"):
        engine.submit(EditRequest(model="echo", score=chorale, regions=[Region(track=0, start=0, end=10**7)]))


def test_queue_is_bounded(host, chorale):
    engine = Engine(host, device="cpu", queue_size=2, cpu=ONE_WORKER)
    first = engine.submit(_request(chorale, "slow", options={"seconds": 1}))
    while first.status != Status.RUNNING:
        time.sleep(0.01)
    engine.submit(_request(chorale, "echo"))
    engine.submit(_request(chorale, "echo"))
    with pytest.raises(QueueFull, match="queue is full"):
        engine.submit(_request(chorale, "echo"))
    engine.shutdown()
    assert first.status == Status.CANCELLED


def test_context_outside_regions_is_restored_whatever_the_model_writes(engine, chorale):
    result = engine.submit(_request(chorale, "vandal")).wait(5)
    out = result.variations[0].score
    for index, (before, after) in enumerate(zip(chorale.tracks, out.tracks, strict=True)):
        if index != 1:
            assert note_tuples(before) == note_tuples(after)
    assert note_tuples(chorale.tracks[1], 0, 480) == note_tuples(out.tracks[1], 0, 480)
    assert note_tuples(chorale.tracks[1], 2400) == note_tuples(out.tracks[1], 2400)
    assert all(n.pitch == 60 for n in out.tracks[1].notes if 480 <= n.start < 2400)


def test_variations_carry_their_seeds(engine, chorale):
    result = engine.submit(_request(chorale, "echo", options={"variations": 3, "seed": 41})).wait(5)
    assert [v.seed for v in result.variations] == [41, 42, 43]
    assert set(result.timings) == {"queued", "run", "total"}


def test_finished_jobs_are_forgotten_beyond_a_limit(host, chorale):
    engine = Engine(host, device="cpu", keep_finished=5)
    jobs = [engine.submit(_request(chorale)) for _ in range(12)]
    for job in jobs:
        job.wait(5)
    engine.submit(_request(chorale)).wait(5)
    engine.shutdown()
    assert len(engine.jobs) <= 6 and jobs[-1].id in engine.jobs and jobs[0].id not in engine.jobs
