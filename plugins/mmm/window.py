"""One variation's working score, and the sequence (prompt + bar grammars) of each pass."""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scorehost.core.errors import RequestError
from scorehost.core.regions import in_spans
from scorehost.core.requests import EditRequest, Variation
from scorehost.core.score import Bar, Note, most_at_once
from scorehost.plugins.lib.bartokens import bar_tokens
from scorehost.plugins.lib.grammar import BarSpec, Sounding, onset_spans
from scorehost.plugins.lib.vocab import DENSITY_LEVELS, METERS, Vocab, instrument_family, ticks_per_position

from .constraints import TrackRules
from .options import MMMOptions
from .plan import WINDOW_TRACKS, Pass
from .repetition import SOURCE_REACH, copy_weights, repeats, source_tokens
from .sequence import TrackRow, Window, density_level, notes_by_bar, poly_level, prompt

if TYPE_CHECKING:
    from scorehost.plugins.lib.sampling import Row

FILL_RESERVE = (24, 160)  # tokens kept free per bar to fill: at least, at most


@dataclass
class Working:
    """A variation being written: notes per track (the regions emptied, then refilled)."""

    request: EditRequest
    rules: dict[int, TrackRules]
    options: MMMOptions
    seed: int
    tracks: list[list[Note]] = field(default_factory=list)
    sounding: dict[int, Sounding] = field(default_factory=dict)
    done: set[tuple[int, int]] = field(default_factory=set)  # (track, bar) written
    log_prob: float = 0.0
    drawn: int = 0  # tokens drawn over every pass
    reported_seed: int | None = None  # the variation's seed, when this is one of its candidates

    @classmethod
    def start(
        cls, request: EditRequest, rules: dict[int, TrackRules], options: MMMOptions, seed: int
    ) -> Working:
        working = cls(request, rules, options, seed)
        working.reset(seed)
        return working

    def reset(self, seed: int) -> None:
        self.seed, self.log_prob, self.drawn, self.done = seed, 0.0, 0, set()
        self.reported_seed = None
        self.tracks = [
            [n for n in track.notes if t not in self.rules or not in_spans(self.rules[t].spans, n.start)]
            for t, track in enumerate(self.request.score.tracks)
        ]
        self.sounding = {t: Sounding(limit=r.polyphony) for t, r in self.rules.items()}

    def mean_log_prob(self) -> float:
        """Per drawn token: how likely the network finds what it wrote (ranks candidates
        without favouring fewer notes, as a total would)."""
        return self.log_prob / max(1, self.drawn)

    def written_key(self) -> tuple:
        return tuple(
            tuple(sorted(n.key() for n in self.tracks[t] if in_spans(r.spans, n.start)))
            for t, r in sorted(self.rules.items())
        )

    def variation(self) -> Variation:
        score = self.request.score
        tracks = [
            track.model_copy(
                update={"notes": sorted(self.tracks[t], key=Note.key)}
                | ({"program": self.rules[t].program} if t in self.rules else {})
            )
            for t, track in enumerate(score.tracks)
        ]
        return Variation(
            score=score.model_copy(update={"tracks": tracks}),
            log_prob=self.log_prob,
            seed=self.seed if self.reported_seed is None else self.reported_seed,
        )


def check_meters(request: EditRequest, vocab: Vocab) -> None:
    """Refuse, naming the meter, a bar to fill whose time signature has no token."""
    from .plan import written_cells

    bars = request.score.bars()
    for indices in written_cells(request.score, request.regions).values():
        for b in indices:
            ts = bars[b].time_signature
            if vocab.timesig_token(ts.numerator, ts.denominator) is None:
                known = ", ".join(f"{n}/{d}" for d, ns in sorted(METERS.items()) for n in ns)
                raise RequestError(
                    f"mmm cannot write bar {bars[b].number} in {ts.numerator}/{ts.denominator}; it knows {known}",
                    "regions",
                )


# ---- one pass ---------------------------------------------------------------------------------


def build_rows(working: Working, p: Pass, rules: dict[int, TrackRules], vocab: Vocab, context: int):
    """The row to sample for one pass of one variation, and (track, bar, spec) per placeholder."""
    from scorehost.plugins.lib.sampling import Row  # torch: only once a request is served

    score = working.request.score
    bars = score.bars()
    before, after = list(p.before), list(p.after)
    others = _context_tracks(working, p, bars)
    reserves: dict[tuple[int, int], int] = {}
    counts: dict[int, Counter] = {}  # track -> notes per bar index
    while True:
        window_bars = [bars[i] for i in (*before, *p.fill_bars, *after)]
        # Context tracks first, written ones last: a track's own bars then sit right before its
        # fill section, where a small network attends best (in index order, soprano fills read
        # the bass as their nearest track and came out in its register).
        tracks = sorted(set(others) - set(p.tracks)) + sorted(p.tracks)
        window, specs = _window(working, p, rules, vocab, window_bars, tracks)
        tokens = prompt(window, vocab)
        for t, bar, _ in specs:  # the same cells each time round: counted once
            if (t, bar.index) not in reserves:
                if t not in counts:
                    counts[t] = _notes_per_bar(working.tracks[t], bars)
                reserves[(t, bar.index)] = _reserve(counts[t], len(working.tracks[t]), bars, bar)
        reserve = sum(reserves[(t, bar.index)] for t, bar, _ in specs)
        if len(tokens) + reserve <= context:
            break
        if before or after:  # drop the context bar farthest from the fill
            (before.pop(0) if len(before) >= len(after) else after.pop())
        elif others:
            others.pop()
        else:
            raise RequestError(
                "the bars to fill hold more music than mmm reads at once; select fewer bars or tracks",
                "regions",
            )
    row = Row(
        prompt=tokens, bars=[s for _, _, s in specs], seed=(working.seed * 1009 + p.fill_bars[0]) % 2**63
    )
    return row, specs


def _context_tracks(working: Working, p: Pass, bars: list[Bar]) -> list[int]:
    """Tracks read beside the written ones, busiest first, at most WINDOW_TRACKS in all."""
    lo = bars[min((*p.before, *p.fill_bars))].start
    hi = bars[max((*p.fill_bars, *p.after))].end
    counts = {
        t: sum(1 for n in notes if lo <= n.start < hi)
        for t, notes in enumerate(working.tracks)
        if t not in p.tracks
    }
    busy = sorted((t for t, c in counts.items() if c), key=lambda t: -counts[t])
    return busy[: max(0, WINDOW_TRACKS - len(p.tracks))]


def _window(working: Working, p: Pass, rules, vocab: Vocab, window_bars: list[Bar], tracks: list[int]):
    score = working.request.score
    fill = set(p.fill_bars)
    rows, specs = [], []
    for t in tracks:
        track = score.tracks[t]
        rule = rules.get(t)
        by_bar = notes_by_bar(track.model_copy(update={"notes": working.tracks[t]}), window_bars)
        cells: list[list[int] | None] = []
        known: list[list[Note]] = []
        holes: list[Bar] = []
        for bar, notes in zip(window_bars, by_bar, strict=True):
            if rule and t in p.tracks and bar.index in fill and bar.index in rule.bars:
                cells.append(None)
                holes.append(bar)
            elif rule and bar.index in rule.bars and (t, bar.index) not in working.done:
                cells.append([])  # to be rewritten by a later pass: not shown
            else:
                cells.append(bar_tokens(notes, bar, track.is_drum, vocab))
                known.append(notes)
        program = rule.program if rule else track.program
        density, poly = _controls(working, t, rule, known, vocab)
        rows.append(TrackRow(program, track.is_drum, density, poly, cells))
        floor = _density_floor(vocab, program, track.is_drum, density, working.options.density_floor)
        copy = _copy(working, t, rule, holes, vocab) if holes else None
        specs += [(t, bar, _spec(working, rule, bar, floor, vocab, copy)) for bar in holes]
    timesigs = [
        vocab.timesig_token(b.time_signature.numerator, b.time_signature.denominator) for b in window_bars
    ]
    return Window(timesigs, rows), specs


def _controls(working: Working, t: int, rule: TrackRules | None, known: list[list[Note]], vocab: Vocab):
    """Density and polyphony levels: asked for, else measured on what the window shows of the
    track, else on the whole track, else the instrument family's usual ones."""
    track = working.request.score.tracks[t]
    program = rule.program if rule else track.program
    family = instrument_family(program, track.is_drum)
    notes = [n for bar in known for n in bar] or working.tracks[t]
    if rule and rule.notes_per_bar is not None:
        density = vocab.density_level(family, rule.notes_per_bar)
    elif any(known):
        density = density_level(program, track.is_drum, [len(b) for b in known], vocab)
    else:
        density = DENSITY_LEVELS // 2
    if rule and rule.polyphony is not None:
        poly = poly_level(rule.polyphony)
    elif notes:
        poly = poly_level(max(most_at_once(b) for b in known) if any(known) else most_at_once(notes))
    else:
        poly = vocab.default_poly(family)
    return density, poly


def _density_floor(vocab: Vocab, program: int, is_drum: bool, level: int, share: float) -> float:
    """Fewest notes per bar a filled bar may hold: a share of where the track's density
    level starts, so a busy track's bars do not come back nearly empty."""
    bins = vocab.density_bins.get(instrument_family(program, is_drum)) or vocab.density_bins.get("all") or []
    return share * (bins[level - 1] if 0 < level <= len(bins) else 0.0)


def _copy(working: Working, t: int, rule: TrackRules, holes: list[Bar], vocab: Vocab):
    """copy(bar) -> (source tokens, weights) for the track's filled bars (see repetition.py)."""
    share = working.options.repetition
    bars = working.request.score.bars()
    unknown = {b for b in rule.bars if (t, b) not in working.done}
    is_drum = working.request.score.tracks[t].is_drum
    around = range(
        max(0, holes[0].index - SOURCE_REACH // 2), min(len(bars), holes[-1].index + 1 + SOURCE_REACH // 2)
    )
    cells = [bar_tokens(working.tracks[t], bars[i], is_drum, vocab) for i in around if i not in unknown]
    rhythm, pitch = repeats(cells, vocab) if share > 0 else (0.0, 0.0)
    if not rhythm and not pitch:
        return None

    def of(bar: Bar) -> tuple[list[int] | None, tuple[float, float]]:
        source = source_tokens(working.tracks[t], bars, bar, is_drum, unknown, vocab)
        return source, copy_weights(share, rhythm, pitch)

    return of


def _spec(working: Working, rule: TrackRules, bar: Bar, floor: float, vocab: Vocab, copy=None) -> BarSpec:
    step = ticks_per_position(bar.time_signature.denominator)
    in_bar = [(max(s, bar.start), min(e, bar.end)) for s, e in rule.spans if s < bar.end and bar.start < e]
    span_ends = onset_spans(bar, in_bar)
    pins: dict[int, list[int]] = {}
    lengths: dict[tuple[int, int], int] = {}
    for pin in rule.pins:
        if bar.start <= pin.start < bar.end:
            position = (pin.start - bar.start) // step
            pins.setdefault(position, []).append(pin.pitch)
            if pin.duration is not None:
                lengths[(position, pin.pitch)] = pin.duration
    rhythm = None
    if rule.keep_rhythm:
        rhythm = [((n.start - bar.start) // step, n.duration) for n in _kept_rhythm(working, rule, bar)]
    must_write = not working.options.allow_silence and bar.index == rule.bars[-1]
    covered = sum(e - s for s, e in in_bar) / max(1, bar.time_signature.bar_ticks)
    source, weights = copy(bar) if copy is not None and rhythm is None else (None, (0.0, 0.0))
    return BarSpec(
        bar=bar,
        is_drum=rule.is_drum,
        span_ends=span_ends,
        pitch_ok=rule.pitch_ok,
        sounding=working.sounding[rule.track],
        pins=pins,
        pin_lengths=lengths,
        rhythm=rhythm,
        must_write=must_write and rhythm is None,
        min_notes=_fewest(floor, source, weights[0], vocab, covered) if rhythm is None and not pins else 0,
        copy=source,
        copy_weight=weights,
    )


def _fewest(floor: float, source: list[int] | None, weight: float, vocab: Vocab, covered: float) -> int:
    """The fewest notes a filled bar may end with: the density floor's share, or the copy's
    share of its source's notes (one early end from the network would cut a repeating
    groove's bar short, whatever the copy's weight on the notes after it)."""
    kinds = vocab.token_kind
    copied = weight * sum(1 for t in source or () if kinds[t] in ("Pitch", "PitchDrum"))
    return int(max(floor, copied) * min(1.0, covered))


def _notes_per_bar(notes: list[Note], bars: list[Bar]) -> Counter:
    starts = [b.start for b in bars]
    return Counter(bisect_right(starts, n.start) - 1 for n in notes)


def _reserve(counts: Counter, total: int, bars: list[Bar], bar: Bar) -> int:
    """Tokens to keep free for one bar of a track (counts: its notes per bar; total: all of
    them): four per note it holds on average or in its busiest bar nearby (a drum groove after
    a sparse intro ran out of context), bounded."""
    per_bar = total / max(1, len(bars)) if total else 8
    nearby = (counts[i] for i in range(bar.index - 4, bar.index + 5) if i != bar.index)
    per_bar = max(per_bar, *nearby)
    return int(min(max(4 * per_bar + 4, FILL_RESERVE[0]), FILL_RESERVE[1]))


def take_notes(working: Working, row: Row, specs, p: Pass, rules: dict[int, TrackRules]) -> None:
    """Write the notes of a sampled row into the working score, exact where constraints say."""
    working.log_prob += row.log_prob
    working.drawn += row.drawn
    for (t, bar, spec), grammar in zip(specs, row.grammars, strict=True):
        step = ticks_per_position(bar.time_signature.denominator)
        notes = [
            Note(start=bar.start + w.position * step, duration=w.ticks, pitch=w.pitch, velocity=w.velocity)
            for w in grammar.notes
        ]
        notes = _exact(notes, spec, rules[t], working, bar)
        working.tracks[t].extend(notes)
        working.done.add((t, bar.index))


def _kept_rhythm(working: Working, rule: TrackRules, bar: Bar) -> list[Note]:
    """The input's notes of a written bar whose onsets and lengths keep-rhythm keeps, in the
    order the grammar writes them."""
    notes = working.request.score.tracks[rule.track].notes
    kept = (n for n in notes if bar.start <= n.start < bar.end and in_spans(rule.spans, n.start))
    return sorted(kept, key=lambda n: (n.start, n.pitch))


def _exact(notes: list[Note], spec: BarSpec, rule: TrackRules, working: Working, bar: Bar) -> list[Note]:
    """Put pinned notes and kept rhythms on their exact ticks (the grid only approximates them)."""
    if spec.rhythm is not None:
        return [
            n.model_copy(update={"start": o.start, "duration": o.duration})
            for n, o in zip(notes, _kept_rhythm(working, rule, bar), strict=False)
        ]
    step = ticks_per_position(bar.time_signature.denominator)
    for pin in rule.pins:
        if not bar.start <= pin.start < bar.end:
            continue
        for i, n in enumerate(notes):
            if n.pitch == pin.pitch and n.start == bar.start + (pin.start - bar.start) // step * step:
                end = n.end if pin.duration is None else pin.start + pin.duration
                notes[i] = n.model_copy(update={"start": pin.start, "duration": max(1, end - pin.start)})
                break
    return notes
