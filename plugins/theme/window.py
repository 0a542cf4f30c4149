"""One pass of one variation as a sampler row: the window's prompt and a bar grammar per bar to
fill; and the drawn notes written back into the variation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scorehost.core.errors import RequestError
from scorehost.core.score import Bar, Note
from scorehost.plugins.lib.bartokens import bar_tokens
from scorehost.plugins.lib.grammar import BarSpec, onset_spans, pin_positions
from scorehost.plugins.lib.sampling import Row
from scorehost.plugins.lib.vocab import Vocab, ticks_per_position

from .sequence import Cell, TrackRow, window_prompt

if TYPE_CHECKING:
    from .model import Pass, Working, _Job
    from .rules import TrackRules

WINDOW_TRACKS = 4
FILL_RESERVE = 96  # tokens kept free for each bar to fill


def build_row(j: _Job, w: Working, p: Pass, vocab: Vocab, context: int, baseline: bool):
    """The row to sample, and (track, bar, spec) per placeholder in fill order."""
    bars = j.request.score.bars()
    before, after = list(p.before), list(p.after)
    written = sorted(t for t, r in j.rules.items() if set(r.bars) & set(p.fill))
    others = _context_tracks(j, w, bars, p, written)
    while True:
        window = [bars[i] for i in (*before, *p.fill, *after)]
        rows, specs = _rows(j, w, p, vocab, window, [*others, *written])
        timesigs = [
            vocab.timesig_token(b.time_signature.numerator, b.time_signature.denominator) for b in window
        ]
        prompt = window_prompt(timesigs, rows, vocab, j.theme_tokens if baseline else None)
        if len(prompt) + FILL_RESERVE * len(specs) <= context:
            break
        if before or after:  # drop the context bar farthest from the fill
            before.pop(0) if len(before) >= len(after) else after.pop()
        elif others:
            others.pop(0)
        else:
            raise RequestError(
                "the bars to fill hold more music than theme reads at once; select fewer tracks", "regions"
            )
    seed = (w.seed * 1009 + p.fill[0]) % 2**63
    return Row(prompt=prompt, bars=[s for _, _, s in specs], seed=seed), specs


def _context_tracks(j: _Job, w: Working, bars: list[Bar], p: Pass, written: list[int]) -> list[int]:
    """Tracks read beside the written ones: the theme's first, then the busiest, in all at
    most WINDOW_TRACKS."""
    lo, hi = bars[min((*p.before, *p.fill))].start, bars[max((*p.fill, *p.after))].end
    counts = {
        t: sum(1 for n in notes if lo <= n.start < hi) for t, notes in enumerate(w.tracks) if t not in written
    }
    busy = sorted((t for t, c in counts.items() if c), key=lambda t: (t not in j.theme.tracks, -counts[t], t))
    return busy[: max(0, WINDOW_TRACKS - len(written))][::-1]  # the nearest to the fills last


def _rows(j: _Job, w: Working, p: Pass, vocab: Vocab, window: list[Bar], tracks: list[int]):
    score = j.request.score
    fill = set(p.fill)
    rows, specs = [], []
    for t in tracks:
        track, rule = score.tracks[t], j.rules.get(t)
        row = TrackRow(rule.program if rule else track.program, track.is_drum)
        for bar in window:
            opens, closes = j.marks.get(bar.index, (False, False))
            if rule and bar.index in fill and bar.index in rule.bars:
                row.cells.append(Cell(None))
                specs.append((t, bar, _spec(w, rule, bar)))
            elif rule and bar.index in rule.bars and (t, bar.index) not in w.done:
                row.cells.append(Cell([]))  # a later pass rewrites it: not shown
            else:
                notes = [n for n in w.tracks[t] if bar.start <= n.start < bar.end]
                row.cells.append(Cell(bar_tokens(notes, bar, track.is_drum, vocab), opens, closes))
        rows.append(row)
    return rows, specs


def _spec(w: Working, rule: TrackRules, bar: Bar) -> BarSpec:
    in_bar = [(max(s, bar.start), min(e, bar.end)) for s, e in rule.spans if s < bar.end and bar.start < e]
    pins, lengths = pin_positions(rule.pins, bar)
    return BarSpec(
        bar=bar,
        is_drum=False,
        span_ends=onset_spans(bar, in_bar),
        pitch_ok=rule.pitch_ok,
        sounding=w.sounding[rule.track],
        pins=pins,
        pin_lengths=lengths,
        must_write=bar.index == rule.bars[-1],  # a region never comes back silent
        markers=True,
    )


def take_notes(w: Working, row: Row, specs, rules: dict[int, TrackRules]) -> None:
    """Write a sampled row's notes into the variation, pinned notes on their exact ticks."""
    w.log_prob += row.log_prob
    for (t, bar, _), grammar in zip(specs, row.grammars, strict=True):
        step = ticks_per_position(bar.time_signature.denominator)
        notes = [
            Note(start=bar.start + g.position * step, duration=g.ticks, pitch=g.pitch, velocity=g.velocity)
            for g in grammar.notes
        ]
        w.tracks[t].extend(_exact(notes, rules[t], bar, step))
        w.done.add((t, bar.index))


def _exact(notes: list[Note], rule: TrackRules, bar: Bar, step: int) -> list[Note]:
    """Pinned notes on their exact ticks and lengths (the grid only approximates them)."""
    for pin in rule.pins:
        if not bar.start <= pin.start < bar.end:
            continue
        grid = bar.start + (pin.start - bar.start) // step * step
        for i, n in enumerate(notes):
            if n.pitch == pin.pitch and n.start == grid:
                end = n.end if pin.duration is None else pin.start + pin.duration
                notes[i] = n.model_copy(update={"start": pin.start, "duration": max(1, end - pin.start)})
                break
    return notes
