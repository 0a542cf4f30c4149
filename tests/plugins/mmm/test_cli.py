"""`scorehost edit --model mmm` as a user runs it, on MIDI files of corpus pieces, with the shipped weights."""

from __future__ import annotations

import mido
from music21 import corpus

from scorehost.core.score import note_tuples
from scorehost.core.scoreio import read_score, write_score
from scorehost.plugins.lib.vocab import DRUM_RANGE

from ...core.test_cli import scorehost


def trio_file(path):
    """BWV 66.6 without its tenor: a three-track piece, as a user's MIDI file."""
    score = read_score(corpus.getWork("bach/bwv66.6"))
    trio = score.model_copy(update={"tracks": [score.tracks[i] for i in (0, 1, 3)], "fermatas": []})
    write_score(trio, path)
    return read_score(path)


def test_adds_a_drum_track(tmp_path):
    trio = trio_file(tmp_path / "trio.mid")
    out = tmp_path / "out.mid"
    proc = scorehost(
        "edit",
        str(tmp_path / "trio.mid"),
        "-o",
        str(out),
        "--model",
        "mmm",
        "--region",
        "drums",
        "--seed",
        "1",
    )
    assert proc.returncode == 0, proc.stderr
    result = read_score(out)
    assert len(result.tracks) == 4
    for old, new in zip(trio.tracks, result.tracks, strict=False):
        assert note_tuples(old) == note_tuples(new)
    drums = result.tracks[3]
    assert drums.is_drum and drums.notes
    assert all(DRUM_RANGE[0] <= n.pitch <= DRUM_RANGE[1] for n in drums.notes)
    channels = {m.channel for t in mido.MidiFile(out).tracks for m in t if m.type == "note_on"}
    assert 9 in channels  # General MIDI's channel 10


def test_writes_a_monophonic_line_in_range(tmp_path):
    trio = trio_file(tmp_path / "trio.mid")
    out = tmp_path / "out.mid"
    proc = scorehost(
        "edit", str(tmp_path / "trio.mid"), "-o", str(out), "--model", "mmm", "--region", "1:5-8",
        "--constraint", "polyphony:1:1", "--constraint", "range:1:C3-C4", "-n", "3", "--seed", "4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    bars = {b.number: b for b in trio.bars()}
    start, end = bars[5].start, bars[8].end
    for i in (1, 2, 3):
        result = read_score(tmp_path / f"out-{i}.mid")
        line = sorted((n for n in result.tracks[1].notes if start <= n.start < end), key=lambda n: n.start)
        assert line and all(48 <= n.pitch <= 60 for n in line)
        assert all(a.end <= b.start for a, b in zip(line, line[1:], strict=False))
        outside = [n for n in trio.tracks[1].notes if not start <= n.start < end]
        assert sorted(n.key() for n in outside) == sorted(
            n.key() for n in result.tracks[1].notes if not start <= n.start < end
        )


def one_line_error(proc) -> str:
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


def test_bad_requests_get_one_clear_line(tmp_path):
    trio_file(tmp_path / "trio.mid")
    edit = ("edit", str(tmp_path / "trio.mid"), "-o", str(tmp_path / "out.mid"), "--model", "mmm")
    message = one_line_error(scorehost(*edit, "--region", "1:2-3", "--constraint", "instrument:1:200"))
    assert "127" in message
    message = one_line_error(
        scorehost(*edit, "--region", "drums:2-3", "--constraint", "pitch-classes:0,4,7:drums")
    )
    assert "drum track" in message
    assert not (tmp_path / "out.mid").exists()


def test_an_empty_score_gets_a_new_track(tmp_path):
    from scorehost.core.score import Score, Track

    write_score(Score(length=4 * 1920, tracks=[Track(name="Piano")]), tmp_path / "empty.json")
    out = tmp_path / "out.json"
    proc = scorehost(
        "edit", str(tmp_path / "empty.json"), "-o", str(out), "--model", "mmm", "--region", "bassline"
    )
    assert proc.returncode == 0, proc.stderr
    result = read_score(out)
    assert result.tracks[1].role == "bassline" and result.tracks[1].notes
