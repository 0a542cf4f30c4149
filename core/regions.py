"""What a region owns, and how a model's output is merged back so context stays note for note.

A region owns the notes of its track whose onsets lie in [start, end). The merge keeps every
other note of the input exactly and takes only owned notes from the model, cut at the end of
the written span, so no model (third-party ones included) can change context by mistake.
"""

from __future__ import annotations

from collections import defaultdict

from .errors import ScorehostError
from .requests import (
    EditRequest,
    Instrument,
    KeepRhythm,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Polyphony,
    Region,
)
from .score import Note, Score, most_at_once


def spans_by_track(regions: list[Region]) -> dict[int, list[tuple[int, int]]]:
    """Each track's written spans, merged where they touch or overlap, in order."""
    raw: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for region in regions:
        raw[region.track].append((region.start, region.end))
    merged: dict[int, list[tuple[int, int]]] = {}
    for track, spans in raw.items():
        out: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], max(out[-1][1], end))
            else:
                out.append((start, end))
        merged[track] = out
    return merged


def _span_of(spans: list[tuple[int, int]], tick: int) -> tuple[int, int] | None:
    for start, end in spans:
        if start <= tick < end:
            return start, end
    return None


def is_written(spans: dict[int, list[tuple[int, int]]], track: int, tick: int) -> bool:
    return _span_of(spans.get(track, []), tick) is not None


def merge_result(original: Score, generated: Score, regions: list[Region]) -> Score:
    """The original score with the regions' notes taken from the generated one."""
    if len(generated.tracks) != len(original.tracks):
        raise ScorehostError(
            f"the model returned {len(generated.tracks)} tracks for a score of {len(original.tracks)}"
        )
    spans = spans_by_track(regions)
    tracks = []
    for index, (old, new) in enumerate(zip(original.tracks, generated.tracks, strict=True)):
        track_spans = spans.get(index)
        if not track_spans:
            tracks.append(old)
            continue
        kept = [n for n in old.notes if _span_of(track_spans, n.start) is None]
        written = []
        for n in new.notes:
            span = _span_of(track_spans, n.start)
            if span is not None:
                end = min(n.end, span[1])
                written.append(n if end == n.end else n.model_copy(update={"duration": end - n.start}))
        notes = sorted(kept + written, key=Note.key)
        tracks.append(old.model_copy(update={"notes": notes, "program": new.program}))
    return original.model_copy(update={"tracks": tracks}).normalized()


def constraint_violations(request: EditRequest, result: Score) -> list[str]:
    """Hard constraints the result breaks (empty when it obeys them all)."""
    spans = spans_by_track(request.regions)
    written = {
        index: [n for n in track.notes if is_written(spans, index, n.start)]
        for index, track in enumerate(result.tracks)
    }
    problems: list[str] = []
    for constraint in request.constraints:
        if isinstance(constraint, PinnedNotes):
            for pin in constraint.notes:
                if not any(
                    n.start == pin.start
                    and n.pitch == pin.pitch
                    and (pin.duration is None or n.duration == pin.duration)
                    for n in written[pin.track]
                ):
                    problems.append(
                        f"pinned note {pin.pitch} at tick {pin.start} on track {pin.track} is missing"
                    )
        elif isinstance(constraint, PitchRange):
            outside = [
                n.pitch for n in written[constraint.track] if not constraint.low <= n.pitch <= constraint.high
            ]
            if outside:
                problems.append(
                    f"track {constraint.track} has notes outside {constraint.low}..{constraint.high}: {outside[:5]}"
                )
        elif isinstance(constraint, PitchClasses):
            allowed = set(constraint.pitch_classes)
            for index in constraint.tracks or list(spans):
                bad = [n.pitch for n in written[index] if n.pitch % 12 not in allowed]
                if bad:
                    problems.append(f"track {index} has notes outside the allowed pitch classes: {bad[:5]}")
        elif isinstance(constraint, KeepRhythm):
            for index in constraint.tracks or list(spans):
                before = _rhythm(request.score, spans, index)
                after = _rhythm(result, spans, index)
                if before != after:
                    problems.append(f"track {index} does not keep the rhythm it had")
        elif isinstance(constraint, Polyphony):
            most = most_at_once(written[constraint.track])
            if most > constraint.max_notes:
                problems.append(
                    f"track {constraint.track} has {most} notes sounding at once (limit {constraint.max_notes})"
                )
        elif (
            isinstance(constraint, Instrument)
            and result.tracks[constraint.track].program != constraint.program
        ):
            problems.append(f"track {constraint.track} is not set to program {constraint.program}")
    return problems


def _rhythm(score: Score, spans, index: int) -> list[tuple[int, int]]:
    return sorted(
        {(n.start, n.duration) for n in score.tracks[index].notes if is_written(spans, index, n.start)}
    )
