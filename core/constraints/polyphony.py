"""polyphony: at most this many notes sounding at once in the written spans of the track."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..score import Score, TrackIndex, most_at_once
from .base import ConstraintBase, Outcome


class Polyphony(ConstraintBase):
    """At most this many notes sounding at once in the written spans of the track."""

    type: Literal["polyphony"] = "polyphony"
    track: TrackIndex
    max_notes: int = Field(ge=1, le=16)
    short_names = ("polyphony",)
    short_usage = "polyphony:TRACK:MAX_NOTES"

    def violations(self, outcome: Outcome) -> list[str]:
        most = most_at_once(outcome.written(self.track))
        if most > self.max_notes:
            return [f"track {self.track} has {most} notes sounding at once (limit {self.max_notes})"]
        return []

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> Polyphony:
        from ..cliparse import track_refs

        return cls(track=track_refs(score, args[0], field)[0], max_notes=int(args[1]))


CONSTRAINT = Polyphony
