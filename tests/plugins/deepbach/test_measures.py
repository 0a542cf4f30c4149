"""Harmony measures (measures.py) on hand-made four-voice scores and on Bach."""

from __future__ import annotations

from scorehost.core.score import Fermata, KeySignature, Note, Score, TimeSignature, Track
from scorehost.plugins.deepbach.encoding import beat_starts
from scorehost.plugins.deepbach.measures import measure, rhythm_faults

Q = 480


def _satb(*chords: tuple[int, int, int, int], key: KeySignature | None = None, fermatas=()) -> Score:
    """Four voices of quarter-note chords (soprano first)."""
    tracks = [
        Track(notes=[Note(start=i * Q, duration=Q, pitch=c[v]) for i, c in enumerate(chords)])
        for v in range(4)
    ]
    return Score(
        length=len(chords) * Q,
        tracks=tracks,
        keys=[key or KeySignature(tick=0, tonic=0)],
        fermatas=[Fermata(tick=t * Q) for t in fermatas],
    )


C, G7, F, AM, CLUSTER = (
    (72, 67, 64, 48),
    (71, 65, 62, 43),
    (72, 69, 65, 53),
    (73, 69, 64, 57),
    (72, 71, 62, 50),
)


def test_beats_neither_triad_nor_seventh_are_counted_and_chords_are_not():
    counts = measure(_satb(C, G7, CLUSTER, (72, 64, 60, 48), (67, 60, 55, 48)), [0, 1, 2, 3])
    assert (
        counts["beats"] == 5 and counts["non_chord_beats"] == 1
    )  # the cluster; C-E and C-G are incomplete chords


def test_a_final_authentic_cadence_on_the_tonic_in_root_position():
    counts = measure(_satb(F, G7, C, fermatas=[2]), [0, 1, 2, 3])
    assert counts["final_tonic_bass"] == counts["final_cadence"] == 1
    assert counts["fermatas"] == counts["fermata_root_position"] == counts["fermata_tonic_bass"] == 1
    inverted = measure(_satb(F, G7, (72, 67, 60, 52)), [0, 1, 2, 3])  # C major over E
    assert inverted["final_tonic_bass"] == inverted["final_cadence"] == 0
    plagal_in_a = measure(
        _satb((74, 69, 65, 50), AM, key=KeySignature(tick=0, tonic=9, mode="minor")), [0, 1, 2, 3]
    )
    assert plagal_in_a["final_cadence"] == 1  # IV-I, ending on a major tonic chord


def test_cross_relations_in_one_chord_and_between_two():
    d_minor = KeySignature.from_sharps(0, -1, "minor")
    # alto B natural over bass B flat (in one chord), then soprano C# after the tenor's C
    counts = measure(_satb((74, 71, 62, 46), (74, 69, 60, 45), (73, 69, 64, 45), key=d_minor), [0, 1, 2, 3])
    assert counts["cross_relations"] == 2
    # a voice that makes the inflection itself is no cross-relation
    assert (
        measure(_satb((74, 70, 62, 50), (74, 71, 62, 43), key=d_minor), [0, 1, 2, 3])["cross_relations"] == 0
    )


def test_inner_voice_rhythm_faults():
    score = Score(length=8 * Q)
    notes = [
        Note(start=0, duration=360, pitch=60),  # a dotted eighth: fine
        Note(start=360, duration=120, pitch=62),  # a sixteenth: fine
        Note(start=480, duration=600, pitch=64),  # a quarter tied to a sixteenth
        Note(start=1080, duration=360, pitch=65),  # struck on an off-beat sixteenth, held
        Note(start=1440, duration=360, pitch=67),  # then a sixteenth rest
        Note(start=1920, duration=60, pitch=69),  # a 32nd
    ]
    assert rhythm_faults(score, notes) == 4


def test_beats_of_compound_meters_and_pickups():
    six_eight = Score(length=2 * 1440, time_signatures=[TimeSignature(tick=0, numerator=6, denominator=8)])
    assert beat_starts(six_eight) == [0, 720, 1440, 2160]
    pickup = Score(length=480 + 1920, time_signatures=[TimeSignature(tick=0, numerator=4, denominator=4)])
    pickup = pickup.model_copy(
        update={
            "time_signatures": [
                TimeSignature(tick=0, numerator=1, denominator=4),
                TimeSignature(tick=480, numerator=4, denominator=4),
            ]
        }
    )
    assert beat_starts(pickup) == [0, 480, 960, 1440, 1920]


def test_bach_cadences_on_the_tonic_with_few_dissonant_beats(chorale):
    score = chorale("bach/bwv66.6")
    tracks = [
        next(i for i, t in enumerate(score.tracks) if t.role == r)
        for r in ("soprano", "alto", "tenor", "bass")
    ]
    counts = measure(score, tracks)
    assert counts["final_tonic_bass"] == 1 and counts["fermatas"] >= 4
    assert counts["non_chord_beats"] <= 0.15 * counts["beats"] and counts["rhythm_faults"] == 0
