"""Limits on what a score can make the server allocate, checked wherever a score comes in,
and track indices that are integers, not booleans."""

import json
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from scorehost.core.constraints import Constraint
from scorehost.core.errors import LimitExceeded, ScoreReadError
from scorehost.core.requests import EditRequest, Region, check_request, parse_request
from scorehost.core.score import (
    MAX_BARS,
    MAX_CONTROLS,
    MAX_EVENTS,
    MAX_TICKS,
    MAX_TRACKS,
    Control,
    Marker,
    Note,
    Score,
    Tempo,
    TimeSignature,
    Track,
    bar_count,
)
from scorehost.core.scorejson import score_from_json


def _score(**fields):
    return {"length": 1920, "tracks": [{"notes": [{"start": 0, "duration": 480, "pitch": 60}]}]} | fields


@pytest.mark.parametrize(
    ("fields", "field", "limit"),
    [
        ({"length": 1_000_000_000}, "length", f"{MAX_TICKS:,}"),
        ({"length": 10**12}, "length", f"{MAX_TICKS:,}"),
        (
            {"tracks": [{"notes": [{"start": 100_000 * 480, "duration": 480, "pitch": 60}]}]},
            "tracks[0].notes[0]",
            f"{MAX_TICKS:,}",
        ),
        (
            {"tracks": [{"notes": [{"start": 0, "duration": 2**40, "pitch": 60}]}]},
            "tracks[0].notes[0]",
            f"{MAX_TICKS:,}",
        ),
        ({"tracks": [{}] * (MAX_TRACKS + 1)}, "tracks", str(MAX_TRACKS)),
        ({"tempos": [{"tick": 0, "bpm": 1e-300}]}, "tempos[0].bpm", "1 to 1000"),
        ({"tempos": [{"tick": 0, "bpm": 0.5}]}, "tempos[0].bpm", "1 to 1000"),
        (
            {"time_signatures": [{"tick": 0, "numerator": 4}, {"tick": MAX_TICKS + 1, "numerator": 3}]},
            "time_signatures[1].tick",
            f"{MAX_TICKS:,}",
        ),
        ({"markers": [{"tick": 10**9, "text": "far"}]}, "markers[0].tick", f"{MAX_TICKS:,}"),
        (
            {"length": MAX_TICKS, "time_signatures": [{"tick": 0, "numerator": 1, "denominator": 64}]},
            "time_signatures",
            f"{MAX_BARS:,}",
        ),
        ({"bars": [[i * 1920, 1920, 4, 4] for i in range(MAX_BARS + 1)]}, "bars", f"{MAX_BARS:,}"),
    ],
)
def test_score_json_over_a_limit_is_refused_naming_it(fields, field, limit):
    with pytest.raises(LimitExceeded) as refused:
        score_from_json(_score(**fields))
    assert str(refused.value).startswith(f"{field}: ") and limit in str(refused.value)
    assert refused.value.code == "too_large"


def test_the_limits_hold_for_scores_made_in_code_and_in_requests():
    with pytest.raises(LimitExceeded, match="length"):
        Score(length=MAX_TICKS + 1)
    with pytest.raises(LimitExceeded, match="tempos"):
        Score(length=480, tempos=[Tempo(tick=0, bpm=1e-300)])
    with pytest.raises(LimitExceeded, match="markers"):
        Score(length=480, markers=[Marker(tick=t, text="x") for t in range(MAX_EVENTS + 1)])
    with pytest.raises(LimitExceeded, match="length"):
        parse_request(
            {"model": "m", "score": _score(length=10**9), "regions": [{"track": 0, "start": 0, "end": 1}]}
        )
    # a score changed without validation is caught when the request is checked
    score = Score(length=1920, tracks=[Track(notes=[Note(start=0, duration=480, pitch=60)])])
    request = EditRequest(model="m", score=score, regions=[Region(track=0, start=0, end=480)])
    check_request(request)
    grown = request.model_copy(update={"score": score.model_copy(update={"length": 10**9})})
    with pytest.raises(LimitExceeded, match="length"):
        check_request(grown)


def test_up_to_the_limits_a_score_is_accepted():
    notes = [Note(start=MAX_TICKS - 480, duration=480, pitch=60)]
    score = Score(length=MAX_TICKS, tracks=[Track(notes=notes)] * MAX_TRACKS, tempos=[Tempo(tick=0, bpm=1)])
    assert bar_count(score) == len(score.bars()) == MAX_BARS


@pytest.mark.parametrize(
    "signatures",
    [
        [(0, 4, 4)],
        [(0, 4, 4), (480, 4, 4)],
        [(0, 3, 4), (2880, 6, 8), (3000, 1, 64)],
        [(0, 4, 4), (9000, 2, 2)],
    ],
)
def test_bars_are_counted_as_they_are_made(signatures):
    for length in (0, 1, 479, 1920, 5000, 8000):
        score = Score(
            length=length,
            time_signatures=[TimeSignature(tick=t, numerator=n, denominator=d) for t, n, d in signatures],
        )
        assert bar_count(score) == len(score.bars())


@pytest.mark.parametrize("value", [True, False, 1.0, "1"])
def test_a_track_index_is_an_integer(value):
    with pytest.raises(ValidationError):
        Region.model_validate({"track": value, "start": 0, "end": 480})
    with pytest.raises(ValidationError):
        Region.model_validate_json(json.dumps({"track": value, "start": 0, "end": 480}))
    constraints = TypeAdapter(Constraint)
    for data in (
        {"type": "pitch_range", "track": value, "low": 40, "high": 60},
        {"type": "polyphony", "track": value, "max_notes": 1},
        {"type": "note_density", "track": value, "notes_per_bar": 4},
        {"type": "instrument", "track": value, "program": 1},
        {"type": "theme", "start": 0, "end": 480, "track": value},
        {"type": "keep_rhythm", "tracks": [value]},
        {"type": "pitch_classes", "pitch_classes": [0], "tracks": [value]},
        {"type": "pinned_notes", "notes": [{"track": value, "start": 0, "pitch": 60}]},
    ):
        with pytest.raises(ValidationError):
            constraints.validate_python(data)
    with pytest.raises(ScoreReadError, match="fermatas.0.track"):
        score_from_json(_score(fermatas=[{"tick": 0, "track": value}]))
    assert Region.model_validate({"track": 1, "start": 0, "end": 480}).track == 1


def test_too_many_controller_events_are_refused_naming_the_limit():
    """MAX_CONTROLS counts every track's controls together: two tracks at half the limit and
    one more is refused, in code and in score-JSON, with one error naming the limit."""
    half = MAX_CONTROLS // 2
    bends = [{"tick": t, "kind": "pitchwheel", "value": t % 8192} for t in range(half)]
    tracks = [{"controls": bends}, {"controls": [*bends, {"tick": 0, "kind": "aftertouch", "value": 1}]}]
    with pytest.raises(LimitExceeded) as refused:
        score_from_json(_score(tracks=tracks))
    assert str(refused.value) == (
        f"tracks: the score has {MAX_CONTROLS + 1:,} controller events; the limit is {MAX_CONTROLS:,}"
    )
    assert refused.value.code == "too_large"
    assert score_from_json(_score(tracks=[{"controls": bends}] * 2)).control_count() == MAX_CONTROLS
    documented = (Path(__file__).parents[2] / "docs" / "score-json.md").read_text()
    assert f"{MAX_CONTROLS:,} controller events" in documented and f"{MAX_EVENTS:,} events" in documented
    with pytest.raises(LimitExceeded, match="controls"):
        Score(length=480, tracks=[Track(controls=[Control(tick=10**9, kind="aftertouch", value=0)])])
