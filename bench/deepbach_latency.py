"""DeepBach latency and throughput, through the real engine (as every bridge calls it).

- an 8-bar harmonization (alto, tenor and bass under BWV 66.6's soprano), default options;
- a 1-bar alto rewrite inside the full chorale;
- 32 harmonizations submitted at once (the engine batches them), as harmonizations per second.

    python bench/deepbach_latency.py [--runs 9] [--device cpu|cuda] [--option KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from engine_timing import seeded, summary, timed  # bench/ is on the path when a script runs from it
from music21 import corpus

from scorehost.core.cliparse import parse_option
from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import Score
from scorehost.core.scoreio import read_score


def melody_exercise(chorale: Score, bars: int) -> Score:
    end = chorale.bars()[bars].end
    soprano = chorale.tracks[0].model_copy(
        update={"notes": [n for n in chorale.tracks[0].notes if n.end <= end]}
    )
    empty = [t.model_copy(update={"notes": []}) for t in chorale.tracks[1:]]
    fermatas = [f for f in chorale.fermatas if f.tick < end and f.track in (None, 0)]
    return chorale.model_copy(update={"tracks": [soprano, *empty], "length": end, "fermatas": fermatas})


def harmonization(chorale: Score, options: dict | None = None, bars: int = 8) -> EditRequest:
    """The benchmark's harmonization: alto, tenor and bass under the first bars of the soprano."""
    exercise = melody_exercise(chorale, bars)
    return EditRequest(
        model="deepbach",
        score=exercise,
        regions=[Region(track=t, start=0, end=exercise.length) for t in (1, 2, 3)],
        options=options or {},
    )


def bwv66_6() -> Score:
    return read_score(Path(corpus.getWork("bach/bwv66.6")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--device", default=None)
    parser.add_argument("--option", action="append", default=[], help="model option KEY=VALUE")
    args = parser.parse_args()
    options = dict(parse_option(pair) for pair in args.option)
    engine = Engine(
        Host(env={"SCOREHOST_PLUGINS": ""}), device=args.device, queue_size=256, default_timeout=600
    )
    chorale = bwv66_6()
    harmonize = harmonization(chorale, options)
    bar = chorale.bars()[3]
    alto = EditRequest(
        model="deepbach",
        score=chorale,
        regions=[Region(track=1, start=bar.start, end=bar.end)],
        options=options,
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, device {engine.device}, options {options}")
    print(summary("8-bar harmonization", timed(engine, harmonize, args.runs)))
    print(summary("1-bar alto rewrite", timed(engine, alto, args.runs)))
    rates = []
    for repeat in range(3):
        started = time.perf_counter()
        jobs = [engine.submit(seeded(harmonize, repeat * 100 + i)) for i in range(32)]
        for job in jobs:
            job.wait()
        rates.append(32 / (time.perf_counter() - started))
    print(
        f"32 harmonizations at once: median {statistics.median(rates):.2f}/s, min {min(rates):.2f}/s, max {max(rates):.2f}/s (n=3)"
    )
    engine.shutdown()


if __name__ == "__main__":
    main()
