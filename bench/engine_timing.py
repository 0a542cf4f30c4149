"""Timing helpers the engine benchmarks share: seeded requests, timed runs, requests at once,
decoding rates, one summary line."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

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


def at_once(engine: Engine, request: EditRequest, count: int, repeats: int = 3) -> list[float]:
    """Requests served per second when `count` of them are submitted together (the engine
    batches them), each of `repeats` rounds."""
    rates = []
    for repeat in range(repeats):
        started = time.perf_counter()
        jobs = [engine.submit(seeded(request, repeat * 100 + i)) for i in range(count)]
        for job in jobs:
            job.wait()
        rates.append(count / (time.perf_counter() - started))
    return rates


def print_decode_rates(rate: Callable[[bool], float], runs: int = 3) -> None:
    """The network's decoding speed after a 400-token prompt, with and without the KV cache:
    rate(cached) draws 128 tokens and returns tokens per second."""
    for cached in (True, False):
        label = f"decoding after a 400-token prompt, {'with' if cached else 'without'} KV cache"
        print(summary(label, [rate(cached) for _ in range(runs)], "tokens/s"))


def report(engine: Engine, request: EditRequest, label: str, runs: int, batch: int, unit: str,
           rate: Callable[[bool], float]) -> None:  # fmt: skip
    """What a model benchmark prints: the request warm (runs times), `batch` variations in one
    request, `batch` requests at once (in `unit` per second), and the decoding rates."""
    print(summary(label, timed(engine, request, runs)))
    print(
        summary(
            f"{batch} variations in one request", timed(engine, request, max(3, runs // 3), variations=batch)
        )
    )
    print(summary(f"{batch} requests at once", at_once(engine, request, batch), unit))
    print_decode_rates(rate)
