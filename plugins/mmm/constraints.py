"""What the constraints of a request mean for each written track, checked before queueing.

Every conflict is refused here with a message naming the constraint, so decoding can treat
them all as hard masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scorehost.core.errors import RequestError
from scorehost.core.regions import spans_by_track
from scorehost.core.requests import (
    EditRequest,
    Instrument,
    KeepRhythm,
    NoteDensity,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Polyphony,
)
from scorehost.plugins.lib.vocab import DRUM_RANGE, Vocab

from .plan import written_cells


@dataclass
class TrackRules:
    track: int
    is_drum: bool
    program: int
    spans: list[tuple[int, int]]
    bars: list[int]  # bar indices with a written span
    pitch_ok: np.ndarray  # (128,) bool
    polyphony: int | None = None
    notes_per_bar: float | None = None
    keep_rhythm: bool = False
    pins: list[PinnedNote] = field(default_factory=list)


def rules_for(request: EditRequest, vocab: Vocab) -> dict[int, TrackRules]:
    score = request.score
    spans = spans_by_track(request.regions)
    cells = written_cells(score, request.regions)
    rules = {}
    for t, track_spans in spans.items():
        track = score.tracks[t]
        ok = np.zeros(128, dtype=bool)
        if track.is_drum:
            ok[DRUM_RANGE[0] : DRUM_RANGE[1] + 1] = True
        else:
            ok[:] = True
        rules[t] = TrackRules(t, track.is_drum, track.program, track_spans, cells[t], ok)
    for i, constraint in enumerate(request.constraints):
        _apply(constraint, rules, score, f"constraints[{i}]")
    for t, rule in rules.items():
        if not rule.pitch_ok.any():
            raise RequestError(
                f"no pitch satisfies every range and pitch-class constraint on track {_name(score, t)}"
            )
        for pin in rule.pins:
            if not rule.pitch_ok[pin.pitch]:
                raise RequestError(
                    f"the pinned note {pin.pitch} at tick {pin.start} on track {_name(score, t)} breaks its "
                    "range, pitch classes or drum kit"
                )
    return rules


def _apply(constraint, rules: dict[int, TrackRules], score, field_name: str) -> None:
    if isinstance(constraint, PitchClasses):
        tracks = (
            constraint.tracks
            if constraint.tracks is not None
            else [t for t, r in rules.items() if not r.is_drum]
        )
        allowed = np.zeros(128, dtype=bool)
        allowed[[p for p in range(128) if p % 12 in set(constraint.pitch_classes)]] = True
        for t in tracks:
            rule = _written(rules, t, score, field_name)
            if rule.is_drum:
                raise RequestError(
                    f"pitch classes do not apply to the drum track {_name(score, t)}; leave it out of `tracks`",
                    field_name,
                )
            rule.pitch_ok &= allowed
    elif isinstance(constraint, KeepRhythm):
        for t in constraint.tracks if constraint.tracks is not None else list(rules):
            _written(rules, t, score, field_name).keep_rhythm = True
    elif isinstance(constraint, PinnedNotes):
        for pin in constraint.notes:
            _written(rules, pin.track, score, field_name).pins.append(pin)
    else:
        rule = _written(rules, constraint.track, score, field_name)
        if isinstance(constraint, PitchRange):
            band = np.zeros(128, dtype=bool)
            band[constraint.low : constraint.high + 1] = True
            rule.pitch_ok &= band
        elif isinstance(constraint, Polyphony):
            rule.polyphony = constraint.max_notes
        elif isinstance(constraint, NoteDensity):
            rule.notes_per_bar = constraint.notes_per_bar
        elif isinstance(constraint, Instrument):
            rule.program = constraint.program


def _written(rules: dict[int, TrackRules], track: int, score, field_name: str) -> TrackRules:
    if track not in rules:
        raise RequestError(
            f"names track {_name(score, track)}, which no region writes (constraints apply to written tracks)",
            field_name,
        )
    return rules[track]


def _name(score, track: int) -> str:
    name = score.tracks[track].name if track < len(score.tracks) else ""
    return f"{track} ({name!r})" if name else str(track)
