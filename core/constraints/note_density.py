"""note_density: aim for this many notes per bar (steers; not checked on results)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..score import Score, TrackIndex
from .base import ConstraintBase


class NoteDensity(ConstraintBase):
    """Aim for this many notes per bar in the written spans of the track."""

    type: Literal["note_density"] = "note_density"
    track: TrackIndex
    notes_per_bar: float = Field(gt=0, le=256)
    short_names = ("density",)
    short_usage = "density:TRACK:NOTES_PER_BAR"

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> NoteDensity:
        from ..cliparse import track_refs

        return cls(track=track_refs(score, args[0], field)[0], notes_per_bar=float(args[1]))


CONSTRAINT = NoteDensity
