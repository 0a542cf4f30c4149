"""pitch_classes: written notes use only these pitch classes (a key or a scale)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from ..score import KeySignature, Score, TrackIndex
from .base import ConstraintBase, Outcome


class PitchClasses(ConstraintBase):
    """Written notes use only these pitch classes (C=0): a key or scale."""

    type: Literal["pitch_classes"] = "pitch_classes"
    pitch_classes: list[Annotated[int, Field(ge=0, le=11)]] = Field(min_length=1, max_length=12)
    tracks: list[TrackIndex] | None = Field(default=None, description="None: every written track.")
    short_names = ("key", "pitch-classes")
    short_usage = "key:D-minor[:TRACKS] or pitch-classes:0,2,4,5,7,9,11[:TRACKS]"

    @classmethod
    def from_key(cls, tonic: int, mode: str, tracks: list[int] | None = None) -> PitchClasses:
        key = KeySignature(tick=0, tonic=tonic, mode=mode)
        return cls(pitch_classes=sorted(key.pitch_classes), tracks=tracks)

    def violations(self, outcome: Outcome) -> list[str]:
        allowed = set(self.pitch_classes)
        problems = []
        for index in outcome.tracks_or_written(self.tracks):
            bad = [n.pitch for n in outcome.written(index) if n.pitch % 12 not in allowed]
            if bad:
                problems.append(f"track {index} has notes outside the allowed pitch classes: {bad[:5]}")
        return problems

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> PitchClasses:
        from ..cliparse import parse_key, track_refs

        tracks = track_refs(score, args[1], field) if len(args) > 1 else None
        if name == "key":
            return cls.from_key(*parse_key(args[0], field), tracks)
        return cls(pitch_classes=[int(p) for p in args[0].split(",")], tracks=tracks)


CONSTRAINT = PitchClasses
