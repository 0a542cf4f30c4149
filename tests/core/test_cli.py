"""The scorehost command, run as a user runs it: a real process, real files, exit codes."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from scorehost.core.score import note_tuples
from scorehost.core.scoreio import read_score, write_score

from ..conftest import CHORALE, corpus_path
from .test_host import needs_example


def scorehost(*args, env=None, cwd=None):
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SCOREHOST_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "scorehost.core", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def chorale_file(tmp_path):
    path = tmp_path / "chorale.mxl"
    shutil.copy(corpus_path(CHORALE), path)
    return path


def _one_clear_error(proc, fragment):
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert fragment in lines[0], lines[0]


def test_help_and_plugins_and_models():
    assert "edit" in scorehost("--help").stdout
    proc = scorehost("plugins", "--json")
    assert proc.returncode == 0 and any(
        p["name"].startswith("scorehost.plugins") for p in json.loads(proc.stdout)
    )
    proc = scorehost("models", "--json")
    assert proc.returncode == 0
    for info in json.loads(proc.stdout):
        assert info["options_schema"]["type"] == "object"


def test_models_shows_each_constraint_beside_its_short_form(chorale_file):
    """Every honoured constraint is listed by its JSON type and the short form that
    --constraint reads as that very type (pin: is pinned_notes, range: is pitch_range)."""
    from scorehost.core.cliparse import parse_constraint

    examples = {"TRACK": "alto", "TRACKS": "alto", "tTICK": "t480", "PITCH": "C4", "LOW-HIGH": "G3-D5"}
    examples |= {"PROGRAM": "40", "NOTES_PER_BAR": "4", "MAX_NOTES": "1", "SPAN": "1-2"}
    score = read_score(chorale_file)
    listing = scorehost("models").stdout
    honoured = {
        c for m in json.loads(scorehost("models", "--json").stdout) for c in m["capabilities"]["constraints"]
    }
    assert honoured >= {"pinned_notes", "pitch_range"}
    for name in honoured:
        line = next(line for line in listing.splitlines() if line.split()[:1] == [name])
        for usage in line.split()[1:]:
            if usage == "or":
                continue
            kind, *args = usage.replace("[", "").replace("]", "").split(":")
            spec = ":".join([kind, *(examples.get(a, a) for a in args)])
            assert parse_constraint(score, spec).type == name, (line, spec)


@needs_example
def test_example_plugin_listed_and_hidden_by_env():
    ids = [m["id"] for m in json.loads(scorehost("models", "--json").stdout)]
    assert "thirds-below" in ids
    ids = [m["id"] for m in json.loads(scorehost("models", "--json", env={"SCOREHOST_PLUGINS": ""}).stdout)]
    assert "thirds-below" not in ids


@needs_example
@pytest.mark.parametrize("suffix", [".musicxml", ".mid", ".json"])
def test_edit_with_the_example_plugin(chorale_file, tmp_path, suffix):
    before = chorale_file.read_bytes()
    out = tmp_path / f"out{suffix}"
    proc = scorehost(
        "edit",
        str(chorale_file),
        "-o",
        str(out),
        "-m",
        "thirds-below",
        "-r",
        "alto:2-3",
        "-O",
        "source=soprano",
        "-c",
        "range:alto:G3-D5",
    )
    assert proc.returncode == 0, proc.stderr
    assert chorale_file.read_bytes() == before
    original, result = read_score(chorale_file), read_score(out)
    bars = original.bars()
    start, end = bars[2].start, bars[3].end
    for index, (a, b) in enumerate(zip(original.tracks, result.tracks, strict=True)):
        assert note_tuples(a, 0, start) == note_tuples(b, 0, start)
        assert note_tuples(a, end) == note_tuples(b, end)
        if index != 1:
            assert note_tuples(a) == note_tuples(b)
    soprano = {n.start: n.pitch for n in original.tracks[0].notes}
    for note in result.tracks[1].notes:
        if start <= note.start < end:
            assert 55 <= note.pitch <= 74 and 3 <= (soprano[note.start] - note.pitch) % 12 <= 4


@needs_example
def test_several_variations_get_numbered_files(chorale_file, tmp_path):
    proc = scorehost(
        "edit",
        str(chorale_file),
        "-o",
        str(tmp_path / "v.mid"),
        "-m",
        "thirds-below",
        "-r",
        "alto:1",
        "-n",
        "2",
        "--seed",
        "7",
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "v-1.mid").exists() and (tmp_path / "v-2.mid").exists()


def test_bad_input_gets_one_clear_line(chorale_file, tmp_path):
    truncated = tmp_path / "truncated.musicxml"
    write_score(read_score(chorale_file), tmp_path / "whole.musicxml")
    truncated.write_bytes((tmp_path / "whole.musicxml").read_bytes()[:2000])
    fake_midi = tmp_path / "fake.mid"
    fake_midi.write_text("this is not a MIDI file")
    out = str(tmp_path / "out.mid")
    cases = [
        (("edit", str(truncated), "-o", out, "-m", "echo", "-r", "alto"), "not a readable MusicXML file"),
        (("edit", str(fake_midi), "-o", out, "-m", "echo", "-r", "alto"), "not a MIDI file"),
        (("edit", str(chorale_file), "-o", out, "-m", "nope", "-r", "alto"), "unknown model 'nope'"),
        (
            ("edit", str(chorale_file), "-o", out, "-m", "nope", "-r", "alto:2-40"),
            "bar 40 is not in the score",
        ),
        (
            ("edit", str(chorale_file), "-o", out, "-m", "nope", "-r", "alto:t0-99999"),
            "past the end of the score",
        ),
        (("edit", str(chorale_file), "-o", out, "-m", "nope", "-r", "viola:2"), "no track called 'viola'"),
        (
            ("edit", str(chorale_file), "-o", out, "-m", "nope", "-r", "alto", "-c", "bogus:1"),
            "unknown constraint 'bogus'",
        ),
        (
            ("edit", str(chorale_file), "-o", str(chorale_file), "-m", "nope", "-r", "alto", "--overwrite"),
            "never writes over its input",
        ),
        (("edit", str(tmp_path / "missing.mid"), "-o", out, "-m", "nope", "-r", "alto"), "no such file"),
    ]
    for args, fragment in cases:
        _one_clear_error(scorehost(*args), fragment)
    assert not (tmp_path / "out.mid").exists()


@needs_example
def test_unknown_constraint_for_the_model(chorale_file, tmp_path):
    proc = scorehost(
        "edit",
        str(chorale_file),
        "-o",
        str(tmp_path / "o.mid"),
        "-m",
        "thirds-below",
        "-r",
        "alto",
        "-c",
        "keep-rhythm",
    )
    _one_clear_error(proc, "does not honour keep_rhythm")


def test_existing_output_is_kept(chorale_file, tmp_path):
    out = tmp_path / "taken.mid"
    out.write_bytes(b"mine")
    proc = scorehost("edit", str(chorale_file), "-o", str(out), "-m", "echo", "-r", "alto")
    _one_clear_error(proc, "exists")
    assert out.read_bytes() == b"mine"


def test_demo_says_where_it_wrote(host, tmp_path, monkeypatch):
    """It writes into the current folder: the last line names the file by its full path."""
    from click.testing import CliRunner

    from scorehost.core import cli

    monkeypatch.setattr(cli, "_host", host)  # the test models: echo harmonizes at once
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scorehost-demo.musicxml").write_text("taken")
    result = CliRunner().invoke(cli.cli, ["demo", "--model", "echo", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    written = tmp_path / "scorehost-demo-2.musicxml"
    assert result.output.strip().splitlines()[-1].endswith(f"wrote {written}")
    assert len(read_score(written).tracks) == 4
