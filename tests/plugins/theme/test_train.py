"""Training theme and its prompt baseline on a folder of the user's files: labelled examples,
checkpoints, resume, export of both networks (a smoke run of seconds on tiny settings)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from music21 import corpus

from scorehost.core.musicxml import score_from_music21
from scorehost.core.scoreio import write_score
from scorehost.plugins.theme.commands import train_command
from scorehost.plugins.theme.data import tokenize
from scorehost.plugins.theme.examples import sample_example
from scorehost.plugins.theme.retrieval import expanded
from scorehost.plugins.theme.weights import BASELINE_STEM, STEM, load_network

from .conftest import vocabulary

TUNES = (43, 14, 15, 37, 1, 9, 10, 28)  # O'Neill's tunes in which retrieval finds a theme


def tunes_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "tunes"
    folder.mkdir()
    opus = corpus.parse("oneills1850")
    for i in TUNES:
        write_score(score_from_music21(expanded(opus.scores[i])), folder / f"tune{i}.musicxml")
    return folder


def test_examples_mark_occurrences_and_fill_in_order():
    vocab = vocabulary()
    piece = tokenize("daniel", score_from_music21(corpus.parse("oneills1850").scores[43]), vocab)
    assert piece is not None and piece.theme == (1, 4)
    assert [o[0] for o in piece.occurrences] == [1, 9, 26]
    rng = np.random.default_rng(0)
    marked = 0
    for _ in range(60):
        example = sample_example(piece, vocab, rng, 512, 256, augment=True)
        tokens = example.tokens
        assert len(tokens) + len(example.theme) + 2 <= 512 and tokens[0] == vocab["BOS_None"]
        holes = tokens.count(vocab["Infill_Bar"])
        assert holes >= 1 and tokens.count(vocab["FillBar_Start"]) == holes == tokens.count(
            vocab["FillBar_End"]
        )
        assert tokens[example.fill_from] == vocab["FillBar_Start"]
        assert example.theme[0] == vocab["BOS_None"] and vocab["Theme_Start"] not in example.theme
        marked += vocab["Theme_Start"] in tokens
    assert marked > 30  # most windows hold an occurrence of the theme


def test_train_resumes_and_exports_both_networks(tmp_path):
    folder, out = tunes_folder(tmp_path), tmp_path / "run"
    args = ["--data", str(folder), "--out", str(out), "--weights", str(out / "best"), "--minutes", "0.15",
            "--batch", "2", "--dim", "32", "--layers", "1", "--encoder-layers", "1", "--heads", "2",
            "--context", "512", "--theme-context", "128", "--eval-every", "3", "--threads", "1"]  # fmt: skip
    first = CliRunner().invoke(train_command, args)
    assert first.exit_code == 0, first.output
    steps = json.loads((out / "log.json").read_text())[-1]["step"]
    assert (out / "checkpoint.pt").exists() and (out / "data" / "splits" / "test.txt").exists()
    args[args.index("--minutes") + 1] = "0.25"
    second = CliRunner().invoke(train_command, args)
    assert second.exit_code == 0 and "resumed at step" in second.output, second.output
    assert json.loads((out / "log.json").read_text())[-1]["step"] > steps
    net, vocab = load_network("cpu", out / "best", STEM)
    assert net.config.dim == 32 and vocab.tokens[-2:] == ["Theme_Start", "Theme_End"]
    baseline, _ = load_network("cpu", out / "best", BASELINE_STEM)
    assert not hasattr(baseline, "encode")
    for stem in (STEM, BASELINE_STEM):
        stats = json.loads((out / "best" / f"{stem}.json").read_text())["training"]
        assert stats["test_nll"] > 0 and stats["data"] == str(folder)
    # --init: a new run starts both networks from the exported weights, in their shape
    again = tmp_path / "again"
    args[args.index("--out") + 1], args[args.index("--weights") + 1] = str(again), str(again / "best")
    args[args.index("--dim") + 1] = "64"  # ignored: the weights' shape is used
    third = CliRunner().invoke(train_command, [*args, "--init", str(out / "best")])
    assert third.exit_code == 0 and "starting from the weights" in third.output, third.output
    assert load_network("cpu", again / "best", STEM)[0].config.dim == 32


def test_a_budget_the_data_used_up_still_trains_one_step_and_saves_it(tmp_path):
    folder, out = tunes_folder(tmp_path), tmp_path / "run"
    args = ["--data", str(folder), "--out", str(out), "--weights", str(out / "best"), "--minutes", "0.001",
            "--batch", "2", "--dim", "32", "--layers", "1", "--encoder-layers", "1", "--heads", "2",
            "--context", "512", "--theme-context", "128", "--threads", "1"]  # fmt: skip
    result = CliRunner().invoke(train_command, args)
    assert result.exit_code == 0, result.output
    assert [e["step"] for e in json.loads((out / "log.json").read_text())] == [1]
    assert (out / "checkpoint.pt").exists() and (out / "best" / f"{STEM}.safetensors").exists()


def test_train_on_two_processes_trains_both_networks(tmp_path):
    """--nproc 2: theme and its prompt baseline train through one DistributedDataParallel."""
    import subprocess
    import sys

    folder, out = tunes_folder(tmp_path), tmp_path / "run"
    args = ["--data", str(folder), "--out", str(out), "--weights", str(out / "best"), "--minutes", "0.2",
            "--batch", "2", "--dim", "32", "--layers", "1", "--encoder-layers", "1", "--heads", "2",
            "--context", "512", "--theme-context", "128", "--eval-every", "3", "--threads", "1",
            "--nproc", "2"]  # fmt: skip
    run = subprocess.run([sys.executable, "-m", "scorehost.plugins.theme", "train", *args],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("done:") == 1 and "2 processes" in run.stdout, run.stdout
    assert json.loads((out / "log.json").read_text())[-1]["step"] >= 1
    assert (out / "best" / f"{STEM}.safetensors").exists() and (
        out / "best" / f"{BASELINE_STEM}.safetensors"
    ).exists()
