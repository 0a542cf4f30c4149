"""The example plugin's own tests: what a plugin author writes, with scorehost.core.testing.

check_model runs the model the way the engine does and fails if it changes anything outside
its regions, breaks a constraint or returns the wrong number of variations; the tests then
check the music it wrote.
"""

import pytest
import scorehost_thirds
from music21 import corpus

from scorehost.core import (
    EditRequest,
    KeepRhythm,
    KeySignature,
    Note,
    PitchClasses,
    PitchRange,
    Region,
    RequestError,
    Score,
    Track,
    read_score,
)
from scorehost.core.testing import check_model, plugin_models


@pytest.fixture
def melody() -> Score:
    """Two bars of 4/4 in G major: a melody on track 0, and an empty track 1 to write."""
    pitches = [67, 71, 74, 72, 71, 69, 67, 66]  # G B D C B A G F#
    notes = [Note(start=i * 480, duration=480, pitch=p) for i, p in enumerate(pitches)]
    return Score(
        length=3840,
        keys=[KeySignature(tick=0, tonic=7, mode="major")],
        tracks=[Track(name="Melody", role="melody", notes=notes), Track(name="Harmony")],
    )


def test_registers_its_model():
    assert list(plugin_models(scorehost_thirds)) == ["thirds-below"]


def test_writes_a_new_track_a_third_below_in_the_key(melody):
    request = EditRequest(model="thirds-below", score=melody, regions=[Region(track=1, start=0, end=3840)])
    [variation] = check_model(scorehost_thirds.ThirdsBelow(), request)
    assert [n.pitch for n in variation.score.tracks[1].notes] == [64, 67, 71, 69, 67, 66, 64, 62]


def test_keeps_what_lies_outside_the_region_and_obeys_a_range(melody):
    melody.tracks[1].notes = [Note(start=0, duration=1920, pitch=55)]  # bar 1: a whole note G
    request = EditRequest(
        model="thirds-below",
        score=melody,
        regions=[Region(track=1, start=1920, end=3840)],  # bar 2 only
        constraints=[PitchRange(track=1, low=48, high=60)],
    )
    [variation] = check_model(scorehost_thirds.ThirdsBelow(), request, {"steps": 5})  # sixths below
    harmony = variation.score.tracks[1].notes
    # B A G F# a sixth below are D C B A, each moved by octaves into C3..C4
    assert [(n.start, n.pitch) for n in harmony] == [(0, 55), (1920, 50), (2400, 60), (2880, 59), (3360, 57)]


def test_harmonizes_the_alto_of_a_chorale_in_range_and_key():
    chorale = read_score(corpus.getWork("bach/bwv66.6"))  # F# minor
    bars = chorale.bars()
    request = EditRequest(
        model="thirds-below",
        score=chorale,
        regions=[Region(track=1, start=bars[1].start, end=bars[4].end)],
        constraints=[PitchRange(track=1, low=57, high=72), PitchClasses.from_key(6, "minor")],
    )
    variations = check_model(
        scorehost_thirds.ThirdsBelow(), request, {"source": "soprano", "variations": 2, "seed": 3}
    )
    assert [v.seed for v in variations] == [3, 4]
    soprano = {n.start: n.pitch for n in chorale.tracks[0].notes}
    written = [n for n in variations[0].score.tracks[1].notes if bars[1].start <= n.start < bars[4].end]
    assert written and all((soprano[n.start] - n.pitch) % 12 in (3, 4) for n in written)


def test_refuses_to_follow_itself(melody):
    request = EditRequest(model="thirds-below", score=melody, regions=[Region(track=0, start=0, end=480)])
    with pytest.raises(RequestError, match="cannot follow itself"):
        check_model(scorehost_thirds.ThirdsBelow(), request, {"source": 0})


def test_refuses_to_follow_a_drum_track(melody):
    melody.tracks[0].is_drum = True
    request = EditRequest(model="thirds-below", score=melody, regions=[Region(track=1, start=0, end=480)])
    with pytest.raises(RequestError, match="no key to move in"):
        check_model(scorehost_thirds.ThirdsBelow(), request)


def test_refuses_constraints_it_does_not_honour(melody):
    request = EditRequest(
        model="thirds-below",
        score=melody,
        regions=[Region(track=1, start=0, end=480)],
        constraints=[KeepRhythm()],
    )
    with pytest.raises(RequestError, match="does not honour keep_rhythm"):
        check_model(scorehost_thirds.ThirdsBelow(), request)


def test_steps_below_walks_the_scale():
    c_major = frozenset({0, 2, 4, 5, 7, 9, 11})
    assert scorehost_thirds._steps_below(64, 2, c_major) == 60  # E -> C
    assert scorehost_thirds._steps_below(60, 2, c_major) == 57  # C -> A
    assert scorehost_thirds._steps_below(61, 2, c_major) == 57  # C# counts from C
    assert scorehost_thirds._steps_below(67, 7, c_major) == 55  # an octave
