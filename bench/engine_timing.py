"""Timing helpers the engine benchmarks share: seeded requests, timed runs, one summary line."""

from __future__ import annotations

import statistics
import time

from scorehost.core.engine import Engine
from scorehost.core.requests import EditRequest


def seeded(request: EditRequest, seed: int, **options) -> EditRequest:
    return request.model_copy(update={"options": {**request.options, "seed": seed, **options}})


def timed(engine: Engine, request: EditRequest, runs: int, **options) -> list[float]:
    engine.run(seeded(request, 999, **options))  # warm-up: weights load
    times = []
    for seed in range(runs):
        started = time.perf_counter()
        engine.run(seeded(request, seed, **options))
        times.append(time.perf_counter() - started)
    return times


def summary(label: str, values: list[float], unit: str = "s") -> str:
    return (
        f"{label}: median {statistics.median(values):.3f} {unit}, min {min(values):.3f} {unit}, "
        f"max {max(values):.3f} {unit} (n={len(values)})"
    )
