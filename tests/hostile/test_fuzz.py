"""Property tests that stay in the suite: whatever bytes or values come in, the score-JSON,
MIDI and MusicXML readers and the OSC decoder either give a valid score (or messages) or refuse
with a ScorehostError, the error a user is shown; never any other exception. Bounded (a few
dozen examples each) so the whole module runs in well under a minute."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorehost.bridges.osc.protocol import decode, encode, inline_score, read_arguments, read_unit
from scorehost.core.errors import ScorehostError
from scorehost.core.score import Note, Score, Track
from scorehost.core.scoreio import read_score_bytes, score_bytes
from scorehost.core.scorejson import score_from_json

BOUNDED = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEED = Score(
    title="Seed",
    tracks=[
        Track(name="Melody", notes=[Note(start=i * 480, duration=480, pitch=60 + i) for i in range(8)]),
        Track(name="Bass", notes=[Note(start=0, duration=1920, pitch=36)]),
    ],
    length=3840,
)
MIDI = score_bytes(SEED, ".mid")
MUSICXML = score_bytes(SEED, ".musicxml")
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
JSON = st.recursive(
    st.none() | st.booleans() | NUMBERS | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)


def _score_or_refusal(read) -> Score | None:
    """Call read(); a ScorehostError is a clean refusal, any other exception fails the test."""
    try:
        score = read()
    except ScorehostError as exc:
        assert str(exc).strip(), "a refusal says what is wrong"
        return None
    assert isinstance(score, Score)
    return score


def _mutated(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[:cut] if cut is not None else buffer)


EDITS = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), max_size=8)


@BOUNDED
@given(st.dictionaries(st.sampled_from(list(SEED.model_dump())), JSON, max_size=6), JSON)
def test_score_json_reader(changes, anything):
    _score_or_refusal(lambda: score_from_json(SEED.model_dump() | changes, source="score"))
    if not isinstance(anything, dict):
        anything = {"tracks": anything}
    _score_or_refusal(lambda: score_from_json(anything, source="score"))


@BOUNDED
@given(EDITS, st.none() | st.integers(min_value=0, max_value=len(MIDI)))
def test_midi_reader(edits, cut):
    data = _mutated(MIDI, edits, cut)
    _score_or_refusal(lambda: read_score_bytes(data, ".mid"))


@settings(BOUNDED, max_examples=25)  # music21 takes a tenth of a second a score here
@given(
    st.lists(st.tuples(st.sampled_from([b"480", b"1", b"4", b"<note>", b"</measure>"]), NUMBERS), max_size=4),
    EDITS,
)
def test_musicxml_reader(swaps, edits):
    text = MUSICXML
    for old, new in swaps:  # numbers put where numbers are (durations, divisions, beats...)
        text = text.replace(old, str(new).encode(), 1)
    data = _mutated(text, edits, None)
    _score_or_refusal(lambda: read_score_bytes(data, ".musicxml"))


OSC_ARGS = st.lists(
    st.one_of(
        NUMBERS.filter(lambda n: not isinstance(n, int) or abs(n) < 2**63),
        st.sampled_from(
            ["track=Melody", "track=Drums:drum", "unit=ticks", "unit=beats", "meter=3/4", "bpm=1e-300"]
        ),
        st.text(max_size=20),
    ),
    max_size=24,
)


@BOUNDED
@given(st.sampled_from(["/scorehost/edit", "/scorehost/models"]), OSC_ARGS, EDITS)
def test_osc_decoder(address, args, edits):
    try:
        datagram = encode(address, *args)
    except (OverflowError, ValueError):  # python-osc cannot encode the value: not ours to refuse
        return
    for data in (datagram, _mutated(datagram, edits, None)):
        try:
            messages = decode(data)
        except ValueError:
            continue  # a malformed datagram: the server answers it with an error
        for _address, values in messages:
            try:
                parsed = read_arguments(values)
                score = inline_score(parsed, read_unit(parsed))
            except ScorehostError:
                continue
            assert all(math.isfinite(n.start) for t in score.tracks for n in t.notes)
