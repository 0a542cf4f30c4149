"""The short forms of regions, constraints and options."""

import pytest

from scorehost.core.cliparse import add_named_tracks, parse_constraint, parse_option, parse_region
from scorehost.core.errors import RequestError
from scorehost.core.score import Score, Track


def test_regions_by_bars_ticks_and_names(chorale):
    bars = chorale.bars()
    assert [(r.track, r.start, r.end) for r in parse_region(chorale, "alto,bass:2-3")] == [
        (1, bars[2].start, bars[3].end),
        (3, bars[2].start, bars[3].end),
    ]
    assert parse_region(chorale, "0:0")[0].end == 480  # the pickup is bar 0
    assert (parse_region(chorale, "2:t960-1920")[0].start, parse_region(chorale, "2")[0].end) == (
        960,
        chorale.length,
    )


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("alto:x", "cannot read the span"),
        ("alto:12", r"bar 12 is not in the score \(bars 0\.\.9\)"),
        ("alto:4-2", "comes before"),
        ("viola", "no track called 'viola'"),
        ("alto:t5-5", "empty"),
    ],
)
def test_bad_regions(chorale, spec, fragment):
    with pytest.raises(RequestError, match=fragment):
        parse_region(chorale, spec)


def test_constraints_short_and_json(chorale):
    assert parse_constraint(chorale, "range:alto:G3-D5").model_dump() == {
        "type": "pitch_range",
        "track": 1,
        "low": 55,
        "high": 74,
    }
    assert parse_constraint(chorale, "key:F#-minor").pitch_classes == [1, 2, 4, 6, 8, 9, 11]
    assert parse_constraint(chorale, "key:Bb").pitch_classes == [0, 2, 3, 5, 7, 9, 10]
    assert parse_constraint(chorale, "keep-rhythm:alto,tenor").tracks == [1, 2]
    assert parse_constraint(chorale, "pin:bass:t960:C3").notes[0].pitch == 48
    assert parse_constraint(chorale, "instrument:0:52").program == 52
    assert parse_constraint(chorale, "theme:1-2").start == 480
    assert parse_constraint(chorale, '{"type": "polyphony", "track": 0, "max_notes": 2}').max_notes == 2


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("bogus:1", "unknown constraint"),
        ("range:alto", "malformed"),
        ("range:alto:H9-C4", "not a pitch"),
        ("key:H-minor", "cannot read the key"),
        ("{oops", "invalid JSON"),
        ('{"type": "pitch_range"}', "track"),
    ],
)
def test_bad_constraints(chorale, spec, fragment):
    with pytest.raises(RequestError, match=fragment):
        parse_constraint(chorale, spec)


def test_options_read_json_values():
    assert parse_option("temperature=0.5") == ("temperature", 0.5)
    assert parse_option("name=alto") == ("name", "alto")
    with pytest.raises(RequestError, match="KEY=VALUE"):
        parse_option("temperature")


@pytest.mark.parametrize(
    ("pair", "fragment"),
    [
        ("temperature=NaN", "nan is not a finite number"),
        ("temperature=1e999", "inf is not a finite number"),
        ('x=[1, {"a": -Infinity}]', "-inf is not a finite number"),
        ("x=" + "[" * 33 + "]" * 33, "more than 32 deep"),
        ("x=" + "[" * 100_000 + "]" * 100_000, "more than 32 deep"),  # past json's own recursion limit
    ],
)
def test_option_values_that_are_not_finite_or_nest_too_deep_are_refused_naming_the_option(pair, fragment):
    with pytest.raises(RequestError, match=fragment) as refused:
        parse_option(pair)
    assert refused.value.field == f"--option {pair.partition('=')[0]}"
    assert parse_option("x=" + "[" * 32 + "]" * 32)[0] == "x"


def test_missing_satb_voices_are_added_and_the_melody_becomes_soprano():
    melody = Score(length=1920, tracks=[Track(name="Melody")])
    score = add_named_tracks(melody, ["alto,tenor,bass"])
    assert [(t.name, t.role) for t in score.tracks] == [
        ("Melody", "soprano"),
        ("Alto", "alto"),
        ("Tenor", "tenor"),
        ("Bass", "bass"),
    ]
    assert add_named_tracks(melody, ["viola"]) == melody


def test_role_named_tracks_are_added_as_their_kind(chorale):
    score = add_named_tracks(chorale, ["drums", "bassline"])
    drums, bass = score.tracks[-2:]
    assert (drums.name, drums.role, drums.is_drum) == ("Drums", "drums", True)
    assert (bass.role, bass.program, bass.is_drum) == ("bassline", 33, False)


def test_build_request_adds_role_tracks_and_answers_bad_specs_in_one_error(chorale):
    from scorehost.core.cliparse import build_request
    from scorehost.core.errors import RequestError

    request = build_request("mmm", chorale, ["drums:1-2"], ["density:drums:8"], {"seed": 3}, 30)
    assert request.score.tracks[-1].is_drum and request.regions[0].track == len(chorale.tracks)
    assert request.options == {"seed": 3} and request.timeout == 30
    with pytest.raises(RequestError, match="timeout: Input should be less than or equal to 3600"):
        build_request("mmm", chorale, ["1:1"], timeout=99999)
    with pytest.raises(RequestError, match="bar 999 is not in the score"):
        build_request("mmm", chorale, ["1:999"])


def test_nan_written_as_text_is_refused_by_the_options_model():
    from scorehost.core.cliparse import parse_options
    from scorehost.core.requests import Options

    class WithTemperature(Options):
        temperature: float = 1.0

    for text in ("nan", "inf", "-infinity"):  # not JSON, so read as text, which pydantic makes a float
        with pytest.raises(RequestError, match="finite number"):
            parse_options(WithTemperature, [f"temperature={text}"])
