"""pitch_range: every written note of the track lies in [low, high]."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ..score import Score, TrackIndex
from .base import ConstraintBase, Outcome


class PitchRange(ConstraintBase):
    """Every written note of the track lies in [low, high]."""

    type: Literal["pitch_range"] = "pitch_range"
    track: TrackIndex
    low: int = Field(ge=0, le=127)
    high: int = Field(ge=0, le=127)
    short_names = ("range",)
    short_usage = "range:TRACK:LOW-HIGH"

    @model_validator(mode="after")
    def _ordered(self) -> PitchRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self

    def violations(self, outcome: Outcome) -> list[str]:
        outside = [n.pitch for n in outcome.written(self.track) if not self.low <= n.pitch <= self.high]
        if outside:
            return [f"track {self.track} has notes outside {self.low}..{self.high}: {outside[:5]}"]
        return []

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> PitchRange:
        from ..cliparse import parse_pitch, track_refs

        low, high = args[1].split("-")
        return cls(
            track=track_refs(score, args[0], field)[0],
            low=parse_pitch(low, field),
            high=parse_pitch(high, field),
        )


CONSTRAINT = PitchRange
