"""Spelling: kept notes come back spelled as the input spelled them, new ones for key and harmony."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from music21 import converter, corpus

from scorehost.core.engine import Engine
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import MODE_SCALES, KeySignature, Note, Score, Track
from scorehost.core.scoreio import read_score, write_score
from scorehost.core.scorejson import score_from_json, score_to_json
from scorehost.core.spelling import key_spelling, spell_written, spelling_of

# Chorales whose chromatic notes Bach spells otherwise than the key alone would (an E sharp as
# the leading tone to F sharp minor in D major, a B natural in E flat major, D flats in G minor)
CHORALES = ["bach/bwv66.6", "bach/bwv157.5", "bach/bwv140.7", "bach/bwv176.6", "bach/bwv174.5"]
# Essen tunes (music21's corpus, altdeu10) with B flats and E flats in a G major signature
ESSEN = [27, 23, 38]


def _names(path: Path) -> dict[tuple[str, float, int], str]:
    """Every note of a file as music21 reads it: (part, onset, MIDI) -> name, tie ends left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = converter.parse(str(path))
    found = {}
    for index, part in enumerate(parsed.parts):
        for n in part.flatten().notes:
            for p in getattr(n, "pitches", ()):
                if n.tie is None or n.tie.type == "start":
                    found[(str(index), float(n.offset), p.midi)] = p.name
    return found


def _essen(number: int, folder: Path) -> Path:
    path = folder / f"essen-{number}.musicxml"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus.parse("essenFolksong/altdeu10", number=number).write("musicxml", fp=str(path))
    return path


def _edit(host, score: Score, regions: list[Region]) -> Score:
    engine = Engine(host, device="cpu")
    try:
        return engine.run(EditRequest(model="octave", score=score, regions=regions)).variations[0].score
    finally:
        engine.shutdown()


@pytest.mark.parametrize("source", CHORALES + ESSEN)
def test_every_kept_note_comes_back_spelled_as_the_input_spelled_it(octave_host, tmp_path, source):
    path = _essen(source, tmp_path) if isinstance(source, int) else Path(corpus.getWork(source))
    score = read_score(path)
    bars = score.bars()
    if len(score.tracks) == 1:  # a tune: write a new bass under bars 2-3
        score = score.model_copy(update={"tracks": [*score.tracks, Track(name="Bass", role="bass")]})
    track = len(score.tracks) - 1
    start, end = bars[2].start, bars[3].end
    out = write_score(
        _edit(octave_host, score, [Region(track=track, start=start, end=end)]), tmp_path / "out.musicxml"
    )
    before, after = _names(path), _names(out)
    kept = {k: v for k, v in before.items() if k[0] != str(track) or not start <= k[1] * 480 < end}
    assert kept and {k: after.get(k) for k in kept} == kept
    if isinstance(source, int):  # what the issue saw: these came back as A sharp and D sharp
        assert {"B-", "E-"} & set(kept.values())


def _strip_and_respell(score: Score, track: int) -> Score:
    notes = [n.model_copy(update={"spelling": None}) for n in score.tracks[track].notes]
    tracks = [t.model_copy(update={"notes": notes}) if i == track else t for i, t in enumerate(score.tracks)]
    return spell_written(score.model_copy(update={"tracks": tracks}), {track: [(0, score.length)]})


def test_written_notes_are_spelled_for_key_and_harmony_as_bach_spells_them():
    """Each voice of 40 chorales, its spelling forgotten and worked out again: the chromatic
    notes come back as Bach spelled them, more often than the key alone would spell them."""
    paths = sorted(p for p in corpus.getComposer("bach") if p.suffix == ".mxl")[:40]
    chromatic = same = by_key = 0
    for path in paths:
        score = read_score(path)
        for track in range(len(score.tracks)):
            respelled = _strip_and_respell(score, track)
            for bach, ours in zip(score.tracks[track].notes, respelled.tracks[track].notes, strict=True):
                key = score.key_at(bach.start)
                if (bach.pitch - key.tonic) % 12 in MODE_SCALES[key.mode]:
                    assert spelling_of(ours, respelled) == spelling_of(bach, score)  # scale notes
                    continue
                chromatic += 1
                same += spelling_of(ours, respelled) == spelling_of(bach, score)
                by_key += key_spelling(bach.pitch, key) == spelling_of(bach, score)
    assert chromatic > 300
    assert same / chromatic >= 0.97 and same > by_key


def test_harmony_decides_between_sharp_and_flat():
    """In C major, the note between G and A is G sharp in an E major chord and A flat in
    F minor (where G sharp would make an augmented second and an augmented fifth)."""
    c_major = KeySignature(tick=0, tonic=0)
    for chord, expected in (((40, 47), "G#"), ((41, 48), "Ab")):
        accompaniment = [Note(start=0, duration=480, pitch=p) for p in chord]
        melody = [Note(start=0, duration=480, pitch=68)]
        score = Score(length=480, keys=[c_major], tracks=[Track(notes=melody), Track(notes=accompaniment)])
        respelled = spell_written(score, {0: [(0, 480)]})
        assert spelling_of(respelled.tracks[0].notes[0], respelled) == expected


def test_midi_input_is_spelled_for_its_key(tmp_path):
    """A MIDI file has no spelling: its notes are written as the key spells them, E sharp
    included as the leading tone of F sharp minor."""
    midi = write_score(read_score(corpus_path_of("bach/bwv66.6")), tmp_path / "chorale.mid")
    out = write_score(read_score(midi), tmp_path / "chorale.musicxml")
    names = set(_names(out).values())
    assert "E#" in names and "F" not in names


def corpus_path_of(name: str) -> Path:
    return Path(corpus.getWork(name))


def test_a_spelling_must_spell_the_pitch_and_travels_in_score_json():
    with pytest.raises(ValueError, match="does not spell"):
        Note(start=0, duration=480, pitch=66, spelling="E#")
    score = Score(
        length=480,
        tracks=[
            Track(
                notes=[
                    Note(start=0, duration=480, pitch=65, spelling="E#"),
                    Note(start=0, duration=480, pitch=61),
                ]
            )
        ],
    )
    text = score_to_json(score)
    assert text.count('"spelling"') == 1  # a note without its own spelling leaves it out
    assert score_from_json(text) == score
