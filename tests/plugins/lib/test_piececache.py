"""The piece cache: files read once (unreadable and empty ones noted, not re-read), read back by name."""

from __future__ import annotations

import shutil
from pathlib import Path

from music21 import corpus

from scorehost.plugins.lib.piececache import load_pieces, read_pieces, read_user_file, user_files


def test_a_folder_is_read_once_and_its_pieces_come_back(tmp_path):
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(corpus.getWork("bach/bwv66.6"), folder / "sub" / "chorale.mxl")
    (folder / "broken.mid").write_bytes(b"not a MIDI file")
    (folder / "notes.txt").write_text("not a score")
    items = user_files(folder)
    assert [name for name, _ in items] == ["broken", "sub/chorale"]
    cache = tmp_path / "user.jsonl"
    read_pieces(items, cache, read_user_file, workers=1)
    lines = cache.read_text().splitlines()
    assert len(lines) == 2  # the broken file is noted as read to nothing
    read_pieces(items, cache, read_user_file, workers=1)
    assert cache.read_text().splitlines() == lines  # nothing read twice
    pieces = list(load_pieces(cache))
    assert [name for name, _ in pieces] == ["sub/chorale"] and len(pieces[0][1].tracks) == 4
    assert list(load_pieces(cache, keep=lambda name: name != "sub/chorale")) == []


def test_an_unreadable_file_is_skipped_with_a_warning(tmp_path, caplog):
    path = Path(tmp_path / "bad.musicxml")
    path.write_text("<score-partwise>")
    assert read_user_file(("bad", path)) == []
    assert "skipped bad" in caplog.text
