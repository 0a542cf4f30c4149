"""`scorehost train mmm` on a folder of the user's files: examples, checkpoints, resume, export."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from music21 import corpus

from scorehost.plugins.mmm.data import Piece, PieceTrack
from scorehost.plugins.mmm.train import sample_example
from scorehost.plugins.mmm.weights import load_network

from .conftest import vocabulary

PIECES = ("bach/bwv66.6", "bach/bwv269", "bach/bwv10.7", "bach/bwv101.7")


def scorehost(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scorehost.core", *args], capture_output=True, text=True, timeout=300
    )


def data_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in PIECES:
        path = Path(corpus.getWork(name))
        shutil.copy(path, folder / f"{name.replace('/', '-')}{path.suffix}")
    return folder


def test_examples_fit_the_context_and_fill_placeholders_in_order():
    vocab = vocabulary()
    cell = [
        int(vocab.positions[0]),
        int(vocab.pitch_ids[60]),
        vocab.velocity_token(80),
        vocab.duration_token(1.0),
    ]
    track = PieceTrack(0, False, [cell] * 12, [1] * 12, [1] * 12)
    piece = Piece("p", [vocab["TimeSig_4/4"]] * 12, [track, track])
    rng = np.random.default_rng(0)
    for _ in range(50):
        seq = sample_example(piece, vocab, rng, 120, augment=True)
        assert len(seq) <= 120 and seq[0] == vocab["BOS_None"]
        holes = seq.count(vocab["Infill_Bar"])
        assert holes >= 1 and seq.count(vocab["FillBar_Start"]) == holes == seq.count(vocab["FillBar_End"])


def test_train_resumes_and_exports(tmp_path):
    folder, out = data_folder(tmp_path), tmp_path / "run"
    args = ["train", "mmm", "--data", str(folder), "--out", str(out), "--weights", str(out / "best"),
            "--minutes", "0.15", "--batch", "2", "--dim", "32", "--layers", "1", "--heads", "2",
            "--context", "512", "--eval-every", "3", "--threads", "1"]  # fmt: skip
    first = scorehost(args)
    assert first.returncode == 0, first.stderr
    steps = json.loads((out / "log.json").read_text())[-1]["step"]
    assert (out / "checkpoint.pt").exists() and (out / "data" / "splits" / "test.txt").exists()
    args[args.index("--minutes") + 1] = "0.25"
    second = scorehost(args)
    assert "resumed at step" in second.stdout, second.stderr
    assert json.loads((out / "log.json").read_text())[-1]["step"] > steps
    net, vocab = load_network("cpu", out / "best")
    assert net.config.dim == 32 and vocab.density_bins
    stats = json.loads((out / "best" / "mmm.json").read_text())["training"]
    assert stats["test_infill_nll"] > 0 and stats["data"] == str(folder)
