"""instrument: the track is written for, and set to, this General MIDI program."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..score import Score, TrackIndex
from .base import ConstraintBase, Outcome


class Instrument(ConstraintBase):
    """The track is written for, and set to, this General MIDI program."""

    type: Literal["instrument"] = "instrument"
    track: TrackIndex
    program: int = Field(ge=0, le=127)
    short_names = ("instrument",)
    short_usage = "instrument:TRACK:PROGRAM"

    def violations(self, outcome: Outcome) -> list[str]:
        if outcome.after.tracks[self.track].program != self.program:
            return [f"track {self.track} is not set to program {self.program}"]
        return []

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> Instrument:
        from ..cliparse import track_refs

        return cls(track=track_refs(score, args[0], field)[0], program=int(args[1]))


CONSTRAINT = Instrument
