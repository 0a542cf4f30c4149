"""A seed gives the same harmonization whatever the engine's CPU policy (#12): one worker or
several, one torch thread or two, a request served alone (on every worker's threads, with
cpu_spread) or batched with others."""

from __future__ import annotations

import pytest

from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import note_tuples
from scorehost.core.threads import CpuPolicy

SEEDS = (0, 1, 2)


def _exercise(chorale, bars: int = 4) -> EditRequest:
    end = chorale.bars()[bars].end
    soprano = chorale.tracks[0].model_copy(
        update={"notes": [n for n in chorale.tracks[0].notes if n.end <= end]}
    )
    empty = [t.model_copy(update={"notes": []}) for t in chorale.tracks[1:]]
    score = chorale.model_copy(update={"tracks": [soprano, *empty], "length": end, "fermatas": []})
    return EditRequest(
        model="deepbach",
        score=score,
        regions=[Region(track=t, start=0, end=end) for t in (1, 2, 3)],
        options={"iterations": 16},
    )


def _harmonize(request: EditRequest, policy: CpuPolicy, together: bool) -> list[list[tuple]]:
    engine = Engine(Host(env={"SCOREHOST_PLUGINS": ""}), device="cpu", default_timeout=300, cpu=policy)
    try:
        requests = [request.model_copy(update={"options": {**request.options, "seed": s}}) for s in SEEDS]
        if together:  # queued at once: batched, and shared among the workers
            jobs = [engine.submit(r) for r in requests]
            results = [job.wait(300) for job in jobs]
        else:
            results = [engine.run(r, 300) for r in requests]
    finally:
        engine.shutdown()
    return [[note_tuples(t) for t in r.variations[0].score.tracks] for r in results]


@pytest.fixture(scope="module")
def reference(chorale):
    return _harmonize(_exercise(chorale()), CpuPolicy(workers=1, threads=1, spread=False), together=False)


@pytest.mark.parametrize(
    ("workers", "threads", "together"),
    [(1, 2, False), (1, 1, True), (2, 1, True), (1, 2, True), (2, 1, False)],
    ids=["1x2-alone", "1x1-batched", "2x1-shared", "1x2-batched", "2x1-spread-alone"],
)
def test_a_seed_gives_the_same_harmonization_whatever_the_threading(
    chorale, reference, workers, threads, together
):
    got = _harmonize(_exercise(chorale()), CpuPolicy(workers=workers, threads=threads), together)
    for seed, (want, have) in enumerate(zip(reference, got, strict=True)):
        assert want == have, f"seed {seed} differs with {workers} workers x {threads} threads"
