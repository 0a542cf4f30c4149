"""The 8-bar harmonization on a busy machine, and HTTP throughput with concurrent clients.

For each CPU configuration (workers, torch threads per worker, OpenMP wait policy), in its
own processes, since libgomp reads its wait policy once, at torch's import:

- latency: the 8-bar deepbach harmonization of bench/deepbach_latency.py through the engine,
  quiet and with a CPU load this benchmark starts and stops itself (one busy-loop process per
  core), taking turns run by run, so that the ratio is measured in one window;
- HTTP: a real `scorehost serve` started by the benchmark, and 1, 4 and 16 clients posting
  that harmonization to /v1/edit at once: harmonizations per second, p50 and p95 latency.

Each figure is the median over several runs, with the fastest and slowest. OMP_NUM_THREADS and
OMP_WAIT_POLICY are removed from the environment of what it starts.

    python bench/contention.py [--runs 7] [--loaded-runs 5] [--rounds 3]
        [--config NAME=WORKERS,THREADS,WAIT[,spread] ...]   (default: before, 1x1, 1x2, 2x1, 2x1 spread)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent
CORES = len(os.sched_getaffinity(0))
# name: (workers, torch threads each, wait policy, a lone job on every worker's threads);
# "before" is the engine before #12, "2x1-passive-spread" today's default
CONFIGS = {
    "before": (1, CORES, "default", False),
    "1x1-passive": (1, 1, "passive", False),
    "1x2-passive": (1, CORES, "passive", False),
    "2x1-passive": (CORES, 1, "passive", False),
    "2x1-passive-spread": (CORES, 1, "passive", True),
}
CLIENTS = (1, 4, 16)


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    path = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)  # keep the caller's
    return env | {"SCOREHOST_PLUGINS": "", "PYTHONPATH": path}


@contextmanager
def busy_cores(count: int = CORES):
    """One busy-loop process per core while the block runs (what a DAW's audio engine does to
    the cores, crudely), stopped after it."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    time.sleep(0.5)  # under way
    try:
        yield
    finally:
        for burner in burners:
            burner.terminate()
        for burner in burners:
            burner.wait()
        time.sleep(0.5)


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ---- latency, in a child process per configuration --------------------------------------------


def latency(workers: int, threads: int, wait: str, lone: bool, runs: int, loaded_runs: int) -> dict:
    from deepbach_latency import bwv66_6, harmonization  # bench/ is on the path
    from engine_timing import seeded

    from scorehost.core.engine import Engine
    from scorehost.core.host import Host
    from scorehost.core.threads import CpuPolicy

    # before torch is imported: the engine sets the wait policy
    engine = Engine(
        Host(env={"SCOREHOST_PLUGINS": ""}),
        device="cpu",
        default_timeout=600,
        cpu=CpuPolicy(workers, threads, wait, lone),
    )
    request = harmonization(bwv66_6())

    def once(seed: int) -> float:
        started = time.perf_counter()
        engine.run(seeded(request, seed))
        return time.perf_counter() - started

    once(999)  # warm-up: weights load
    quiet, loaded = [], []
    for seed in range(runs):
        quiet.append(once(seed))
        if seed < loaded_runs:
            with busy_cores():
                loaded.append(once(seed))
    engine.shutdown()
    import torch

    return {"quiet": quiet, "loaded": loaded, "torch": torch.__version__}


# ---- HTTP throughput against a real server ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(workers: int, threads: int, wait: str, lone: bool, rounds: int) -> dict:
    import httpx
    from deepbach_latency import bwv66_6, melody_exercise

    port = free_port()
    command = [sys.executable, "-m", "scorehost.core", "serve", "--http-port", str(port)]
    command += ["--cpu-workers", str(workers), "--cpu-threads", str(threads), "--omp-wait-policy", wait]
    command += ["--cpu-spread" if lone else "--no-cpu-spread"]
    command += ["--preload", "deepbach", "--queue-size", "256", "--timeout", "600"]
    server = subprocess.Popen(command, env=child_env(), stderr=subprocess.DEVNULL)
    address = f"http://127.0.0.1:{port}"
    exercise = melody_exercise(bwv66_6(), 8)
    body = {
        "model": "deepbach",
        "score": exercise.model_dump(mode="json"),
        "regions": [{"track": t, "start": 0, "end": exercise.length} for t in (1, 2, 3)],
    }
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"{address}/v1/health", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("scorehost serve did not start") from None
                time.sleep(0.2)

        def clients(count: int, each: int, seed: int) -> tuple[float, list[float]]:
            latencies: list[float] = []

            def client(index: int) -> None:
                with httpx.Client(base_url=address, timeout=600) as session:
                    for k in range(each):
                        options = {"seed": seed + index * each + k}
                        started = time.perf_counter()
                        answer = session.post("/v1/edit", json=body | {"options": options})
                        answer.raise_for_status()
                        latencies.append(time.perf_counter() - started)

            started = time.perf_counter()
            pool = [threading.Thread(target=client, args=(i,)) for i in range(count)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join()
            if len(latencies) != count * each:
                raise RuntimeError("a request failed")
            return len(latencies) / (time.perf_counter() - started), latencies

        clients(max(CLIENTS), 1, 10_000)  # warm-up: every worker has run once
        figures = {}
        for count in CLIENTS:
            each = max(1, 16 // count) if count > 1 else 4
            rates, latencies = [], []
            for r in range(rounds):
                rate, times = clients(count, each, 1000 * (r + 1))
                rates.append(rate)
                latencies += times
            figures[str(count)] = {
                "rate": spread(rates),
                "p50": percentile(latencies, 0.5),
                "p95": percentile(latencies, 0.95),
                "requests": len(latencies),
            }
        return figures
    finally:
        server.terminate()
        server.wait(30)


# ---- the report -------------------------------------------------------------------------------


def fmt(s: dict, unit: str = "s") -> str:
    return f"{s['median']:.3f} {unit} ({s['min']:.3f}-{s['max']:.3f}, n={s['n']})"


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], env=child_env(), capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="quiet runs per configuration")
    parser.add_argument("--loaded-runs", type=int, default=5, help="runs under load (each after a quiet one)")
    parser.add_argument("--rounds", type=int, default=3, help="HTTP rounds per client count")
    parser.add_argument("--config", action="append", default=[], help="NAME=WORKERS,THREADS,WAIT[,spread]")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, workers, threads, wait, spreads, *rest = args.child
        policy = (int(workers), int(threads), wait, spreads == "spread")
        if kind == "latency":
            result = latency(*policy, int(rest[0]), int(rest[1]))
        else:
            result = http(*policy, int(rest[0]))
        print(json.dumps(result))
        return
    configs = dict(CONFIGS)
    if args.config:
        configs = {}
        for spec in args.config:
            name, _, value = spec.partition("=")
            workers, threads, wait, *spreads = value.split(",")
            configs[name] = (int(workers), int(threads), wait, spreads == ["spread"])
    print(
        f"{CORES} cores; load average at start {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    results = {}
    for name, (workers, threads, wait, spreads) in configs.items():
        spec = (str(workers), str(threads), wait, "spread" if spreads else "own")
        lat = run_child("latency", *spec, str(args.runs), str(args.loaded_runs))
        quiet = spread(lat["quiet"])
        if not lat["loaded"]:  # --loaded-runs 0: quiet figures only
            print(f"\n{name}: 8-bar harmonization quiet {fmt(quiet)}")
            results[name] = {"config": spec, "quiet": quiet}
            continue
        loaded = spread(lat["loaded"])
        ratios = spread([b / a for a, b in zip(lat["quiet"], lat["loaded"], strict=False)])
        alone = ", a lone job on every worker's threads" if spreads else ""
        print(
            f"\n{name}: {workers} workers x {threads} torch threads, wait {wait}{alone} (torch {lat['torch']})"
        )
        print(f"  8-bar harmonization quiet  {fmt(quiet)}")
        print(f"  8-bar harmonization loaded {fmt(loaded)}; loaded/quiet, run by run: {fmt(ratios, 'x')}")
        results[name] = {"config": spec, "quiet": quiet, "loaded": loaded, "ratio": ratios}
        if not args.no_http:
            figures = run_child("http", *spec, str(args.rounds))
            for count, f in figures.items():
                print(
                    f"  HTTP /v1/edit, {count:>2} clients: {fmt(f['rate'], '/s')}, "
                    f"p50 {f['p50']:.2f} s, p95 {f['p95']:.2f} s ({f['requests']} requests)"
                )
            one = figures["1"]["rate"]["median"]
            print(f"  16 clients / 1 client: {figures['16']['rate']['median'] / one:.2f}x")
            results[name]["http"] = figures
    print(f"\nload average at end {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
