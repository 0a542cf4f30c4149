"""theme: develop the material of this span (all tracks, or one) in the regions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from ..errors import RequestError
from ..score import Score, TrackIndex
from .base import ConstraintBase, Span


class Theme(ConstraintBase):
    """Develop the material of this span (all tracks, or one) in the regions."""

    type: Literal["theme"] = "theme"
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    track: TrackIndex | None = None
    short_names = ("theme",)
    short_usage = "theme:SPAN[:TRACK]"

    def check(self, score: Score, regions: Sequence[Span], field: str) -> None:
        super().check(score, regions, field)
        if self.end <= self.start or self.end > score.length:
            raise RequestError(f"the span {self.start}..{self.end} is not inside the score", field)

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> Theme:
        from ..cliparse import parse_span, track_refs

        start, end = parse_span(score, args[0], field)
        track = track_refs(score, args[1], field)[0] if len(args) > 1 else None
        return cls(start=start, end=end, track=track)


CONSTRAINT = Theme
