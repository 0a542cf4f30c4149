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
from scorehost.plugins.mmm.train import sample_example, sampling_weights
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


def test_a_long_window_loses_bars_or_with_tracks_first_tracks():
    vocab = vocabulary()
    cell = [int(vocab.positions[0])] + [
        t
        for p in (60, 64, 67)
        for t in (int(vocab.pitch_ids[p]), vocab.velocity_token(80), vocab.duration_token(1.0))
    ]
    tracks = [PieceTrack(0, False, [cell] * 8, [3] * 8, [3] * 8) for _ in range(4)]
    piece = Piece("p", [vocab["TimeSig_4/4"]] * 8, tracks)

    def shape(tracks_first: bool) -> tuple[float, float]:
        rng, bars, rows = np.random.default_rng(1), [], []
        for _ in range(200):
            seq = sample_example(piece, vocab, rng, 200, augment=False, tracks_first=tracks_first)
            assert len(seq) <= 200
            rows.append(seq.count(vocab["Track_Start"]))
            bars.append(seq.count(vocab["Bar_None"]) / rows[-1])
        return float(np.mean(bars)), float(np.mean(rows))

    (bars_a, rows_a), (bars_b, rows_b) = shape(False), shape(True)
    assert bars_b > bars_a and rows_b < rows_a  # the same budget spent on a track's own bars


def test_accompanied_pieces_are_drawn_more_often_by_their_weight():
    pieces = [Piece(n, [0] * 16, []) for n in ("bach/bwv1", "bach/bwv1--Swing", "ryansMammoth/x/3")]
    plain, heavy = sampling_weights(pieces), sampling_weights(pieces, 3.0)
    assert np.allclose(plain, 1 / 3) and np.isclose(heavy.sum(), 1)
    assert np.isclose(heavy[1] / heavy[0], 3.0) and np.isclose(heavy[0], heavy[2])


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


def test_train_on_two_processes_checkpoints_once_and_exports(tmp_path):
    """--nproc 2: two gloo processes split the batch; rank 0 alone evaluates, checkpoints, exports."""
    folder, out = data_folder(tmp_path), tmp_path / "run"
    args = ["train", "mmm", "--data", str(folder), "--out", str(out), "--weights", str(out / "best"),
            "--minutes", "0.2", "--batch", "2", "--dim", "32", "--layers", "1", "--heads", "2",
            "--context", "512", "--eval-every", "3", "--threads", "1", "--nproc", "2"]  # fmt: skip
    run = scorehost(args)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("done:") == 1 and "2 processes on cpu" in run.stdout, run.stdout
    log = json.loads((out / "log.json").read_text())
    assert log[-1]["step"] >= 1 and (out / "best" / "mmm.safetensors").exists()
    odd = scorehost([*args[:-2], "--nproc", "3"])
    assert odd.returncode != 0 and "does not split evenly over 3 processes" in odd.stderr
