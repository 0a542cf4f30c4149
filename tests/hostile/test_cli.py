"""Crafted hostile scores, kept as regression cases: each is refused by `scorehost edit` under
a 4 GB address-space limit (`ulimit -v 4000000`) within 10 s, with one line on stderr that names what is wrong, and
a non-zero exit. Small ones are files in files/; archives that expand are made here."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from music21 import corpus

from scorehost.core.musicxml import MAX_ARCHIVE_ENTRIES, MAX_UNZIPPED_BYTES
from scorehost.core.score import MAX_BARS, MAX_CONTROLS, MAX_TICKS
from scorehost.core.scoreio import MAX_FILE_BYTES, read_score

FILES = Path(__file__).parent / "files"
MEMORY = 4_000_000 * 1024  # bytes: ulimit -v 4000000 (KiB), as #11 asks
SECONDS = 10

_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<score-partwise version="3.1">'
    b'<part-list><score-part id="P1"><part-name>Melody</part-name></score-part></part-list><part id="P1">'
    b'<measure number="1"><attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type>'
    b"</time></attributes>"
)
_NOTE = (
    b"<note><pitch><step>C</step><octave>4</octave></pitch><duration>1</duration><type>quarter</type></note>"
)
_TAIL = b"</measure></part></score-partwise>\n"


def _bomb(path: Path) -> None:
    """A .mxl of some kilobytes whose score unpacks to three times the limit: music21 would
    build every one of its ~2 million notes."""
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("score.xml", "w") as handle,
    ):
        handle.write(_HEAD)
        chunk = _NOTE * (1024 * 1024 // len(_NOTE))
        for _ in range(3 * MAX_UNZIPPED_BYTES // len(chunk)):
            handle.write(chunk)
        handle.write(_TAIL)


def _crowded(path: Path) -> None:
    """A valid one-bar score in an archive with thousands of other entries."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("score.xml", _HEAD + _NOTE * 4 + _TAIL)
        for i in range(20 * MAX_ARCHIVE_ENTRIES):
            archive.writestr(f"images/{i}.png", b"")


def _lying(path: Path) -> None:
    """The bomb with its stated sizes rewritten small: the bytes are counted, not the header."""
    _bomb(path)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    data[22:26] = data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def _many_notes(path: Path) -> None:
    """15.5 MB of MusicXML, under the 20 MiB file limit: 4,403 bars of eight-note chords,
    140,896 notes. music21 took minutes to parse it before the note count refused it; as a
    .mxl it is the same score in some kilobytes."""
    chord = b"".join(
        b"<note>" + (b"<chord/>" if i else b"") + b"<pitch><step>%s</step><octave>%d</octave></pitch>"
        b"<duration>1</duration><type>quarter</type></note>" % (step, octave)
        for i, (step, octave) in enumerate(
            [(b"C", 3), (b"E", 3), (b"G", 3), (b"C", 4), (b"E", 4), (b"G", 4), (b"C", 5), (b"E", 5)]
        )
    )
    bars = [_HEAD + chord * 4 + b"</measure>"]
    bars += [b'<measure number="%d">' % n + chord * 4 + b"</measure>" for n in range(2, MANY_BARS + 1)]
    text = b"".join(bars) + b"</part></score-partwise>\n"
    if path.suffix == ".mxl":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("score.xml", text)
    else:
        path.write_bytes(text)


MANY_BARS = 4_403
MANY = MANY_BARS * 32
BENDS = 6_000_000


def _pitch_bends(path: Path) -> None:
    """18 MB of MIDI, under the file limit: one note held under 6 million pitch bends a tick
    apart, 3 bytes each in running status. mido makes an object of every event (about 10 us
    and 600 bytes each): a minute and gigabytes before the score's limit could refuse it."""
    bends = b"\x00\xe0\x00\x40" + b"\x01\x00\x40" * (BENDS - 1)
    events = b"\x00\x90\x3c\x50" + bends + b"\x00\x80\x3c\x00\x00\xff\x2f\x00"
    header = b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big")
    header += (480).to_bytes(2, "big")
    path.write_bytes(header + b"MTrk" + len(events).to_bytes(4, "big") + events)


CASES = {  # file (or maker) -> what the one line must say
    "huge_delta.mid": f"past the limit of {MAX_TICKS:,} ticks",  # a 0x0FFFFFFF delta at 1 tick per beat
    "type7.mid": "type 7 MIDI file",
    "length_1e9.json": f"length: tick 1,000,000,000 is past the limit of {MAX_TICKS:,} ticks",
    "tempo_1e-300.json": "tempos[0].bpm: a tempo of 1e-300 bpm is outside the limits 1 to 1000",
    "negative_duration.musicxml": "bar 1 of Melody has a note or rest with a negative duration",
    "far_forward.musicxml": "a bar at tick 0 has a length that no time signature can state",  # 10^9 beats
    "tiny_tempo.musicxml": "bpm is outside the limits 1 to 1000",
    "bomb.mxl": f"unpacks to more than {MAX_UNZIPPED_BYTES:,} bytes",
    "crowded.mxl": f"holds {20 * MAX_ARCHIVE_ENTRIES + 1:,} files; a MusicXML archive may hold {MAX_ARCHIVE_ENTRIES}",
    "lying.mxl": "is not a readable MusicXML archive",
    "many_notes.musicxml": f"many_notes.musicxml holds {MANY:,} notes; the limit is 50,000",
    "many_notes.mxl": f"many_notes.mxl holds {MANY:,} notes; the limit is 50,000",
    "pitch_bends.mid": f"pitch_bends.mid holds more than {MAX_CONTROLS:,} controller events",
}
MAKERS = {
    "bomb.mxl": _bomb,
    "crowded.mxl": _crowded,
    "lying.mxl": _lying,
    "many_notes.musicxml": _many_notes,
    "many_notes.mxl": _many_notes,
    "pitch_bends.mid": _pitch_bends,
}
LARGE = {"many_notes.musicxml", "pitch_bends.mid"}  # under the file limit, as the 15.5 MB file was


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_score_is_refused_with_one_line(name, tmp_path):
    if name in MAKERS:
        path = tmp_path / name
        MAKERS[name](path)
    else:
        path = FILES / name
    if name in LARGE:
        assert 15_000_000 < path.stat().st_size < MAX_FILE_BYTES
    else:
        assert path.stat().st_size < 1024 * 1024, "a hostile case is small; what it expands to is not"
    command = [sys.executable, "-m", "scorehost.core", "edit", str(path), "-o", str(tmp_path / "out.mid")]
    command += ["-m", "deepbach", "-r", "alto,tenor,bass"]
    env = {**os.environ, "SCOREHOST_PLUGINS": "", "SCOREHOST_DEVICE": "cpu"}
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=SECONDS, preexec_fn=_limited
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and "internal error" not in lines[0], lines[0]
    assert CASES[name] in lines[0], lines[0]
    assert not (tmp_path / "out.mid").exists()


def test_the_longest_corpus_movement_still_reads():
    """Beethoven's Grosse Fuge: 742 bars, the longest movement in music21's corpus (.mxl)."""
    score = read_score(corpus.getWork("beethoven/opus133"))
    assert len(score.bars()) == 742 < MAX_BARS and score.length < MAX_TICKS
