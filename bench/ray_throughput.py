"""The Ray engine against the local one, in one run on one machine: the 8-bar harmonization of
deepbach_latency.py alone (the Ray hop's overhead is the difference) and 16 of them at once
(harmonizations per second), local engine and Ray with 1 and 2 replicas.

    python bench/ray_throughput.py [--runs 5] [--at-once 16] [--address ADDRESS]

Without --address it starts a local Ray instance in this process (`ray.init`), with as many
logical CPUs as the machine has cores; each replica reserves one and computes on one torch
thread, as a local CPU worker does.
"""

from __future__ import annotations

import argparse
import os
import platform

from deepbach_latency import bwv66_6, harmonization  # bench/ is on the path when a script runs from it
from engine_timing import at_once, summary, timed

from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.settings import Settings


def measure(engine: Engine, label: str, runs: int, count: int) -> None:
    request = harmonization(bwv66_6())
    print(summary(f"{label}: 8-bar harmonization alone", timed(engine, request, runs)))
    print(summary(f"{label}: {count} at once", at_once(engine, request, count), "/s"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--at-once", type=int, default=16)
    parser.add_argument("--address", default=None, help="a running cluster (default: a local instance)")
    args = parser.parse_args()
    host = Host(env={"SCOREHOST_PLUGINS": ""})
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
    local = Engine(host, device="cpu", queue_size=256, default_timeout=600)
    measure(local, "local engine (default: a worker per core, one thread each)", args.runs, args.at_once)
    local.shutdown()

    import ray

    from scorehost.core.rayengine import RayEngine

    if args.address is None:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    for replicas in (1, 2):
        settings = Settings(engine="ray", ray_address=args.address, ray_replicas=replicas)
        engine = RayEngine(host, settings, queue_size=256, default_timeout=600)
        engine.load("deepbach")
        measure(engine, f"ray, {replicas} replica{'s' * (replicas > 1)}", args.runs, args.at_once)
        engine.shutdown()


if __name__ == "__main__":
    main()
