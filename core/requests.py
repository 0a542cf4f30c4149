"""Edit requests and results: regions to rewrite, constraints that must hold, options, variations."""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import LimitExceeded, RequestError, pydantic_message
from .score import KeySignature, Score

_strict = ConfigDict(extra="forbid")
MAX_REGIONS = 256
MAX_VARIATIONS = 16


class Region(BaseModel):
    """A span [start, end) of one track to rewrite; notes with onsets in it belong to it."""

    model_config = _strict
    track: int = Field(ge=0)
    start: int = Field(ge=0)
    end: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Region:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self

    def holds(self, track: int, tick: int) -> bool:
        return track == self.track and self.start <= tick < self.end


# ---- constraints ------------------------------------------------------------------------


class PinnedNote(BaseModel):
    model_config = _strict
    track: int = Field(ge=0)
    start: int = Field(ge=0)
    pitch: int = Field(ge=0, le=127)
    duration: int | None = Field(default=None, gt=0, description="None: any length.")


class PinnedNotes(BaseModel):
    """These notes must sound in the result, at these onsets."""

    model_config = _strict
    type: Literal["pinned_notes"] = "pinned_notes"
    notes: list[PinnedNote] = Field(min_length=1)


class PitchRange(BaseModel):
    """Every written note of the track lies in [low, high]."""

    model_config = _strict
    type: Literal["pitch_range"] = "pitch_range"
    track: int = Field(ge=0)
    low: int = Field(ge=0, le=127)
    high: int = Field(ge=0, le=127)

    @model_validator(mode="after")
    def _ordered(self) -> PitchRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) is below low ({self.low})")
        return self


class PitchClasses(BaseModel):
    """Written notes use only these pitch classes (C=0): a key or scale."""

    model_config = _strict
    type: Literal["pitch_classes"] = "pitch_classes"
    pitch_classes: list[Annotated[int, Field(ge=0, le=11)]] = Field(min_length=1, max_length=12)
    tracks: list[int] | None = Field(default=None, description="None: every written track.")

    @classmethod
    def from_key(cls, tonic: int, mode: str, tracks: list[int] | None = None) -> PitchClasses:
        key = KeySignature(tick=0, tonic=tonic, mode=mode)
        return cls(pitch_classes=sorted(key.pitch_classes), tracks=tracks)


class KeepRhythm(BaseModel):
    """Rewrite pitches only: written notes keep the onsets and lengths the region had."""

    model_config = _strict
    type: Literal["keep_rhythm"] = "keep_rhythm"
    tracks: list[int] | None = Field(default=None, description="None: every written track.")


class NoteDensity(BaseModel):
    """Aim for this many notes per bar in the written spans of the track."""

    model_config = _strict
    type: Literal["note_density"] = "note_density"
    track: int = Field(ge=0)
    notes_per_bar: float = Field(gt=0, le=256)


class Polyphony(BaseModel):
    """At most this many notes sounding at once in the written spans of the track."""

    model_config = _strict
    type: Literal["polyphony"] = "polyphony"
    track: int = Field(ge=0)
    max_notes: int = Field(ge=1, le=16)


class Instrument(BaseModel):
    """The track is written for, and set to, this General MIDI program."""

    model_config = _strict
    type: Literal["instrument"] = "instrument"
    track: int = Field(ge=0)
    program: int = Field(ge=0, le=127)


class Theme(BaseModel):
    """Develop the material of this span (all tracks, or one) in the regions."""

    model_config = _strict
    type: Literal["theme"] = "theme"
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    track: int | None = None


Constraint = Annotated[
    PinnedNotes | PitchRange | PitchClasses | KeepRhythm | NoteDensity | Polyphony | Instrument | Theme,
    Field(discriminator="type"),
]
CONSTRAINT_TYPES: tuple[str, ...] = (
    "pinned_notes", "pitch_range", "pitch_classes", "keep_rhythm",
    "note_density", "polyphony", "instrument", "theme",
)  # fmt: skip


# ---- options ----------------------------------------------------------------------------


class Options(BaseModel):
    """Options every model takes; a model's own Options class extends this one."""

    model_config = ConfigDict(extra="forbid")
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
    if max_notes is not None and score.note_count() > max_notes:
        raise LimitExceeded(f"the score has {score.note_count():,} notes; the limit is {max_notes:,}")
    tracks = len(score.tracks)
    for i, region in enumerate(request.regions):
        _check_track(region.track, tracks, f"regions[{i}].track")
        if region.end > score.length:
            raise RequestError(
                f"ends at tick {region.end}, past the end of the score (tick {score.length})",
                f"regions[{i}]",
            )
    for i, constraint in enumerate(request.constraints):
        _check_constraint(constraint, score, request.regions, f"constraints[{i}]")


def _check_track(track: int, count: int, field: str) -> None:
    if track >= count:
        raise RequestError(f"track {track} does not exist (the score has {count} tracks)", field)


def _check_constraint(constraint, score: Score, regions: list[Region], field: str) -> None:
    count = len(score.tracks)
    for name in ("track",):
        value = getattr(constraint, name, None)
        if value is not None:
            _check_track(value, count, f"{field}.{name}")
    for value in getattr(constraint, "tracks", None) or []:
        _check_track(value, count, f"{field}.tracks")
    if isinstance(constraint, PinnedNotes):
        for j, pin in enumerate(constraint.notes):
            _check_track(pin.track, count, f"{field}.notes[{j}].track")
            if not any(r.holds(pin.track, pin.start) for r in regions):
                raise RequestError(
                    "lies outside every region; notes outside the regions are kept anyway",
                    f"{field}.notes[{j}]",
                )
    if isinstance(constraint, Theme) and (
        constraint.end <= constraint.start or constraint.end > score.length
    ):
        raise RequestError(f"the span {constraint.start}..{constraint.end} is not inside the score", field)
