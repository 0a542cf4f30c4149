"""Constraint types, one module each (see base.py): found here by module, so adding a type
touches its own module, the models that honour it and the docs, and nothing else."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Union

from pydantic import Field

from .base import ConstraintBase, Outcome
from .instrument import Instrument
from .keep_rhythm import KeepRhythm
from .note_density import NoteDensity
from .pinned_notes import PinnedNote, PinnedNotes
from .pitch_classes import PitchClasses
from .pitch_range import PitchRange
from .polyphony import Polyphony
from .theme import Theme

# The order the types were documented in first; new modules follow, by name.
_FIRST = (
    "pinned_notes",
    "pitch_range",
    "pitch_classes",
    "keep_rhythm",
    "note_density",
    "polyphony",
    "instrument",
    "theme",
)


def _discover() -> dict[str, type[ConstraintBase]]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cls = getattr(module, "CONSTRAINT", None)
        if cls is not None:
            found[cls.model_fields["type"].default] = cls
    return dict(
        sorted(found.items(), key=lambda kv: (_FIRST.index(kv[0]) if kv[0] in _FIRST else len(_FIRST), kv[0]))
    )


TYPES: dict[str, type[ConstraintBase]] = _discover()
CONSTRAINT_TYPES: tuple[str, ...] = tuple(TYPES)
SHORT_FORMS: dict[str, type[ConstraintBase]] = {
    name: cls for cls in TYPES.values() for name in cls.short_names
}
Constraint = Annotated[Union[tuple(TYPES.values())], Field(discriminator="type")]  # noqa: UP007

__all__ = [
    "CONSTRAINT_TYPES",
    "SHORT_FORMS",
    "TYPES",
    "Constraint",
    "ConstraintBase",
    "Instrument",
    "KeepRhythm",
    "NoteDensity",
    "Outcome",
    "PinnedNote",
    "PinnedNotes",
    "PitchClasses",
    "PitchRange",
    "Polyphony",
    "Theme",
]
