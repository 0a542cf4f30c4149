"""What a region owns, and how a model's output is merged back so context stays note for note.

A region owns the notes of its track whose onsets lie in [start, end). The merge keeps every
other note of the input exactly and takes only owned notes from the model, cut at the end of
the written span, so no model (third-party ones included) can change context by mistake.
"""

from __future__ import annotations

from collections import defaultdict

from .constraints import Outcome
from .errors import ScorehostError
from .requests import EditRequest, Region
from .score import Note, Score
from .spans import in_spans, is_written, span_of

__all__ = ["constraint_violations", "in_spans", "is_written", "merge_result", "spans_by_track"]


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


def merge_result(original: Score, generated: Score, regions: list[Region]) -> Score:
    """The original score with the regions' notes taken from the generated one.

    Everything else of a track comes from the original (name, channel, role, controller
    events), so what a model leaves out of its tracks is not lost; only the program follows
    the model's (the instrument constraint sets it)."""
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
        kept = [n for n in old.notes if span_of(track_spans, n.start) is None]
        written = []
        for n in new.notes:
            span = span_of(track_spans, n.start)
            if span is not None:
                end = min(n.end, span[1])
                written.append(n if end == n.end else n.model_copy(update={"duration": end - n.start}))
        notes = sorted(kept + written, key=Note.key)
        tracks.append(old.model_copy(update={"notes": notes, "program": new.program}))
    return original.model_copy(update={"tracks": tracks}).normalized()


def constraint_violations(request: EditRequest, result: Score) -> list[str]:
    """Hard constraints the result breaks (empty when it obeys them all)."""
    outcome = Outcome(before=request.score, after=result, spans=spans_by_track(request.regions))
    return [problem for constraint in request.constraints for problem in constraint.violations(outcome)]
