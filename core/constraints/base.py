"""What every constraint type has: its fields (pydantic), a check against the request's
score, the violations of a result, and its short text form. A constraint type is one module
of this package defining CONSTRAINT; nothing else needs to change to add one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from ..errors import RequestError
from ..score import Note, Score
from ..spans import is_written

if TYPE_CHECKING:
    from typing import Self

STRICT = ConfigDict(extra="forbid")


class Span(Protocol):  # a Region, as far as constraints need one
    track: int
    start: int
    end: int

    def holds(self, track: int, tick: int) -> bool: ...


@dataclass(frozen=True)
class Outcome:
    """A request's score, a result for it, and which spans of which tracks were written."""

    before: Score
    after: Score
    spans: dict[int, list[tuple[int, int]]]

    def written(self, track: int, score: Score | None = None) -> list[Note]:
        """The notes of track in the written spans (of the result, unless another score is given)."""
        notes = (score or self.after).tracks[track].notes
        return [n for n in notes if is_written(self.spans, track, n.start)]

    def tracks_or_written(self, tracks: list[int] | None) -> list[int]:
        return list(tracks) if tracks else list(self.spans)


class ConstraintBase(BaseModel):
    model_config = STRICT
    # the short text forms (`range:alto:G3-D5`) this type reads, and how to write them
    short_names: ClassVar[tuple[str, ...]] = ()
    short_usage: ClassVar[str] = ""

    def track_fields(self) -> list[tuple[str, int]]:
        """(field, track) for every track the constraint names."""
        out = []
        if isinstance(getattr(self, "track", None), int):
            out.append(("track", self.track))
        out += [("tracks", t) for t in getattr(self, "tracks", None) or []]
        return out

    def check(self, score: Score, regions: Sequence[Span], field: str) -> None:
        """Refuse, with a RequestError naming field, what cannot hold for this score."""
        for name, track in self.track_fields():
            check_track(track, len(score.tracks), f"{field}.{name}")

    def violations(self, outcome: Outcome) -> list[str]:
        """How a result breaks this constraint (empty when it holds, or when it only steers)."""
        return []

    @classmethod
    def from_short(cls, name: str, score: Score, args: list[str], field: str) -> Self:
        """The constraint from its short form NAME:ARG:ARG..., tracks resolved against score."""
        raise NotImplementedError


def check_track(track: int, count: int, field: str) -> None:
    if track >= count:
        raise RequestError(f"track {track} does not exist (the score has {count} tracks)", field)
