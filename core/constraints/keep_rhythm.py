"""keep_rhythm: rewrite pitches only; written notes keep the onsets and lengths they had."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..score import Score, TrackIndex
from .base import ConstraintBase, Outcome


class KeepRhythm(ConstraintBase):
    """Rewrite pitches only: written notes keep the onsets and lengths the region had."""

    type: Literal["keep_rhythm"] = "keep_rhythm"
    tracks: list[TrackIndex] | None = Field(default=None, description="None: every written track.")
    short_names = ("keep-rhythm",)
    short_usage = "keep-rhythm[:TRACKS]"

    def violations(self, outcome: Outcome) -> list[str]:
        return [
            f"track {index} does not keep the rhythm it had"
            for index in outcome.tracks_or_written(self.tracks)
            if _rhythm(outcome, index, outcome.before) != _rhythm(outcome, index, outcome.after)
        ]

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> KeepRhythm:
        from ..cliparse import track_refs

        return cls(tracks=track_refs(score, args[0], field) if args else None)


def _rhythm(outcome: Outcome, index: int, score: Score) -> list[tuple[int, int]]:
    return sorted({(n.start, n.duration) for n in outcome.written(index, score)})


CONSTRAINT = KeepRhythm
