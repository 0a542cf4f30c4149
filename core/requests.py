"""Edit requests and results: regions to rewrite, constraints that must hold, options, variations."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import LimitExceeded, RequestError, pydantic_message
from .score import Score, TrackIndex, check_limits

_strict = ConfigDict(extra="forbid")
MAX_REGIONS = 256
MAX_VARIATIONS = 16


class Region(BaseModel):
    """A span [start, end) of one track to rewrite; notes with onsets in it belong to it."""

    model_config = _strict
    track: TrackIndex
    start: int = Field(ge=0)
    end: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Region:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self

    def holds(self, track: int, tick: int) -> bool:
        return track == self.track and self.start <= tick < self.end


# ---- constraints: one module each in constraints/ ------------------------------------------

from .constraints import (  # noqa: E402, F401  (re-exported: plugins import them from here)
    CONSTRAINT_TYPES,
    Constraint,
    Instrument,
    KeepRhythm,
    NoteDensity,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Polyphony,
    Theme,
)
from .constraints.base import check_track  # noqa: E402

# ---- options ----------------------------------------------------------------------------


class Options(BaseModel):
    """Options every model takes; a model's own Options class extends this one."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # "nan" as text is a float to pydantic
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1, description="None: a random seed.")
    variations: int = Field(default=1, ge=1, le=MAX_VARIATIONS, description="Results to return.")

    def seeds(self) -> list[int]:
        """One seed per variation: seed, seed+1, ... so any variation can be reproduced alone."""
        base = self.seed if self.seed is not None else random.SystemRandom().randrange(2**32)
        return [(base + i) % 2**32 for i in range(self.variations)]


# ---- request and result -----------------------------------------------------------------


class EditRequest(BaseModel):
    model_config = _strict
    model: str = Field(min_length=1, max_length=100)
    score: Score
    regions: list[Region] = Field(min_length=1, max_length=MAX_REGIONS)
    constraints: list[Constraint] = Field(default_factory=list, max_length=64)
    options: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0, le=3600, description="Seconds; None: server default.")


class Variation(BaseModel):
    score: Score
    log_prob: float | None = Field(description="Log-probability of the written cells under the model.")
    seed: int


class EditResult(BaseModel):
    model: str
    variations: list[Variation]
    warnings: list[str] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, description="Seconds: queued, run, total.")


def parse_request(data: dict[str, Any]) -> EditRequest:
    try:
        return EditRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestError(pydantic_message(exc)) from exc


def check_request(request: EditRequest, max_notes: int | None = None) -> None:
    """Check a request against its own score: every reference must exist and make sense."""
    score = request.score
    check_limits(score)  # again: a score changed by model_copy was not validated
    if max_notes is not None and score.note_count() > max_notes:
        raise LimitExceeded(f"the score has {score.note_count():,} notes; the limit is {max_notes:,}")
    tracks = len(score.tracks)
    for i, region in enumerate(request.regions):
        check_track(region.track, tracks, f"regions[{i}].track")
        if region.end > score.length:
            raise RequestError(
                f"ends at tick {region.end}, past the end of the score (tick {score.length})",
                f"regions[{i}]",
            )
    for i, constraint in enumerate(request.constraints):
        constraint.check(score, request.regions, f"constraints[{i}]")
