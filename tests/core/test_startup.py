"""Start-up: `--help`, `models`, `plugins` and refusals of bad input import no heavy module
(torch, music21, safetensors; numpy neither, for listings), so they answer in well under a
second (#13).

Each command runs in a fresh process under `python -X importtime`, which lists every module the
process imported. Timings themselves are in docs/benchmarks.md, never asserted here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scorehost.core.scoreio import write_score

HEAVY = {"torch", "music21", "safetensors"}


def _imported(args: list[str]) -> tuple[subprocess.CompletedProcess, dict[str, list[str]]]:
    """Run scorehost ARGS under -X importtime: the process, and for each heavy package (and
    numpy) it imported, the chain of modules it came in through, outermost last."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "scorehost.core", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SCOREHOST_PLUGINS": ""},
    )
    # a module is printed after the ones it imports, indented one step less; [0] is the header
    names = [line.rpartition("|")[2] for line in proc.stderr.splitlines() if line.startswith("import time:")]
    rows = [(len(name) - len(name.lstrip()), name.strip()) for name in names[1:]]
    chains = {}
    for index, (depth, name) in enumerate(rows):
        if name in HEAVY | {"numpy"}:
            chain = [name]
            for indent, outer in rows[index + 1 :]:
                if indent < depth:
                    chain.append(outer)
                    depth = indent
            chains[name] = chain
    return proc, chains


COMMANDS = [
    ["--help"],
    ["models"],
    ["models", "--json"],
    ["plugins"],
    ["edit", "--help"],
    ["serve", "--help"],  # registers every bridge, to list the settings each declares
    ["train", "--help"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_listing_commands_import_no_heavy_module(args):
    proc, heavy = _imported(args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "deepbach" in proc.stdout or "--help" in args
    assert not heavy, f"scorehost {' '.join(args)} imported {heavy}"  # numpy neither


@pytest.fixture(scope="module")
def chorale_midi(tmp_path_factory, chorale):
    return write_score(chorale, tmp_path_factory.mktemp("startup") / "chorale.mid")


REFUSED = [
    (["--model", "deepbach", "--region", "alto:99"], "bar 99 is not in the score"),
    (["--model", "deepbach", "--region", "alto:2", "--option", "iterations=0"], "iterations"),
    (["--model", "deepbach", "--region", "alto:2", "-c", "polyphony:alto:1"], "does not honour polyphony"),
    (["--model", "mmm", "--region", "alto:2", "--option", "top_p=7"], "top_p"),
    (["--model", "mmm", "--region", "alto:2", "-c", "theme:1-2"], "does not honour theme"),
]


@pytest.mark.parametrize(
    ("extra", "message"), REFUSED, ids=lambda v: v if isinstance(v, str) else " ".join(v)
)
def test_a_bad_request_is_refused_before_torch_loads(chorale_midi, tmp_path, extra, message):
    """A request is checked, by the core and by the model, before any network or device."""
    proc, heavy = _imported(["edit", str(chorale_midi), "-o", str(tmp_path / "out.mid"), *extra])
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr[-2000:]
    heavy.pop("numpy", None)  # a model may need it to check a request
    assert not heavy, f"refusing {extra} imported {heavy}"
