"""Request validation names the field and the problem."""

import pytest

from scorehost.core.errors import LimitExceeded, RequestError
from scorehost.core.requests import (
    EditRequest,
    Options,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Region,
    Theme,
    check_request,
    parse_request,
)


def _check(score, regions, constraints=()):
    check_request(EditRequest(model="m", score=score, regions=regions, constraints=list(constraints)))


def test_a_valid_request_passes(chorale):
    _check(chorale, [Region(track=1, start=480, end=2400)], [PitchRange(track=1, low=55, high=74)])


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"regions": [{"track": 0, "start": 960, "end": 480}]}, "end (480) must be after start (960)"),
        ({"regions": [{"track": 0, "start": 480, "end": 480}]}, "end (480) must be after start (480)"),
        ({"regions": []}, "regions: List should have at least 1 item"),
        ({"regions": [{"track": -1, "start": 0, "end": 480}]}, "regions.0.track"),
        ({"constraints": [{"type": "pitch_range", "track": 0, "low": 0, "high": 128}]}, "high"),
        (
            {"constraints": [{"type": "pitch_range", "track": 0, "low": 70, "high": 60}]},
            "high (60) is below low (70)",
        ),
        ({"constraints": [{"type": "telepathy"}]}, "does not match any of the expected tags"),
        ({"constraints": [{"type": "pitch_classes", "pitch_classes": [12]}]}, "pitch_classes.0"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_malformed_requests_name_the_field(chorale, data, fragment):
    base = {"model": "m", "score": chorale.model_dump(), "regions": [{"track": 0, "start": 0, "end": 480}]}
    with pytest.raises(RequestError) as info:
        parse_request(base | data)
    assert fragment in str(info.value)


def test_references_are_checked_against_the_score(chorale):
    with pytest.raises(RequestError, match=r"regions\[0\]\.track: track 7 does not exist"):
        _check(chorale, [Region(track=7, start=0, end=480)])
    with pytest.raises(RequestError, match=r"regions\[1\]: ends at tick 20000, past the end"):
        _check(chorale, [Region(track=0, start=0, end=480), Region(track=1, start=0, end=20000)])
    with pytest.raises(RequestError, match=r"constraints\[0\]\.track: track 9"):
        _check(chorale, [Region(track=0, start=0, end=480)], [PitchRange(track=9, low=1, high=2)])
    with pytest.raises(RequestError, match=r"constraints\[0\]\.tracks: track 4"):
        _check(chorale, [Region(track=0, start=0, end=480)], [PitchClasses(pitch_classes=[0], tracks=[4])])
    with pytest.raises(RequestError, match="lies outside every region"):
        pin = PinnedNotes(notes=[PinnedNote(track=1, start=4800, pitch=60)])
        _check(chorale, [Region(track=1, start=0, end=480)], [pin])
    with pytest.raises(RequestError, match="is not inside the score"):
        _check(chorale, [Region(track=1, start=0, end=480)], [Theme(start=0, end=10**6)])


def test_note_limit(chorale):
    with pytest.raises(LimitExceeded, match="limit is 10"):
        check_request(
            EditRequest(model="m", score=chorale, regions=[Region(track=0, start=0, end=480)]), max_notes=10
        )


def test_seeds_follow_the_seed_and_are_random_without_one():
    assert Options(seed=10, variations=3).seeds() == [10, 11, 12]
    assert Options(seed=2**32 - 1, variations=2).seeds() == [2**32 - 1, 0]
    assert len(set(Options(variations=4).seeds())) == 4


def test_pitch_classes_from_key():
    assert PitchClasses.from_key(2, "minor").pitch_classes == [0, 2, 4, 5, 7, 9, 10]
