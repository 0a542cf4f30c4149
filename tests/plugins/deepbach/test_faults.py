"""Voice-leading faults judged by music21, on hand-made four-voice scores and on Bach."""

from __future__ import annotations

from scorehost.core.score import KeySignature, Note, Score, Track
from scorehost.plugins.deepbach.evaluate import per_100_beats
from scorehost.plugins.deepbach.faults import count_faults

RANGES = [(60, 81), (53, 74), (48, 69), (36, 64)]
Q = 480


def _satb(*voices: list[int], sharps: int = 0) -> Score:
    """Four voices of quarter notes; 0 holds the previous note one more beat."""
    tracks = []
    for pitches in voices:
        notes: list[Note] = []
        for beat, pitch in enumerate(pitches):
            if pitch == 0:
                notes[-1] = notes[-1].model_copy(update={"duration": notes[-1].duration + Q})
            else:
                notes.append(Note(start=beat * Q, duration=Q, pitch=pitch))
        tracks.append(Track(notes=notes))
    return Score(length=len(voices[0]) * Q, tracks=tracks, keys=[KeySignature.from_sharps(0, sharps)])


def _count(score: Score) -> dict:
    return count_faults(score, [0, 1, 2, 3], RANGES)


def test_every_voice_up_a_tone_makes_fifths_and_octaves():
    counts = _count(_satb([72, 74], [65, 67], [60, 62], [48, 50]))
    assert counts["parallel_fifths"] == 1  # S-A
    assert counts["parallel_octaves"] == 3  # S-T, S-B, T-B


def test_contrary_octaves_count_and_held_or_oblique_motion_does_not():
    counts = _count(_satb([72, 74], [67, 0], [64, 0], [48, 38]))
    assert counts["parallel_octaves"] == 1  # S-B: C-C to D-D in contrary motion
    counts = _count(_satb([72, 0, 71], [67, 0, 0], [60, 0, 62], [48, 0, 43]))
    assert counts["parallel_octaves"] == counts["parallel_fifths"] == 0


def test_fifths_between_black_keys_are_spelled_as_fifths():
    # G#-D# to F#-C#: music21 spells MIDI 75 E-flat unless told the key has sharps
    counts = _count(_satb([75, 73], [68, 66], [59, 0], [52, 0], sharps=4))
    assert counts["parallel_fifths"] == 1


def test_crossings_spacing_and_range():
    counts = _count(_satb([64], [67], [50], [40]))  # alto above soprano; alto-tenor a 17th apart
    assert counts["crossings"] == 1 and counts["spacing"] == 1 and counts["out_of_range"] == 0
    assert _count(_satb([84], [67], [60], [48]))["out_of_range"] == 1


def test_bach_has_few_faults(chorale):
    score = chorale("bach/bwv66.6")
    tracks = [
        next(i for i, t in enumerate(score.tracks) if t.role == r)
        for r in ("soprano", "alto", "tenor", "bass")
    ]
    counts = count_faults(score, tracks, RANGES)
    assert counts["parallel_fifths"] + counts["parallel_octaves"] <= 1
    assert counts["out_of_range"] == 0 and counts["crossings"] <= 2
    rates = per_100_beats({"model": counts, "bach": counts, "beats": 36.0})
    assert rates["model"] == rates["bach"]


def test_fifths_in_a_flat_key_are_spelled_as_fifths():
    # F major: B-flat to C under F to G; a natural F must not become E-sharp
    counts = _count(_satb([77, 79], [70, 72], [65, 0], [53, 0], sharps=-1))
    assert counts["parallel_fifths"] == 1
