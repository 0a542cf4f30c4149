"""Written spans: each track's [start, end) tick ranges a request writes. Pure functions on
tuples, so regions (which merges results) and constraints (which check them) share them
without importing each other."""

from __future__ import annotations

Spans = list[tuple[int, int]]


def span_of(spans: Spans, tick: int) -> tuple[int, int] | None:
    """The span [start, end) that tick lies in, if any."""
    for start, end in spans:
        if start <= tick < end:
            return start, end
    return None


def in_spans(spans: Spans, tick: int) -> bool:
    """Whether tick lies in one of the spans [start, end)."""
    return span_of(spans, tick) is not None


def is_written(spans: dict[int, Spans], track: int, tick: int) -> bool:
    """Whether a note of track starting at tick lies in a written span."""
    return in_spans(spans.get(track, []), tick)
