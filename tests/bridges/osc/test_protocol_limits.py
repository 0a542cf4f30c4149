"""Inline notes are bounded before a score is made of them: ticks, and numbers that are finite."""

import pytest

from scorehost.bridges.osc import protocol as p
from scorehost.core.errors import LimitExceeded, RequestError
from scorehost.core.score import MAX_TICKS


def _inline(*values, unit="beats", extra=()):
    return p.inline_score(p.read_arguments([*extra, "track=melody", *values]), unit)


def test_a_note_past_the_tick_limit_is_refused_in_the_unit_it_was_sent_in():
    with pytest.raises(
        LimitExceeded, match=r"track 0 \(melody\) note 1: ends at 100001 beats, past the limit of 20000"
    ):
        _inline(60, 0.0, 1.0, 80, 62, 100_000.0, 1.0, 80)
    with pytest.raises(LimitExceeded, match=f"past the limit of {MAX_TICKS} ticks"):
        _inline(60, MAX_TICKS, 1, 80, unit="ticks")
    with pytest.raises(RequestError, match="length: .* outside 0..20000"):
        _inline(60, 0.0, 1.0, 80, extra=["length=1e9"])


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_numbers_that_are_not_finite_are_refused(bad):
    for values in ((bad, 0.0, 1.0, 80), (60, bad, 1.0, 80), (60, 0.0, bad, 80), (60, 0.0, 1.0, bad)):
        with pytest.raises(RequestError, match="note 0: has a number that is not finite"):
            _inline(*values)


def test_notes_up_to_the_limit_make_a_score():
    score = _inline(60, 0.0, 1.0, 80, 62, MAX_TICKS / 480 - 1, 1.0, 80)
    assert score.length == MAX_TICKS and score.tracks[0].notes[-1].end == MAX_TICKS
