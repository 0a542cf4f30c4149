"""scorehost core: the score model, requests, the plugin host, the job engine and the CLI.

This package is the public API for plugins: everything a model (or bridge) plugin needs is
importable from ``scorehost.core`` itself, e.g. ``from scorehost.core import Model, hookimpl``.
Names not in ``__all__`` live in submodules that may change. Helpers for testing a plugin are
in ``scorehost.core.testing``.
"""

from .bridge import Bridge, BridgeSettings, LiveFill, LiveState
from .errors import (
    JobCancelled,
    JobTimeout,
    RequestError,
    ScorehostError,
    ScoreReadError,
    ScoreWriteError,
    UnsupportedConstraint,
)
from .hookspecs import hookimpl
from .model import Capabilities, JobContext, LocalJob, Model
from .regions import constraint_violations, is_written, merge_result, spans_by_track
from .requests import (
    CONSTRAINT_TYPES,
    Constraint,
    EditRequest,
    EditResult,
    Instrument,
    KeepRhythm,
    NoteDensity,
    Options,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Polyphony,
    Region,
    Theme,
    Variation,
)
from .score import (
    ROLES,
    TICKS_PER_QUARTER,
    Bar,
    Fermata,
    KeySignature,
    Marker,
    Note,
    Score,
    Tempo,
    TimeSignature,
    Track,
)

# Reading and writing files needs music21 (slow to import): loaded on first use.
_LAZY = {"read_score": "scoreio", "write_score": "scoreio"}


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # plugins and hooks
    "hookimpl",
    "Model",
    "Capabilities",
    "JobContext",
    "LocalJob",
    # bridges
    "Bridge",
    "BridgeSettings",
    "LiveFill",
    "LiveState",
    # requests and results
    "EditRequest",
    "EditResult",
    "Options",
    "Region",
    "Variation",
    # constraints
    "Constraint",
    "CONSTRAINT_TYPES",
    "PinnedNote",
    "PinnedNotes",
    "PitchRange",
    "PitchClasses",
    "KeepRhythm",
    "NoteDensity",
    "Polyphony",
    "Instrument",
    "Theme",
    # what a region owns, and merging a model's output back
    "spans_by_track",
    "is_written",
    "merge_result",
    "constraint_violations",
    # the score
    "Score",
    "Track",
    "Note",
    "Bar",
    "TimeSignature",
    "KeySignature",
    "Tempo",
    "Fermata",
    "Marker",
    "TICKS_PER_QUARTER",
    "ROLES",
    "read_score",
    "write_score",
    # errors
    "ScorehostError",
    "RequestError",
    "UnsupportedConstraint",
    "ScoreReadError",
    "ScoreWriteError",
    "JobCancelled",
    "JobTimeout",
]
