"""How a request is cut into windows the model can see: which bars and tracks each pass
fills, and which bars and tracks around them it reads.

A pass fills up to FILL_BARS consecutive bars of up to FILL_TRACKS tracks. It reads bars
before it (already final: earlier passes wrote them) and bars after it that no later pass
will rewrite, so the model never sees material that is about to be replaced; the window
holds at most WINDOW_BARS bars, the longest the model was trained on. Passes run in
time order, so a 64-bar region is written left to right, each pass reading what the last
one wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

from scorehost.core.regions import spans_by_track
from scorehost.core.requests import Region
from scorehost.core.score import Bar, Score

FILL_BARS = 4
FILL_TRACKS = 6
WINDOW_TRACKS = 8
WINDOW_BARS = 8  # as in training: a window never holds more bars than the model learned on


@dataclass(frozen=True)
class Pass:
    fill_bars: tuple[int, ...]  # bar indices to fill
    tracks: tuple[int, ...]  # tracks written in this pass
    before: tuple[int, ...]  # context bars before
    after: tuple[int, ...]  # context bars after


def written_cells(score: Score, regions: list[Region]) -> dict[int, list[int]]:
    """Track -> indices of the bars where it has a written span."""
    spans = spans_by_track(regions)
    bars = score.bars()
    return {
        track: [b.index for b in bars if any(s < b.end and b.start < e for s, e in track_spans)]
        for track, track_spans in sorted(spans.items())
    }


def plan_passes(score: Score, regions: list[Region], context_bars: int) -> list[Pass]:
    bars = score.bars()
    cells = written_cells(score, regions)
    runs = _runs(sorted({b for indices in cells.values() for b in indices}))
    passes = []
    for run in runs:
        for i in range(0, len(run), FILL_BARS):
            chunk = run[i : i + FILL_BARS]
            tracks = sorted(t for t, indices in cells.items() if set(indices) & set(chunk))
            for j in range(0, len(tracks), FILL_TRACKS):
                passes.append((tuple(chunk), tuple(tracks[j : j + FILL_TRACKS])))
    pending = {(t, b) for t, indices in cells.items() for b in indices}
    out = []
    for chunk, tracks in passes:
        pending -= {(t, b) for t in tracks for b in chunk}
        busy_later = {b for _, b in pending}
        room = WINDOW_BARS - len(chunk)  # context bars, shared out between both sides
        after = []
        for b in range(chunk[-1] + 1, min(len(bars), chunk[-1] + 1 + min(context_bars, room // 2))):
            if b in busy_later:
                break
            after.append(b)
        before = tuple(range(max(0, chunk[0] - min(context_bars, room - len(after))), chunk[0]))
        out.append(Pass(chunk, tracks, before, tuple(after)))
    return out


def _runs(indices: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for index in indices:
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def window_bars(bars: list[Bar], p: Pass) -> list[Bar]:
    return [bars[i] for i in (*p.before, *p.fill_bars, *p.after)]
