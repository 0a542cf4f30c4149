"""mma accompaniment under corpus melodies: real mma, real chorales (4/4 with a pickup, 3/4 with
split bars) and a small 2/4 piece; bars of the melody and the accompaniment must line up."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest
from music21 import chord, corpus, harmony, meter, note, stream

from scorehost.core.midifile import read_midi
from scorehost.core.musicxml import score_from_music21
from scorehost.core.score import Score, Track
from scorehost.plugins.mmm.accompaniment import (
    GROOVES,
    MmaError,
    accompanied_name,
    accompanied_piece,
    build_accompanied_set,
    default_sources,
    mma_source,
    progression_from_score,
    render,
)

pytestmark = pytest.mark.skipif(shutil.which("mma") is None, reason="needs mma (apt-get install mma)")

MMA_NAME = re.compile(r"^[A-G][#b]?(|m|mb5|aug|7|m7|M7|m7b5|dim7|sus4|sus2)$")
PIECES = {"bach/bwv66.6": "Swing", "bach/bwv269": "Waltz"}  # 4/4 with a pickup; 3/4, split bars


class Rendered:
    def __init__(self, m21: stream.Score, groove: str, workdir: Path):
        self.source = score_from_music21(m21)
        self.progression = progression_from_score(m21)
        assert self.progression is not None
        self.accompaniment = render(mma_source(self.progression, groove, 100, seed=7), workdir)
        self.piece = accompanied_piece(self.source, self.accompaniment)


@pytest.fixture(scope="module", params=list(PIECES))
def rendered(request, tmp_path_factory) -> Rendered:
    m21 = corpus.parse(request.param)
    return Rendered(m21, PIECES[request.param], tmp_path_factory.mktemp("mma"))


@pytest.fixture(scope="module")
def two_four(tmp_path_factory) -> Rendered:
    return Rendered(_two_four_tune(), "8Beat", tmp_path_factory.mktemp("mma"))


def _two_four_tune() -> stream.Score:
    """A 2/4 tune with a one-beat pickup and chord symbols: C, F, G7, C, C."""
    part = stream.Part()
    pickup = stream.Measure(number=0)
    pickup.timeSignature = meter.TimeSignature("2/4")
    pickup.paddingLeft = 1.0
    pickup.append(note.Note("G4"))
    part.append(pickup)
    for number, (symbol, pitches) in enumerate(
        [("C", "C5 E5"), ("F", "F5 A5"), ("G7", "G5 B4"), ("C", "C5 C5")], start=1
    ):
        measure = stream.Measure(number=number)
        measure.insert(0, harmony.ChordSymbol(symbol))
        for name in pitches.split():
            measure.append(note.Note(name))
        part.append(measure)
    score = stream.Score()
    score.insert(0, part)
    return score


def _root_pitch_class(name: str) -> int:
    return ("C D EF G A B".index(name[0]) + {"#": 1, "b": -1}.get(name[1:2], 0)) % 12


# ---- progression ------------------------------------------------------------------------


def test_progression_has_one_entry_per_bar_of_mma_names(rendered):
    progression = rendered.progression
    assert len(progression) == len(rendered.source.bars())
    assert all(1 <= len(chords) <= 2 for chords in progression)
    assert all(MMA_NAME.match(name) for chords in progression for name in chords), list(progression)


def test_progression_of_bwv66_6_keeps_the_pickup_and_the_cadence():
    progression = progression_from_score(corpus.parse("bach/bwv66.6"))
    assert progression.meter == (4, 4) and progression.key == "F# minor"
    assert progression.beats[0] == 1 and progression.offsets[0] == 3  # the pickup is beat 4
    assert progression[0] == ["A"] and progression[1] == ["F#m", "A"]
    assert progression[-1][-1] == "F#"  # the Picardy third of the final cadence


def test_progression_of_bwv269_is_in_three_with_split_bars():
    progression = progression_from_score(corpus.parse("bach/bwv269"))
    assert progression.meter == (3, 4)
    assert [float(b) for b in progression.beats[6:9]] == [3, 2, 1]  # a bar split at a repeat sign
    assert [float(o) for o in progression.offsets[6:9]] == [0, 0, 2]


def test_chord_names_are_what_mma_knows():
    part = stream.Part()
    part.append(meter.TimeSignature("4/4"))
    for pitches, length in [("C4 E4 G4", 2), ("B3 D4 F4", 2), ("G3 B3 D4 F4", 4), ("F3 A3 C4 E4", 4)]:
        part.append(chord.Chord(pitches.split(), quarterLength=length))
    part.append(chord.Chord(["C3", "C4"], quarterLength=4))  # octaves: the key's triad on C
    score = stream.Score()
    score.insert(0, part.makeMeasures())
    assert list(progression_from_score(score)) == [["C", "Bmb5"], ["G7"], ["FM7"], ["C"]]


def test_progression_refuses_other_meters_and_single_lines():
    part = stream.Part()
    part.append(meter.TimeSignature("6/8"))
    part.append([chord.Chord(["C4", "E4", "G4"], quarterLength=3) for _ in range(4)])
    compound = stream.Score()
    compound.insert(0, part.makeMeasures())
    assert progression_from_score(compound) is None
    melody_only = stream.Score()
    melody_only.insert(0, corpus.parse("bach/bwv66.6").parts[0])
    assert progression_from_score(melody_only) is None


def test_max_bars_cuts_the_progression():
    assert len(progression_from_score(corpus.parse("bach/bwv269"), max_bars=5)) == 5


# ---- mma --------------------------------------------------------------------------------


def test_mma_source_states_groove_meter_and_short_bars():
    progression = progression_from_score(corpus.parse("bach/bwv66.6"))
    text = mma_source(progression, "Swing", 96, seed=3)
    lines = text.splitlines()
    assert {"Tempo 96", "Groove Swing", "Time 4", "TimeSig 4 4", "RndSeed 3"} <= set(lines)
    assert lines[lines.index("1 A") - 1] == "Truncate 1 Side=4"  # the pickup: the pattern's last beat
    assert "2 F#m / A /" in lines
    assert lines[-2:] == ["Truncate 3 Side=1", "10 Bm / F#"]
    assert len([line for line in lines if re.match(r"\d+ ", line)]) == 10


def test_plain_lists_are_full_bars():
    assert mma_source([["C", "G7"], ["F"]], "Waltz", 120, (3, 4)).endswith("1 C / G7\n2 F / /\n")


def test_render_gives_drums_bass_and_chords(rendered):
    tracks = rendered.accompaniment.tracks
    assert [t.role for t in tracks][:3] == ["drums", "bassline", "chords"]
    drums, bass, chords = tracks[:3]
    assert drums.is_drum and drums.name == "Drums" and drums.notes
    assert all(27 <= n.pitch <= 87 for n in drums.notes)  # General MIDI percussion
    assert not bass.is_drum and bass.notes and max(n.pitch for n in bass.notes) < 60
    assert not chords.is_drum and len({n.pitch for n in chords.notes}) >= 3
    assert len(tracks) <= 4 and all(t.notes for t in tracks)


def test_render_reports_mma_errors(tmp_path):
    with pytest.raises(MmaError, match="Cxyz"):
        render(mma_source([["Cxyz"]], "Swing", 100, (4, 4)), tmp_path)
    with pytest.raises(MmaError, match="NOGROOVE"):
        render(mma_source([["C"]], "NoGroove", 100, (4, 4)), tmp_path)


def test_chosen_grooves_render_every_meter(tmp_path):
    for beats, grooves in GROOVES.items():
        for groove in grooves:
            rendered = render(mma_source([["C"], ["G7"]], groove, 100, (beats, 4), seed=1), tmp_path)
            assert [t.role for t in rendered.tracks][:3] == ["drums", "bassline", "chords"], groove
            assert all(27 <= n.pitch <= 87 for n in rendered.tracks[0].notes), groove


# ---- the accompanied piece ---------------------------------------------------------------


def _bar_positions(score: Score, track: Track) -> list[tuple[int, int, int, int]]:
    """(bar index, onset in the bar, pitch, duration) of each note."""
    out = []
    for n in track.sorted_notes():
        bar = score.bar_at(n.start)
        out.append((bar.index, n.start - bar.start, n.pitch, n.duration))
    return out


def test_the_melody_comes_back_note_for_note(rendered):
    piece, source = rendered.piece, rendered.source
    melody = piece.tracks[0]
    assert melody.role == "melody" and piece.tracks[1].role == "drums"
    assert _bar_positions(piece, melody) == _bar_positions(source, source.tracks[0])
    assert piece.time_signatures == source.time_signatures and piece.keys == source.keys
    assert piece.length == source.length and len(piece.tracks) <= 5
    assert {f.track for f in piece.fermatas} <= {None, 0} and piece.fermatas


def test_bars_line_up_with_the_accompaniment(rendered):
    _assert_bars_line_up(rendered)


def test_two_four_bars_take_halves_of_a_four_four_groove(two_four):
    assert two_four.progression.meter == (2, 4) and list(two_four.progression) == [
        ["C"],
        ["C"],
        ["F"],
        ["G7"],
        ["C"],
    ]
    source = mma_source(two_four.progression, "8Beat", 100)
    assert "Truncate 1 Side=2" in source and "Truncate 2 Side=3" in source and "Truncate 2 Side=1" in source
    assert [ts.numerator for ts in two_four.piece.time_signatures] == [2, 2]
    assert _bar_positions(two_four.piece, two_four.piece.tracks[0]) == _bar_positions(
        two_four.source, two_four.source.tracks[0]
    )
    _assert_bars_line_up(two_four)


def _assert_bars_line_up(rendered: Rendered) -> None:
    """Every bar of the melody has accompaniment, nothing plays before or after the piece, and
    the chords track plays each bar's own first chord root (a bar's shift would show)."""
    piece = rendered.piece
    accompaniment = piece.tracks[1:]
    onsets = [n.start for t in accompaniment for n in t.notes]
    assert min(onsets) >= 0 and max(onsets) < piece.length
    bars = piece.bars()
    assert len(bars) == len(rendered.progression)
    chords = next(t for t in accompaniment if t.role == "chords")
    for bar, names in zip(bars, rendered.progression, strict=True):
        assert any(bar.start <= s < bar.end for s in onsets), f"bar {bar.number} is silent"
        played = {n.pitch % 12 for n in chords.notes if bar.start <= n.start < bar.end}
        if played:
            assert _root_pitch_class(names[0]) in played, (bar.number, names, played)


# ---- the training set --------------------------------------------------------------------


def test_build_accompanied_set_writes_readable_midi(tmp_path, caplog):
    sources = [(name, Path(corpus.getWork(name))) for name in PIECES]
    sources.append(("broken/piece", tmp_path / "missing.mxl"))
    with caplog.at_level(logging.WARNING):
        written = build_accompanied_set(tmp_path / "out", sources, seed=5, grooves_per_piece=2)
    assert len(written) == 4 and "broken/piece" in caplog.text
    names = [accompanied_name(p, tmp_path / "out") for p in written]
    assert [n.split("--")[0] for n in names] == ["bach/bwv66.6"] * 2 + ["bach/bwv269"] * 2
    assert all(n.split("--")[1] in GROOVES[4 if "66.6" in n else 3] for n in names)
    for path in written:
        score = read_midi(path)
        assert [t.role for t in score.tracks][:3] == ["melody", "drums", "bassline"]
        assert score.tracks[1].is_drum and score.time_signatures[0].numerator in (3, 4)
    again = build_accompanied_set(tmp_path / "again", sources[:1], seed=5, grooves_per_piece=2)
    assert [p.name for p in again] == [p.name for p in written[:2]]  # seeded per piece


def test_default_sources_are_chorales_and_lead_sheets_with_stable_names():
    sources = default_sources()
    names = [name for name, _ in sources]
    assert len(names) == len(set(names)) > 300
    assert "bach/bwv66.6" in names and "leadSheet/fosterBrownHair" in names
    assert all(path.exists() for _, path in sources[:5])
    assert default_sources(limit=3) == sources[:3]
