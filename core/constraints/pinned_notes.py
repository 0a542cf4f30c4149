"""pinned_notes: these notes must sound in the result, at these onsets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field

from ..errors import RequestError
from ..score import Score, TrackIndex
from .base import STRICT, ConstraintBase, Outcome, Span, check_track


class PinnedNote(BaseModel):
    model_config = STRICT
    track: TrackIndex
    start: int = Field(ge=0)
    pitch: int = Field(ge=0, le=127)
    duration: int | None = Field(default=None, gt=0, description="None: any length.")


class PinnedNotes(ConstraintBase):
    """These notes must sound in the result, at these onsets."""

    type: Literal["pinned_notes"] = "pinned_notes"
    notes: list[PinnedNote] = Field(min_length=1)
    short_names = ("pin",)
    short_usage = "pin:TRACK:tTICK:PITCH"

    def check(self, score: Score, regions: Sequence[Span], field: str) -> None:
        super().check(score, regions, field)
        for j, pin in enumerate(self.notes):
            check_track(pin.track, len(score.tracks), f"{field}.notes[{j}].track")
            if not any(r.holds(pin.track, pin.start) for r in regions):
                raise RequestError(
                    "lies outside every region; notes outside the regions are kept anyway",
                    f"{field}.notes[{j}]",
                )

    def violations(self, outcome: Outcome) -> list[str]:
        return [
            f"pinned note {pin.pitch} at tick {pin.start} on track {pin.track} is missing"
            for pin in self.notes
            if not any(
                n.start == pin.start
                and n.pitch == pin.pitch
                and (pin.duration is None or n.duration == pin.duration)
                for n in outcome.written(pin.track)
            )
        ]

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> PinnedNotes:
        from ..cliparse import parse_pitch, track_refs

        track = track_refs(score, args[0], field)[0]
        return cls(
            notes=[PinnedNote(track=track, start=int(args[1].lstrip("t")), pitch=parse_pitch(args[2], field))]
        )


CONSTRAINT = PinnedNotes
