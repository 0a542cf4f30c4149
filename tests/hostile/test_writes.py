"""Writing a result never loses it silently and never leaves debris: a score a format cannot
hold, a full disk and a kill -9 in the middle of a write each leave nothing but complete files
in the user's folder, and the failures are one ScoreWriteError that says what went wrong."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

from scorehost.core.errors import ScoreWriteError
from scorehost.core.score import Note, Score, Track
from scorehost.core.scoreio import read_score, write_score


def _score(notes: int = 8, **fields) -> Score:
    track = Track(
        name="Melody", notes=[Note(start=i * 120, duration=120, pitch=40 + i % 40) for i in range(notes)]
    )
    return Score(tracks=[track], length=max(1920, notes * 120), **fields)


@pytest.mark.parametrize(
    ("name", "score", "says"),
    [
        ("title.mid", _score(title="日本語の曲"), "cannot be written as MIDI (title.mid): 'latin-1' codec"),
        (
            "septuplet.musicxml",
            Score(tracks=[Track(notes=[Note(start=0, duration=7, pitch=60)])], length=1920),
            "cannot be written as MusicXML (septuplet.musicxml)",
        ),
        ("x.txt", _score(), "x.txt: unknown file type .txt; use one of"),
    ],
)
def test_a_score_the_format_cannot_hold_is_one_clear_error(tmp_path, monkeypatch, name, score, says):
    private = tmp_path / "private"  # where the encoder's temporary folder goes
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    folder = tmp_path / "user"
    folder.mkdir()
    with pytest.raises(ScoreWriteError) as raised:
        write_score(score, folder / name)
    assert says in str(raised.value)
    assert list(folder.iterdir()) == []
    assert list(private.iterdir()) == []  # the encoder's temporary folder is gone too


def _run(code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], **kwargs)


def test_a_full_disk_leaves_nothing_and_says_so(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) makes the kernel refuse the write as a full disk does."""
    child = _run(
        """
        import resource, signal, sys
        from pathlib import Path
        from scorehost.core.score import Note, Score, Track
        from scorehost.core.scoreio import write_score
        from scorehost.core.errors import ScoreWriteError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        notes = [Note(start=i * 120, duration=120, pitch=60) for i in range(20_000)]
        try:
            write_score(Score(tracks=[Track(notes=notes)], length=2_400_000), Path(sys.argv[1]) / "out.json")
        except ScoreWriteError as exc:
            print(exc)
        """,
        str(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = child.communicate(timeout=60)
    assert "cannot write" in out and "File too large" in out, out
    assert list(tmp_path.iterdir()) == []


def test_kill_9_during_writes_leaves_only_complete_files(tmp_path):
    """A process that writes a 3.8 MB score again and again is killed at once with SIGKILL:
    every file left in the folder has its final name and reads back whole."""
    score = _score(40_000)
    source = tmp_path / "score.json"
    write_score(score, source)
    folder = tmp_path / "out"
    folder.mkdir()
    child = _run(
        """
        import sys
        from pathlib import Path
        from scorehost.core.scoreio import read_score, write_score
        score = read_score(sys.argv[1])
        for i in range(10_000):
            write_score(score, Path(sys.argv[2]) / f"out-{i}.json")
        """,
        str(source),
        str(folder),
    )
    try:
        deadline = time.monotonic() + 60
        while not (folder / "out-2.json").exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # a little way into the next write
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.startswith("out-") and n.endswith(".json") for n in names), names
    for name in names:
        assert read_score(folder / name) == score, name


def test_written_files_take_their_name_only_when_complete(tmp_path, monkeypatch):
    """While a score is written nothing appears under its name or any other in the folder."""
    seen: list[list[str]] = []
    original = os.fsync

    def spy(fd: int) -> None:  # the bytes are written and about to be synced: look at the folder
        seen.append(sorted(p.name for p in tmp_path.iterdir()))
        original(fd)

    monkeypatch.setattr(os, "fsync", spy)
    write_score(_score(), tmp_path / "result.mid")
    assert seen == [[]]
    assert read_score(tmp_path / "result.mid").tracks[0].notes == _score().tracks[0].notes
