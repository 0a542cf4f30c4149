"""OSC round-trip latency: a no-op edit (send -> done), a ping, and a real 4-bar fill.

    python bench/osc_latency.py                 # in-process server, no-op model, 2000 requests
    python bench/osc_latency.py --fill 5        # also five 4-bar fills with the real model
    python bench/osc_latency.py --connect 127.0.0.1:9100 --model echo   # a running server

The no-op edit is a full request: a one-note inline score is parsed, checked, queued, run by a
model that returns its input, merged, and answered with accepted, variation and done. Requests
are sent one after the other (the next when the previous is done), so the figure is latency,
not throughput. Prints the machine, the command and the percentiles; results go to
docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, python-osc {version('python-osc')}"
    )


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return (
        f"n={len(ordered)} p50={at(0.50):.2f} ms p90={at(0.90):.2f} ms p99={at(0.99):.2f} ms "
        f"max={ordered[-1] * 1000:.2f} ms mean={statistics.fmean(ordered) * 1000:.2f} ms"
    )


def measure(client, count: int, warmup: int, *args) -> list[float]:
    name, rest = args[0], args[1:]
    for _ in range(warmup):
        client.call(name, *rest)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        client.call(name, *rest, timeout=600)
        samples.append(time.perf_counter() - started)
    return samples


def start_server(folder: Path, device: str):
    from scorehost.bridges.osc.server import OscBridge
    from scorehost.core import hookimpl
    from scorehost.core.engine import Engine
    from scorehost.core.host import Host
    from scorehost.core.model import Model
    from scorehost.core.requests import Variation

    class NoOp(Model):
        model_id = "noop"
        description = "bench: returns its input"

        def inpaint(self, request, options, job):
            return [Variation(score=request.score, log_prob=0.0, seed=s) for s in options.seeds()]

    class Plugin:
        @hookimpl
        def register_models(self, register):
            register(NoOp())

    host = Host(env={"SCOREHOST_PLUGINS": ""})
    host.pm.register(Plugin(), name="bench")
    engine = Engine(host, device=device)
    bridge = OscBridge()
    bridge.start(engine, host.settings_class()(osc_port=0, allowed_dirs=[folder]))
    return bridge, engine, host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--count", type=int, default=2000, help="no-op requests to time")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--fill", type=int, default=0, help="4-bar fills with the real model to time")
    parser.add_argument("--fill-model", default="deepbach")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--connect", default=None, help="HOST:PORT of a running server (no fills)")
    parser.add_argument("--model", default="noop", help="no-op model (echo on a test server)")
    options = parser.parse_args()

    from scorehost.bridges.client.osc import OscClient

    print(f"machine: {machine()}")
    print(f"command: python {' '.join(sys.argv)}")
    folder = Path(tempfile.mkdtemp(prefix="scorehost-bench-"))
    bridge = engine = host = None
    if options.connect:
        address, port = options.connect.rsplit(":", 1)
        client = OscClient(address, int(port))
    else:
        bridge, engine, host = start_server(folder, options.device)
        client = OscClient("127.0.0.1", bridge.port)
    try:
        ping = measure(client, options.count, options.warmup, "ping")
        print(f"ping round trip:          {percentiles(ping)}")
        noop = ("edit", f"model={options.model}", "track=a", 60, 0.0, 1.0, 90, "region=a:1", "notes=none")
        samples = measure(client, options.count, options.warmup, *noop)
        print(f"no-op edit, send -> done: {percentiles(samples)}")
        notes = ("edit", f"model={options.model}", "track=a", 60, 0.0, 1.0, 90, "region=a:1", "notes=regions")
        samples = measure(client, options.count, options.warmup, *notes)
        print(f"no-op edit, notes back:   {percentiles(samples)}")
        burst(client, options.model, 500)
        if options.fill and host is not None:
            if options.fill_model not in host.models():
                print(f"no model {options.fill_model!r} registered; skipping the fill")
            else:
                bench_fill(client, folder, options)
    finally:
        client.close()
        if bridge is not None:
            bridge.stop()
            engine.shutdown(timeout=5)


def burst(client, model: str, count: int) -> None:
    """Send count no-op edits at once, then read every final reply: pipelined throughput."""
    from scorehost.bridges.osc import protocol as p

    codes: dict[str, int] = {}
    started = time.perf_counter()
    for i in range(count):
        client.send(
            "edit", f"model={model}", "track=a", 60, 0.0, 1.0, 90, "region=a:1", "notes=none", tag=f"b{i}"
        )
    done = errors = 0
    client.sock.settimeout(30)
    while done + errors < count:
        for address, args in p.decode(client.sock.recvfrom(65_535)[0]):
            done += address == "/scorehost/done"
            if address == "/scorehost/error":
                errors += 1
                codes[args[2]] = codes.get(args[2], 0) + 1
    elapsed = time.perf_counter() - started
    print(
        f"burst of {count} no-op edits:  answered in {elapsed * 1000:.0f} ms ({count / elapsed:.0f} requests/s): "
        f"{done} done, {errors} errors {codes or ''}"
    )


def bench_fill(client, folder: Path, options) -> None:
    """Alto and tenor of bars 2-5 of a Bach chorale from music21's corpus, MIDI file in and out."""
    from music21 import corpus

    from scorehost.core.scoreio import read_score, write_score

    source = write_score(read_score(Path(corpus.getWork("bach/bwv66.6"))), folder / "chorale.mid")
    first = time.perf_counter()
    client.call(
        "edit",
        f"model={options.fill_model}",
        f"in={source}",
        f"out={folder / 'warm.mid'}",
        "region=alto,tenor:2-5",
        "seed=0",
        timeout=600,
    )
    print(f"4-bar fill, first (loads weights): {(time.perf_counter() - first) * 1000:.0f} ms")
    samples = []
    for i in range(options.fill):
        started = time.perf_counter()
        client.call(
            "edit", f"model={options.fill_model}", f"in={source}", f"out={folder / f'fill-{i}.mid'}",
            "region=alto,tenor:2-5", f"seed={i + 1}", timeout=600,
        )  # fmt: skip
        samples.append(time.perf_counter() - started)
    print(f"4-bar fill ({options.fill_model}, {options.device}), send -> done: {percentiles(samples)}")


if __name__ == "__main__":
    main()
