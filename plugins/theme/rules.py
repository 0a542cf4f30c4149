"""What a request asks of theme, checked before it is queued: the theme (named, or retrieved from
the context before the regions), and per written track its pitches, program and pins.

Every conflict is refused here with a message naming the part of the request at fault, so
decoding can treat the constraints as hard masks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scorehost.core.errors import RequestError
from scorehost.core.regions import spans_by_track
from scorehost.core.requests import (
    EditRequest,
    Instrument,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Theme,
)
from scorehost.core.score import Score
from scorehost.plugins.lib.vocab import METERS, Vocab

from .data import track_cells
from .retrieval import find_theme, melody_track
from .sequence import Cell, TrackRow, theme_sequence


@dataclass
class ThemeChoice:
    """The theme a request develops: a span of some tracks, and how it was chosen."""

    tracks: list[int]
    start: int
    end: int
    retrieved: bool = False
    recurs_at: list[int] = field(default_factory=list)  # bar numbers where retrieval found it again

    def describe(self, score: Score) -> str:
        names = ", ".join(
            f"{t} ({score.tracks[t].name})" if score.tracks[t].name else str(t) for t in self.tracks
        )
        text = f"theme: {self.bars_label(score)} of track {names}"
        if self.retrieved:
            text += ", taken from the context before the region (retrieval"
            text += f"; it recurs at {_bar_list(self.recurs_at)})" if self.recurs_at else ")"
        return text

    def bars_label(self, score: Score) -> str:
        """The bars as printed: the whole bars the theme fills more than half of (an upbeat is
        no bar of its own)."""
        touched = [b for b in score.bars() if b.start < self.end and self.start < b.end]
        bars = [
            b for b in touched if not b.is_partial and 2 * _overlap(b, self.start, self.end) > b.end - b.start
        ]
        bars = bars or touched
        return f"bars {bars[0].number}-{bars[-1].number}" if len(bars) > 1 else f"bar {bars[0].number}"


def _bar_list(numbers: list[int]) -> str:
    """bar 9, bars 9 and 26, bars 9, 17 and 26."""
    if len(numbers) == 1:
        return f"bar {numbers[0]}"
    return f"bars {', '.join(map(str, numbers[:-1]))} and {numbers[-1]}"


def _overlap(bar, start: int, end: int) -> int:
    return min(bar.end, end) - max(bar.start, start)


@dataclass
class TrackRules:
    track: int
    program: int
    spans: list[tuple[int, int]]
    bars: list[int]  # bar indices with a written span
    pitch_ok: np.ndarray  # (128,) bool
    pins: list[PinnedNote] = field(default_factory=list)


def choose_theme(request: EditRequest, vocab: Vocab, theme_context: int) -> ThemeChoice:
    """The request's theme constraint, checked, or the theme retrieval finds before the regions."""
    given = [(i, c) for i, c in enumerate(request.constraints) if isinstance(c, Theme)]
    if len(given) > 1:
        raise RequestError("name one theme per request", f"constraints[{given[1][0]}]")
    if given:
        i, theme = given[0]
        tracks = [theme.track] if theme.track is not None else _pitched_with_notes(request.score, theme)
        choice = ThemeChoice(tracks, theme.start, theme.end)
        _check_theme(request, choice, vocab, theme_context, f"constraints[{i}]")
        return choice
    return _retrieved(request, vocab, theme_context)


def _pitched_with_notes(score: Score, theme: Theme) -> list[int]:
    return [
        t
        for t, track in enumerate(score.tracks)
        if not track.is_drum and any(theme.start <= n.start < theme.end for n in track.notes)
    ]


def _retrieved(request: EditRequest, vocab: Vocab, theme_context: int) -> ThemeChoice:
    score = _without_regions(request)
    track = melody_track(score)
    # The theme comes from the context before the first region on the melody's track (from
    # anywhere in the melody when no region writes it: a new track under it); it may recur
    # anywhere in the context, after the region too.
    written = tuple((r.start, r.end) for r in request.regions if r.track == track)
    before = min((start for start, _ in written), default=None)
    found = find_theme(score, track, theme_by=before, skip=written) if track is not None else None
    if found is None:
        raise RequestError(
            "no theme was given, and no phrase before the region comes back elsewhere in the "
            "score; name one (e.g. --constraint theme:1-4)",
            "constraints",
        )
    bars = score.bars()
    recurs = [bars[o.bar].number for o in found.occurrences[1:]]
    choice = ThemeChoice([found.track], found.theme.start, found.theme.end, True, recurs)
    _check_theme(request, choice, vocab, theme_context, "constraints")
    return choice


def _without_regions(request: EditRequest) -> Score:
    """The score as the model reads it: the regions' notes are to be rewritten."""
    spans = spans_by_track(request.regions)
    tracks = [
        t.model_copy(
            update={"notes": [n for n in t.notes if not any(s <= n.start < e for s, e in spans.get(i, []))]}
        )
        for i, t in enumerate(request.score.tracks)
    ]
    return request.score.model_copy(update={"tracks": tracks})


def _check_theme(request: EditRequest, choice: ThemeChoice, vocab: Vocab, limit: int, where: str) -> None:
    score = request.score
    for r, region in enumerate(request.regions):
        if region.track in choice.tracks and region.start < choice.end and choice.start < region.end:
            raise RequestError(
                f"the theme ({choice.start}..{choice.end}) overlaps region {r} on track {region.track}: "
                "the theme must stay as it is; select the bars to develop it in apart from it",
                where,
            )
    notes = [n for t in choice.tracks for n in score.tracks[t].notes if choice.start <= n.start < choice.end]
    if len(notes) < 2:
        raise RequestError(
            f"the theme holds {len(notes)} note{'s' * (len(notes) != 1)}; a theme to develop needs at least two",
            where,
        )
    length = len(theme_tokens(score, choice, vocab))
    if length > limit:
        raise RequestError(
            f"the theme is {length} tokens long, more than the {limit} the model reads; "
            "select fewer bars or one track",
            where,
        )


def theme_tokens(score: Score, choice: ThemeChoice, vocab: Vocab) -> list[int]:
    """The encoder's sequence of the theme: its bars, with only the notes inside its span."""
    bars = [b for b in score.bars() if b.start < choice.end and choice.start < b.end]
    first = bars[0].index
    timesigs = [_timesig(vocab, b) for b in bars]
    rows = []
    for t in choice.tracks:
        cells = track_cells(score, t, vocab, (choice.start, choice.end))[first : first + len(bars)]
        rows.append(TrackRow(score.tracks[t].program, score.tracks[t].is_drum, [Cell(c) for c in cells]))
    return theme_sequence(timesigs, rows, vocab)


def _timesig(vocab: Vocab, bar) -> int:
    ts = bar.time_signature
    token = vocab.timesig_token(ts.numerator, ts.denominator)
    if token is None:
        known = ", ".join(f"{n}/{d}" for d, ns in sorted(METERS.items()) for n in ns)
        raise RequestError(
            f"theme cannot read bar {bar.number} in {ts.numerator}/{ts.denominator}; it knows {known}"
        )
    return token


def rules_for(request: EditRequest, vocab: Vocab) -> dict[int, TrackRules]:
    """Per written track: its spans and bars, allowed pitches, program and pins."""
    score = request.score
    bars = score.bars()
    rules = {}
    for t, spans in spans_by_track(request.regions).items():
        written = [b.index for b in bars if any(s < b.end and b.start < e for s, e in spans)]
        for b in written:
            _timesig(vocab, bars[b])
        rules[t] = TrackRules(t, score.tracks[t].program, spans, written, np.ones(128, dtype=bool))
    for i, constraint in enumerate(request.constraints):
        _apply(constraint, rules, score, f"constraints[{i}]")
    for t, rule in rules.items():
        if not rule.pitch_ok.any():
            raise RequestError(f"no pitch satisfies every range and pitch-class constraint on track {t}")
        for pin in rule.pins:
            if not rule.pitch_ok[pin.pitch]:
                raise RequestError(
                    f"the pinned note {pin.pitch} at tick {pin.start} on track {t} breaks its range or pitch classes"
                )
    return rules


def _apply(constraint, rules: dict[int, TrackRules], score: Score, where: str) -> None:
    if isinstance(constraint, PitchClasses):
        allowed = np.array([p % 12 in set(constraint.pitch_classes) for p in range(128)])
        for t in constraint.tracks if constraint.tracks is not None else list(rules):
            _written(rules, t, where).pitch_ok &= allowed
    elif isinstance(constraint, PinnedNotes):
        for pin in constraint.notes:
            _written(rules, pin.track, where).pins.append(pin)
    elif isinstance(constraint, PitchRange):
        band = np.zeros(128, dtype=bool)
        band[constraint.low : constraint.high + 1] = True
        _written(rules, constraint.track, where).pitch_ok &= band
    elif isinstance(constraint, Instrument):
        _written(rules, constraint.track, where).program = constraint.program


def _written(rules: dict[int, TrackRules], track: int, where: str) -> TrackRules:
    if track not in rules:
        raise RequestError(
            f"names track {track}, which no region writes (constraints apply to written tracks)", where
        )
    return rules[track]
