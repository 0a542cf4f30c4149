"""The merge keeps context note for note; constraint checks catch what a model broke."""

from scorehost.core.regions import constraint_violations, merge_result, spans_by_track
from scorehost.core.requests import (
    EditRequest,
    Instrument,
    KeepRhythm,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Region,
)
from scorehost.core.score import Note, Score, Track


def _score(*tracks):
    return Score(
        length=3840,
        tracks=[Track(notes=[Note(start=s, duration=d, pitch=p) for s, d, p in t]) for t in tracks],
    )


def test_spans_merge_when_they_touch():
    regions = [
        Region(track=0, start=960, end=1920),
        Region(track=0, start=0, end=960),
        Region(track=1, start=0, end=10),
    ]
    assert spans_by_track(regions) == {0: [(0, 1920)], 1: [(0, 10)]}


def test_merge_takes_only_owned_notes_and_cuts_them_at_the_span_end():
    original = _score([(0, 960, 60), (960, 960, 62), (1920, 960, 64)], [(0, 3840, 48)])
    generated = _score([(0, 960, 70), (960, 1920, 71), (2880, 960, 72)], [(0, 1920, 40)])
    merged = merge_result(original, generated, [Region(track=0, start=960, end=1920)])
    assert [(n.start, n.duration, n.pitch) for n in merged.tracks[0].notes] == [
        (0, 960, 60),
        (960, 960, 71),
        (1920, 960, 64),
    ]
    assert merged.tracks[1] == original.tracks[1]


def test_a_note_held_into_the_region_stays_as_context():
    original = _score([(0, 1920, 60)])
    merged = merge_result(original, _score([]), [Region(track=0, start=960, end=1920)])
    assert merged.tracks[0].notes == original.tracks[0].notes


def test_violations_are_reported():
    original = _score([(0, 480, 60), (480, 480, 62)])
    result = _score([(0, 480, 61), (480, 240, 90)])
    request = EditRequest(
        model="m",
        score=original,
        regions=[Region(track=0, start=0, end=960)],
        constraints=[
            PinnedNotes(notes=[PinnedNote(track=0, start=0, pitch=60)]),
            PitchRange(track=0, low=50, high=80),
            PitchClasses(pitch_classes=[0, 2, 4, 5, 7, 9, 11]),
            KeepRhythm(),
            Instrument(track=0, program=40),
        ],
    )
    problems = constraint_violations(request, result)
    assert len(problems) == 5
    assert "pinned note 60 at tick 0" in problems[0]
    assert "outside 50..80: [90]" in problems[1]
    assert "allowed pitch classes: [61, 90]" in problems[2]
    assert "rhythm" in problems[3] and "program 40" in problems[4]
    fine = _score([(0, 480, 60), (480, 480, 64)])
    fine.tracks[0].program = 40
    assert constraint_violations(request, fine) == []


def test_polyphony_is_checked_on_the_written_notes():
    from scorehost.core.requests import Polyphony

    score = _score([(0, 960, 60), (480, 960, 64), (1920, 480, 67), (2400, 480, 69)])
    regions = [Region(track=0, start=0, end=3840)]
    two = EditRequest(model="m", score=score, regions=regions, constraints=[Polyphony(track=0, max_notes=2)])
    one = EditRequest(model="m", score=score, regions=regions, constraints=[Polyphony(track=0, max_notes=1)])
    assert constraint_violations(two, score) == []
    assert constraint_violations(one, score) == ["track 0 has 2 notes sounding at once (limit 1)"]
