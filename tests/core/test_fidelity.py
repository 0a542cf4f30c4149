"""What a file holds comes back as it was: part names, MIDI channels, programs and track names,
and the mode a new file gets from the umask (#13)."""

from __future__ import annotations

import os
import stat

import mido
import pytest
from music21 import note, stream

from scorehost.core.engine import Engine
from scorehost.core.midifile import write_channels
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import Note, Score, Track
from scorehost.core.scoreio import read_score, write_score

_NAMELESS_PARTS = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="4.0">
  <part-list>
    <score-part id="P1"><part-name></part-name></score-part>
    <score-part id="P2"><part-name></part-name>
      <score-instrument id="P2-I1"><instrument-name>Viola</instrument-name></score-instrument>
    </score-part>
  </part-list>
  <part id="P1"><measure number="1">
    <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
    <note><pitch><step>C</step><octave>5</octave></pitch><duration>4</duration><type>whole</type></note>
  </measure></part>
  <part id="P2"><measure number="1">
    <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
    <note><pitch><step>C</step><octave>4</octave></pitch><duration>4</duration><type>whole</type></note>
  </measure></part>
</score-partwise>
"""


def test_a_part_without_a_name_is_named_for_its_instrument_or_as_track_n(tmp_path):
    path = tmp_path / "nameless.musicxml"
    path.write_text(_NAMELESS_PARTS)
    assert [t.name for t in read_score(path).tracks] == ["Track 1", "Viola"]
    # as music21 writes a part it was given no name for (its id then is an object id)
    made = stream.Score()
    part = stream.Part()
    part.append(note.Note("E4", quarterLength=4))
    made.insert(0, part)
    made.write("musicxml", fp=str(tmp_path / "music21.musicxml"))
    assert [t.name for t in read_score(tmp_path / "music21.musicxml").tracks] == ["Track 1"]
    # and a track without a name keeps the one the writer gives it
    unnamed = Score(length=1920, tracks=[Track(notes=[Note(start=0, duration=1920, pitch=60)])])
    assert read_score(write_score(unnamed, tmp_path / "out.musicxml")).tracks[0].name == "Track 1"


@pytest.fixture
def umask():
    """Set the process's umask for one test."""
    saved = os.umask(0o022)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("suffix", [".mid", ".json", ".musicxml", ".mxl"])
def test_written_files_take_the_mode_the_umask_gives(umask, tmp_path, suffix):
    score = Score(length=1920, tracks=[Track(name="Melody", notes=[Note(start=0, duration=480, pitch=67)])])
    for mask, mode in ((0o022, 0o644), (0o027, 0o640), (0o002, 0o664)):
        umask(mask)
        path = write_score(score, tmp_path / f"{mask:o}{suffix}")
        assert stat.S_IMODE(path.stat().st_mode) == mode, (
            f"{path.name}: {stat.S_IMODE(path.stat().st_mode):o}"
        )
        write_score(score, path, overwrite=True)
        assert stat.S_IMODE(path.stat().st_mode) == mode
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".scorehost-")]


def _quartet_midi(path, channels: list[int]) -> None:
    """Four named tracks with their programs on the given channels, as a DAW writes them."""
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("time_signature", numerator=4, denominator=4)]))
    for number, (name, program, channel) in enumerate(
        zip(["Violin I", "Violin II", "Viola", "Cello"], [40, 40, 41, 42], channels, strict=True)
    ):
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=name)])
        track.append(mido.Message("program_change", channel=channel, program=program))
        for bar in range(4):
            pitch = 76 - 7 * number + bar
            track.append(mido.Message("note_on", channel=channel, note=pitch, velocity=80, time=0))
            track.append(mido.Message("note_off", channel=channel, note=pitch, velocity=0, time=1920))
        midi.tracks.append(track)
    midi.save(str(path))


def _channels_programs_names(path) -> list[tuple[int, int, str]]:
    found = []
    for track in mido.MidiFile(str(path)).tracks[1:]:
        name = next(m.name for m in track if m.type == "track_name")
        channel = next(m.channel for m in track if m.type == "note_on")
        program = next(m.program for m in track if m.type == "program_change")
        found.append((channel, program, name))
    return found


@pytest.mark.parametrize("channels", [[1, 2, 3, 4], [0, 3, 5, 7], [0, 1, 2, 3], [15, 14, 13, 12]])
def test_midi_channels_programs_and_names_survive_an_edit(host, tmp_path, channels):
    source = tmp_path / "quartet.mid"
    _quartet_midi(source, channels)
    score = read_score(source)
    request = EditRequest(model="echo", score=score, regions=[Region(track=2, start=1920, end=3840)])
    engine = Engine(host, device="cpu")
    try:
        result = engine.run(request)
    finally:
        engine.shutdown()
    out = write_score(result.variations[0].score, tmp_path / "edited.mid")
    assert _channels_programs_names(out) == _channels_programs_names(source)
    assert _channels_programs_names(out) == list(
        zip(channels, [40, 40, 41, 42], ["Violin I", "Violin II", "Viola", "Cello"], strict=True)
    )


def test_channels_the_writer_picks_anyway_read_as_unset_and_new_tracks_take_free_ones(tmp_path):
    _quartet_midi(tmp_path / "usual.mid", [0, 1, 2, 3])
    assert [t.channel for t in read_score(tmp_path / "usual.mid").tracks] == [None] * 4
    _quartet_midi(tmp_path / "daw.mid", [1, 2, 3, 4])
    assert [t.channel for t in read_score(tmp_path / "daw.mid").tracks] == [1, 2, 3, 4]
    tracks = [Track(name="a", channel=1), Track(name="b"), Track(name="drums", is_drum=True), Track(name="c")]
    assert write_channels(tracks) == [1, 0, 9, 2]
    assert write_channels([Track(name="x") for _ in range(3)]) == [0, 1, 2]
