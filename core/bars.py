"""The time-signature map from a list of bars as an editor shows them (start, length, meter).

Editors and files state bars; the score states meter events. An event is needed where the
meter changes and wherever a bar does not start on the grid of the previous event (after a
pickup or a short bar); a bar longer than its meter gets an event stating its real length.
"""

from __future__ import annotations

from .errors import ScoreReadError
from .score import TICKS_PER_QUARTER, TimeSignature

Bar = tuple[int, int, int, int]  # start tick, length in ticks, numerator, denominator


def time_signatures_from_bars(bars: list[Bar]) -> list[TimeSignature]:
    events: list[TimeSignature] = []
    for start, length, numerator, denominator in bars:
        wanted = _event(start, numerator, denominator)
        last = events[-1] if events else None
        on_grid = last is not None and (start - last.tick) % last.bar_ticks == 0
        same = last is not None and (last.numerator, last.denominator) == (numerator, denominator)
        if last is None or not (on_grid and same):
            events.append(wanted)
        if length > wanted.bar_ticks:  # an over-full bar: state its real length
            if events[-1].tick == start:
                events.pop()
            events.append(_fitting_signature(start, length))
    return events or [TimeSignature(tick=0, numerator=4, denominator=4)]


def _event(tick: int, numerator: int, denominator: int) -> TimeSignature:
    if denominator not in (1, 2, 4, 8, 16, 32, 64) or not 1 <= numerator <= 64:
        raise ScoreReadError(f"time signature {numerator}/{denominator} at tick {tick} is not supported")
    return TimeSignature(tick=tick, numerator=numerator, denominator=denominator)


def _fitting_signature(tick: int, length: int) -> TimeSignature:
    for denominator in (4, 8, 16, 32, 64):
        unit = TICKS_PER_QUARTER * 4 // denominator
        if length % unit == 0 and length // unit <= 64:
            return TimeSignature(tick=tick, numerator=length // unit, denominator=denominator)
    raise ScoreReadError(f"a bar at tick {tick} has a length that no time signature can state")
