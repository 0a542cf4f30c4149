from __future__ import annotations

from functools import cache
from pathlib import Path

import mido
import numpy as np
import pytest
import symusic
from music21 import corpus

from scorehost.core.errors import ScoreReadError
from scorehost.core.midifile import read_midi, write_midi
from scorehost.core.musicxml import read_musicxml, score_from_music21
from scorehost.core.score import (
    Fermata,
    KeySignature,
    Marker,
    Note,
    Score,
    Tempo,
    Track,
    note_tuples,
)
from scorehost.plugins.lib.symusic_io import from_symusic, read_midi_fast, to_symusic

PIECES = [
    "bach/bwv66.6",  # 4/4 with a pickup, F# minor, 96 bpm, fermatas, voice roles
    "haydn/opus74no1/movement3",  # quartet, C major then A major, an irregular 13/16 bar
    "haydn/opus1no1/movement1",  # 6/8 with a pickup, ends with rests, 240 bpm
    "palestrina/agnus_01",  # five voices in 4/2, two tracks with the same name (Humdrum)
]


@cache
def piece(name: str) -> Score:
    if name.startswith("palestrina/"):  # kern files: read through music21, as the corpus loader does
        return score_from_music21(corpus.parse(name))
    return read_musicxml(Path(corpus.getWork(name)))


def carried(score: Score, title: str = "") -> Score:
    """What symusic carries of a score: no title, roles or spellings (MIDI has pitches only, read
    as the key spells them), fermatas on every track."""
    tracks = [
        t.model_copy(
            update={"role": None, "notes": [n.model_copy(update={"spelling": None}) for n in t.notes]}
        )
        for t in score.tracks
    ]
    fermatas = [Fermata(tick=t) for t in sorted({f.tick for f in score.fermatas})]
    update = {"title": title, "tracks": tracks, "fermatas": fermatas}
    return score.model_copy(update=update).normalized()


def assert_same_music(got: Score, want: Score) -> None:
    assert [(t.name, t.program, t.is_drum) for t in got.tracks] == [
        (t.name, t.program, t.is_drum) for t in want.tracks
    ]
    for got_track, want_track in zip(got.tracks, want.tracks, strict=True):
        assert note_tuples(got_track) == note_tuples(want_track)
    assert got.time_signatures == want.time_signatures
    assert [(k.tick, k.tonic, k.mode) for k in got.keys] == [(k.tick, k.tonic, k.mode) for k in want.keys]
    assert got.tempos == want.tempos
    assert sorted({f.tick for f in got.fermatas}) == sorted({f.tick for f in want.fermatas})


@pytest.mark.parametrize("name", PIECES)
def test_corpus_round_trip_keeps_all_symusic_can_carry(name):
    score = piece(name)
    sym = to_symusic(score)
    assert sym.ticks_per_quarter == 480 and len(sym.tracks) == len(score.tracks)
    back = from_symusic(sym, title=score.title)
    assert back == carried(score, score.title)
    assert_same_music(back, score)
    assert back.bars() == score.bars() and back.length == score.length  # pickups, irregular bars
    assert from_symusic(sym).title == ""


def test_corpus_pieces_cover_pickups_meters_keys_and_tempos():
    chorale, quartet, six_eight = (piece(n) for n in PIECES[:3])
    assert chorale.bars()[0].number == 0 and six_eight.bars()[0].number == 0
    assert (six_eight.time_signatures[0].numerator, six_eight.time_signatures[0].denominator) == (6, 8)
    assert [k.name() for k in quartet.keys] == ["C major", "A major"]
    assert chorale.keys[0].name() == "F# minor" and chorale.tempos[0].bpm == 96.0
    assert six_eight.length > max(n.end for t in six_eight.tracks for n in t.notes)


@pytest.mark.parametrize("name", PIECES)
def test_midi_file_written_by_symusic_reads_back_fast_and_as_core_reads_it(name, tmp_path):
    score = piece(name)
    path = tmp_path / "piece.mid"
    to_symusic(score).dump_midi(path)
    fast = read_midi_fast(path)
    assert fast == carried(score, title="piece")
    assert_same_music(read_midi(path), fast)


@pytest.mark.parametrize("name", PIECES[:2])
def test_midi_file_written_by_core_reads_the_same_notes_fast(name, tmp_path):
    path = tmp_path / "piece.mid"
    write_midi(piece(name), path)
    assert_same_music(read_midi_fast(path), read_midi(path))


def _band() -> Score:
    drums = [Note(start=i * 240, duration=120, pitch=36 + 2 * (i % 3), velocity=100) for i in range(16)]
    bass = [Note(start=i * 960, duration=900, pitch=40 + i, velocity=70) for i in range(4)]
    return Score(
        length=4 * 1920,
        tracks=[
            Track(name="Kit", program=0, is_drum=True, notes=drums),
            Track(name="Bass", program=33, notes=bass),
        ],
        markers=[Marker(tick=1920, text="B section")],
    ).normalized()


def test_drum_track_survives_as_drum(tmp_path):
    score = _band()
    assert from_symusic(to_symusic(score)) == score
    path = tmp_path / "band.mid"
    to_symusic(score).dump_midi(path)
    assert read_midi_fast(path) == score.model_copy(update={"title": "band"})
    assert [t.is_drum for t in read_midi(path).tracks] == [True, False]


def test_empty_tracks_markers_and_trailing_rests_survive():
    score = _band()
    score = score.model_copy(
        update={"tracks": [*score.tracks, Track(name="New", program=52)], "length": 9000}
    )
    assert from_symusic(to_symusic(score)) == score


def test_church_modes_come_back_as_major_or_minor_with_the_same_signature():
    modes = ["dorian", "phrygian", "lydian", "mixolydian", "aeolian", "locrian", "minor", "major"]
    tonics = [2, 4, 5, 7, 9, 11, 6, 3]  # the white-key modes, then F# minor and Eb major
    keys = [
        KeySignature(tick=480 * i, tonic=t, mode=m)
        for i, (t, m) in enumerate(zip(tonics, modes, strict=True))
    ]
    back = from_symusic(to_symusic(Score(length=3840, keys=keys))).keys
    assert [k.sharps for k in back] == [k.sharps for k in keys]
    assert [k.name() for k in back] == [
        *["A minor", "A minor", "C major", "C major", "A minor", "A minor"],
        *["F# minor", "Eb major"],
    ]


def test_tempos_survive_as_midi_microseconds():
    bpms = [96.5, 240.0, 264.0, 333.333, 900.0, 1000.0, 37.125, 119.999]
    tempos = [Tempo(tick=480 * i, bpm=b) for i, b in enumerate(bpms)]
    assert from_symusic(to_symusic(Score(length=3840, tempos=tempos))).tempos == tempos


def _foreign_midi(path: Path, tpq: int) -> None:
    """A type 1 file at another resolution, with events off the 480 grid and a zero-length note."""
    rng = np.random.default_rng(tpq)
    conductor = mido.MidiTrack()
    conductor.append(mido.MetaMessage("time_signature", numerator=4, denominator=4))
    conductor.append(mido.MetaMessage("time_signature", numerator=3, denominator=4))  # same tick: wins
    conductor.append(mido.MetaMessage("key_signature", key="Bb", time=7))  # none at tick 0
    conductor.append(mido.MetaMessage("set_tempo", tempo=612_345, time=tpq))
    tracks = [conductor]
    for channel in (0, 9):
        events = [(0, 0, mido.MetaMessage("track_name", name=f"ch{channel}"))]
        events.append((0, 0, mido.Message("program_change", channel=channel, program=channel + 3)))
        events += _note(channel, 100, 64, 3 * tpq + 1, 0)  # zero length: on, then off
        for start in rng.integers(0, 16 * tpq, 40).tolist():
            pitch, velocity, length = (int(x) for x in rng.integers((30, 1, 1), (90, 128, tpq)))
            events += _note(channel, pitch, velocity, start, length)
        tracks.append(_as_track(events))
    mido.MidiFile(type=1, ticks_per_beat=tpq, tracks=tracks).save(str(path))


def _note(channel: int, pitch: int, velocity: int, start: int, length: int) -> list[tuple]:
    # At one tick, releases go first so that a repeated pitch does not overlap itself.
    on = mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)
    off = mido.Message("note_off", channel=channel, note=pitch)
    return [(start, 2, on), (start + length, 1 if length else 3, off)]


def _as_track(events: list[tuple]) -> mido.MidiTrack:
    track, now = mido.MidiTrack(), 0
    for tick, _order, msg in sorted(events, key=lambda e: e[:2]):
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


@pytest.mark.parametrize("tpq", [96, 384, 1000, 960])
def test_other_resolutions_read_as_core_reads_them(tpq, tmp_path):
    path = tmp_path / "foreign.mid"
    _foreign_midi(path, tpq)
    fast, core = read_midi_fast(path), read_midi(path)
    assert_same_music(fast, core)
    assert fast.time_signatures[0].numerator == 3 and fast.keys[0] == KeySignature(tick=0, tonic=0)
    assert fast.keys[1].name() == "Bb major" and fast.tempos[1].bpm == core.tempos[1].bpm


def test_from_symusic_fills_the_maps_and_repairs_notes():
    sym = symusic.Score(96)
    track = symusic.Track(name="x", program=5)
    track.notes.append(symusic.Note(10, 0, 60, 0))  # zero length, zero velocity
    track.notes.append(symusic.Note(96, 96, 62, 127))
    sym.tracks.append(track)
    sym.time_signatures.append(symusic.TimeSignature(288, 3, 4))  # opens a bar after the music
    sym.time_signatures.append(symusic.TimeSignature(288, 2, 4))  # same tick: the later one wins
    score = from_symusic(sym)
    assert note_tuples(score.tracks[0]) == [(50, 60, 1, 1), (480, 62, 480, 127)]
    assert [(t.tick, t.numerator) for t in score.time_signatures] == [(0, 4), (1440, 2)]
    assert score.keys == [KeySignature(tick=0, tonic=0)] and score.tempos == [Tempo(tick=0, bpm=120.0)]
    assert score.length == 1440 + 960
    assert from_symusic(sym.to("quarter")) == score


def test_read_midi_fast_refuses_what_is_not_midi(tmp_path):
    path = tmp_path / "notes.mid"
    path.write_text("not a MIDI file")
    with pytest.raises(ScoreReadError, match="notes.mid"):
        read_midi_fast(path)
