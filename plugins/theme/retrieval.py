"""Theme retrieval: find a piece's theme from its repeated segments.

Theme Transformer needs its themes marked; the retrieval it used was never released. This one
is plain and deterministic. A segment is 2 or 4 whole bars of one line (the highest note at
each onset), with the upbeat before its first bar when the piece opens with a pickup (a
phrase of such a tune starts on the upbeat). Two segments are alike when, after the one
transposition that lines up most of their notes, most of their notes start at the same place
with the same pitch:

    similarity = notes matched / notes of the longer segment

Each segment gathers the segments alike to it (at least SIMILAR) that do not overlap one
another. The largest such group wins; among groups of one size, the one whose earliest member
comes first, then the one most alike. Its earliest member is the theme and the others its
occurrences, each with its transposition from the theme. 4-bar groups are preferred to 2-bar
ones when a 4-bar group repeats at all (a phrase is a better theme than half of one). A piece
in which nothing repeats has no theme.

Repeat signs are not in a Score: a tune read from notation with repeats should be read with
them written out (`expanded`), or its repeated strain counts once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scorehost.core.score import Bar, Note, Score

if TYPE_CHECKING:
    from music21 import stream

SIMILAR = 0.75  # share of the notes that must line up for two segments to be one theme
LENGTHS = (4, 2)  # segment lengths tried, in bars, longest first
MIN_NOTES = 3  # a segment with fewer notes is no theme (one held note repeats everywhere)


@dataclass(frozen=True)
class Occurrence:
    bar: int  # index of its first whole bar (Score.bars())
    start: int  # ticks, its upbeat included
    end: int
    transposition: int  # semitones from the theme
    similarity: float  # to the theme (1.0 for the theme itself)


@dataclass(frozen=True)
class FoundTheme:
    track: int
    bars: int  # length in whole bars
    occurrences: tuple[Occurrence, ...]  # the theme itself first, then the others in time order

    @property
    def theme(self) -> Occurrence:
        return self.occurrences[0]


Line = tuple[tuple[int, int], ...]  # (onset relative to the first downbeat, pitch)


@dataclass(frozen=True)
class _Segment:
    bar: int
    start: int  # the upbeat's start
    downbeat: int  # the first whole bar's start: segments overlap only if their bars do
    end: int
    line: Line


def find_theme(
    score: Score,
    track: int | None = None,
    before: int | None = None,
    *,
    theme_by: int | None = None,
    skip: tuple[tuple[int, int], ...] = (),
) -> FoundTheme | None:
    """The theme of the track (default: the melody, see melody_track), from segments that
    end by tick `before` (default: the whole piece) and overlap no span of `skip` (ticks);
    with `theme_by`, the largest group whose theme ends by that tick (its other occurrences
    may come later). None when nothing repeats."""
    track = melody_track(score) if track is None else track
    if track is None:
        return None
    bars = score.bars()
    upbeat = bars[0].end - bars[0].start if bars and bars[0].is_partial and len(bars) > 1 else 0
    whole = [b for b in bars if not b.is_partial]
    notes = top_line(score.tracks[track].notes)
    for length in LENGTHS:
        segments = [
            s
            for s in _segments(notes, whole, length, upbeat)
            if (before is None or s.end <= before) and not any(s.start < e and b < s.end for b, e in skip)
        ]
        group = _largest_group(segments, theme_by)
        if group is not None:
            return FoundTheme(track, length, group)
    return None


MAX_EXPANSION = 3  # a tune with repeats written out is at most this many times longer


def occurrences_of(score: Score, track: int, first: int, count: int, skip: set[int]) -> list[int]:
    """First bars of the other places the line of `count` bars from bar index `first` comes
    back (at least SIMILAR, any transposition), none overlapping another or a bar in skip."""
    bars = score.bars()
    upbeat = bars[0].end - bars[0].start if bars and bars[0].is_partial and len(bars) > 1 else 0
    segments = _segments(
        top_line(score.tracks[track].notes), [b for b in bars if not b.is_partial], count, upbeat
    )
    theme = next((s for s in segments if s.bar == first), None)
    if theme is None:
        return []
    taken = [theme]
    for other in segments:
        clear = not any(b in skip for b in range(other.bar, other.bar + count))
        if (
            clear
            and not any(_overlap(other, t) for t in taken)
            and similarity(theme.line, other.line)[0] >= SIMILAR
        ):
            taken.append(other)
    return [s.bar for s in taken[1:]]


def expanded(m21score: stream.Score) -> stream.Score:
    """The music21 score with its repeats written out, or as it is when music21 cannot expand
    them (inconsistent repeat marks), there are none, or the expansion comes out more than
    MAX_EXPANSION times as long (music21 loops on some of Aird's tunes: 36 bars became 270)."""
    try:
        out = m21score.expandRepeats()
    except Exception:  # music21 raises several kinds for marks it cannot pair
        return m21score
    before, after = (max(1, len(s.recurse().getElementsByClass("Measure"))) for s in (m21score, out))
    return out if after <= MAX_EXPANSION * before else m21score


def melody_track(score: Score) -> int | None:
    """The track a theme is looked for in: one whose role is melody or soprano, else the
    pitched track with the highest mean pitch."""
    pitched = [i for i, t in enumerate(score.tracks) if not t.is_drum and t.notes]
    for i in pitched:
        if (score.tracks[i].role or "") in ("melody", "soprano"):
            return i
    if not pitched:
        return None
    return max(
        pitched, key=lambda i: sum(n.pitch for n in score.tracks[i].notes) / len(score.tracks[i].notes)
    )


def top_line(notes: list[Note]) -> list[Note]:
    """The highest note at each onset, in time order."""
    highest: dict[int, Note] = {}
    for n in notes:
        if n.start not in highest or n.pitch > highest[n.start].pitch:
            highest[n.start] = n
    return [highest[t] for t in sorted(highest)]


def similarity(a: Line, b: Line) -> tuple[float, int]:
    """How alike two segments are, and the transposition (b minus a) that lines them up."""
    if not a or not b:
        return 0.0, 0
    at = dict(a)
    shifts = Counter(pitch - at[onset] for onset, pitch in b if onset in at)
    if not shifts:
        return 0.0, 0
    # the most common shift; the smaller one (in size, then sign) when two tie, so results repeat
    shift = max(shifts, key=lambda s: (shifts[s], -abs(s), s))
    return shifts[shift] / max(len(a), len(b)), shift


def _segments(notes: list[Note], bars: list[Bar], length: int, upbeat: int) -> list[_Segment]:
    """Every run of `length` consecutive whole bars with enough notes, with the upbeat
    before it."""
    out = []
    for i in range(len(bars) - length + 1):
        run = bars[i : i + length]
        if any(run[k + 1].start != run[k].end for k in range(length - 1)):
            continue  # a partial bar between them: not consecutive bars of one meter
        downbeat, end = run[0].start, run[-1].end
        # The next phrase's upbeat sits at the end of this segment: it belongs to that one.
        start, stop = max(0, downbeat - upbeat), end - upbeat
        line = tuple((n.start - downbeat, n.pitch) for n in notes if start <= n.start < stop)
        if len(line) >= MIN_NOTES:
            out.append(_Segment(run[0].index, start, downbeat, stop if upbeat else end, line))
    return out


def _largest_group(segments: list[_Segment], theme_by: int | None = None) -> tuple[Occurrence, ...] | None:
    """The winning group: most members, then the earliest theme, then the most alike; with
    theme_by, only groups whose theme ends by that tick."""
    best, best_rank = None, None
    for seed in segments:
        group = _group(seed, segments)
        if len(group) < 2 or (theme_by is not None and group[0].end > theme_by):
            continue
        rank = (len(group), -group[0].start, sum(o.similarity for o in group))
        if best_rank is None or rank > best_rank:
            best, best_rank = group, rank
    return best


def _group(seed: _Segment, segments: list[_Segment]) -> tuple[Occurrence, ...]:
    """The seed and the segments alike to it, the most alike first, each overlapping none
    taken before it (so a near-copy one bar off cannot crowd out the true repeat). The earliest
    member is the theme; transpositions and similarities are then measured from it."""
    alike = []
    for other in segments:
        if other is not seed and not _overlap(other, seed):
            sim, _ = similarity(seed.line, other.line)
            if sim >= SIMILAR:
                alike.append((-sim, other.start, other))
    taken = [seed]
    for _, _, other in sorted(alike, key=lambda x: (x[0], x[1])):
        if not any(_overlap(other, t) for t in taken):
            taken.append(other)
    theme = min(taken, key=lambda s: s.start)
    out = [Occurrence(theme.bar, theme.start, theme.end, 0, 1.0)]
    for member in sorted(taken, key=lambda s: s.start):
        if member is not theme:
            sim, shift = similarity(theme.line, member.line)
            out.append(Occurrence(member.bar, member.start, member.end, shift, round(sim, 3)))
    return tuple(out)


def _overlap(a: _Segment, b: _Segment) -> bool:
    return a.downbeat < b.end and b.downbeat < a.end
