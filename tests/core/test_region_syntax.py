"""One region syntax: the command line's short forms and HTTP's JSON regions name tracks by
number (0-based), name or role, and spans by bars as printed or by ticks, read by one parser."""

from __future__ import annotations

import httpx
import pytest
from pydantic import TypeAdapter

from scorehost.bridges.http.server import HttpBridge
from scorehost.core.cliparse import RegionRef, build_request
from scorehost.core.engine import Engine
from scorehost.core.score import Score, note_tuples
from scorehost.core.scoreio import read_score
from scorehost.core.scorejson import score_from_json
from scorehost.core.settings import Settings

from ..conftest import CHORALE, CHORALE_3_4, QUARTET, corpus_path

_REFS = TypeAdapter(list[RegionRef])


def _short_and_json(score: Score) -> list[tuple[str, dict]]:
    """Each track by number, name and role (where it has one), each with a bar, bars, ticks
    and the whole piece: the short form beside the same region as a JSON object."""
    bars = score.bars()
    spans = [("2", {"bars": "2"}), ("1-3", {"bars": "1-3"}), ("", {})]
    spans.append((f"t{bars[1].start}-{bars[2].end}", {"start": bars[1].start, "end": bars[2].end}))
    cases = []
    for index, track in enumerate(score.tracks):
        refs = [(str(index), index), (track.name, track.name)]
        refs += [(track.role, track.role)] if track.role else []
        for text, ref in refs:
            for span_text, span in spans:
                cases.append((f"{text}:{span_text}" if span_text else text, {"track": ref, **span}))
    return cases


@pytest.mark.parametrize("piece", [CHORALE, CHORALE_3_4, QUARTET])
def test_a_region_written_either_way_is_the_same_region(piece):
    score = read_score(corpus_path(piece))
    for text, obj in _short_and_json(score):
        by_text = build_request("echo", score, [text])
        by_object = build_request("echo", score, _REFS.validate_python([obj]))
        as_string = build_request("echo", score, _REFS.validate_python([text]))  # text over HTTP
        assert by_text.regions == by_object.regions == as_string.regions, (text, obj)


@pytest.fixture
def http(octave_host):
    engine = Engine(octave_host, device="cpu")
    bridge = HttpBridge()
    bridge.start(engine, Settings.with_bridges([HttpBridge])(http_port=0))
    with httpx.Client(base_url=bridge.address(), timeout=60) as client:
        yield client
    bridge.stop()
    engine.shutdown(timeout=2)


def _melody(chorale: Score) -> Score:
    soprano = chorale.tracks[0].model_copy(update={"name": "Melody", "role": None})
    return chorale.model_copy(update={"tracks": [soprano], "fermatas": []})


def test_over_http_a_region_may_name_a_role_the_score_lacks(http, chorale):
    """A one-staff melody: naming alto, tenor and bass adds them, as scorehost edit does."""
    melody = _melody(chorale)
    bars = melody.bars()
    body = {
        "model": "octave",
        "score": melody.model_dump(),
        "regions": [{"track": "alto", "bars": "1-2"}, "tenor,bass:3", {"track": 0, "start": 0, "end": 480}],
    }
    answer = http.post("/v1/edit", json=body)
    assert answer.status_code == 200, answer.text
    result = score_from_json(answer.json()["variations"][0]["score"])
    assert [(t.name, t.role) for t in result.tracks] == [
        ("Melody", "soprano"),
        ("Alto", "alto"),
        ("Tenor", "tenor"),
        ("Bass", "bass"),
    ]
    for track, (start, end) in ((1, (bars[1].start, bars[2].end)), (2, (bars[3].start, bars[3].end))):
        octave_down = [(s, p - 12, d, v) for s, p, d, v in note_tuples(melody.tracks[0], start, end)]
        assert note_tuples(result.tracks[track]) == [(s, p, min(d, end - s), v) for s, p, d, v in octave_down]


@pytest.mark.parametrize(
    ("region", "field", "fragment"),
    [
        (
            {"track": "viola", "bars": "2"},
            "regions[0].track",
            "no track called 'viola' (tracks: 0=Soprano, 1=Alto",
        ),
        ({"track": "alto", "bars": "40"}, "regions[0].bars", "bar 40 is not in the score (bars 0..9)"),
        ("alto:2-x", "region 'alto:2-x'", "cannot read the span '2-x'"),
        ({"track": 7, "bars": "2"}, "regions[0].track", "track 7 does not exist"),
    ],
)
def test_a_region_that_names_nothing_is_refused_naming_what_was_given(http, chorale, region, field, fragment):
    body = {"model": "octave", "score": chorale.model_dump(), "regions": [region]}
    answer = http.post("/v1/edit", json=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and fragment in error["message"], error


@pytest.mark.parametrize(
    ("region", "fragment"),
    [
        ({"track": "1", "start": 0, "end": 480}, "write a track number as a JSON integer, not the text '1'"),
        ({"track": "alto", "start": 480}, "give both start and end"),
        ({"track": "alto", "bars": "2", "start": 0, "end": 480}, "give the span once"),
        (3, 'a region is an object such as {"track": "alto", "bars": "2-4"}, or text'),
    ],
)
def test_a_malformed_region_gets_one_error_not_a_list(http, chorale, region, fragment):
    body = {"model": "octave", "score": chorale.model_dump(), "regions": [region]}
    answer = http.post("/v1/edit", json=body)
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert fragment in message and "more)" not in message, message


def test_over_http_a_constraint_may_be_its_short_form_naming_a_track(http, chorale):
    melody = _melody(chorale).model_dump()
    body = {"model": "echo", "score": melody, "regions": ["bass"], "constraints": ["range:bass:C2-E3"]}
    answer = http.post("/v1/edit", json=body)
    assert answer.status_code == 200, answer.text
    assert [t["name"] for t in answer.json()["variations"][0]["score"]["tracks"]] == ["Melody", "Bass"]
    body["constraints"] = ["range:viola:C2-E3"]
    error = http.post("/v1/edit", json=body).json()["error"]
    assert (
        error["field"] == "constraint 'range:viola:C2-E3'" and "no track called 'viola'" in error["message"]
    )
