"""Round trip of the MuseScore flow: plugin start to score saved, for an 8-bar harmonization.

Starts `scorehost serve`, then runs the real plugin headless in MuseScore 3 on the first
8 bars of a chorale's soprano (upper staff; empty lower staff) several times, and prints the
median and spread of (a) the whole MuseScore process and (b) the plugin's own time from the
start of its work to the score saved, which excludes MuseScore's start-up.

    python bench/musescore_roundtrip.py --runs 7 [--model deepbach]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from music21 import corpus

from scorehost.bridges.musescore import PLUGIN_FILES
from scorehost.core.score import Score
from scorehost.core.scoreio import read_score, write_score


def first_bars(score: Score, count: int) -> Score:
    end = score.bars()[count].end  # bar 0 is the pickup, so bars 0..count
    tracks = [
        t.model_copy(
            update={
                "notes": [
                    n.model_copy(update={"duration": min(n.end, end) - n.start})
                    for n in t.notes
                    if n.start < end
                ]
            }
        )
        for t in score.tracks
    ]
    fermatas = [f for f in score.fermatas if f.tick < end]
    return score.model_copy(update={"tracks": tracks, "length": end, "fermatas": fermatas})


def start_server() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "SCOREHOST_PLUGINS": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scorehost.core", "serve", "--http-port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    while True:
        line = proc.stderr.readline()
        if match := re.search(r"listening on (http://\S+)", line):
            return proc, match.group(1)
        if proc.poll() is not None:
            raise SystemExit("scorehost serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--model", default="deepbach")
    args = parser.parse_args()
    mscore = shutil.which("mscore3") or sys.exit("mscore3 not found (apt-get install musescore3)")
    chorale = first_bars(read_score(Path(corpus.getWork("bach/bwv66.6"))), 8)
    exercise = chorale.model_copy(
        update={
            "tracks": [chorale.tracks[0], chorale.tracks[3].model_copy(update={"notes": []})],
            "fermatas": [f for f in chorale.fermatas if f.track == 0],
        }
    )
    server, address = start_server()
    whole, plugin_times = [], []
    try:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            source = write_score(exercise, folder / "exercise.musicxml")
            for path in PLUGIN_FILES:  # the plugin imports its shared scorehost.js
                shutil.copy(path, folder / path.name)
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(folder)}
            for run in range(args.runs + 1):  # the first run warms the model up and is not counted
                saved = folder / f"out{run}.musicxml"
                settings = {
                    "server": address,
                    "model": args.model,
                    "autorun": True,
                    "save_as": str(saved),
                    "options": {"seed": run},
                }
                (folder / "scorehost.json").write_text(json.dumps(settings))
                started = time.perf_counter()
                proc = subprocess.run(
                    [mscore, "-p", str(folder / "scorehost.qml"), str(source)],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=300,
                )
                elapsed = time.perf_counter() - started
                reported = re.search(r"saved .* after ([0-9.]+) s", proc.stdout + proc.stderr)
                if not saved.exists() or not reported:
                    raise SystemExit(f"run {run} failed:\n{proc.stdout}{proc.stderr}")
                if run:
                    whole.append(elapsed)
                    plugin_times.append(float(reported.group(1)))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(20)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    print(f"model {args.model}, 8 bars + pickup, {args.runs} runs after one warm-up")
    for label, values in (
        ("MuseScore process (start-up included)", whole),
        ("plugin start to score saved", plugin_times),
    ):
        print(
            f"{label}: median {statistics.median(values):.2f} s, min {min(values):.2f} s, max {max(values):.2f} s"
        )


if __name__ == "__main__":
    main()
