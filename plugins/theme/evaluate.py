"""`scorehost eval theme`: held-out figures of the theme model, its prompt baseline and the true
music, in one run.

- NLL: nats per fill token of each network on fixed held-out examples.
- For each held-out piece (--pieces of them, evenly spaced through the split), its melody's bars after the theme (CASE_BARS of
  them) are emptied and written by each model, the theme named; the true continuation is the
  third row. On the written melody:
  - theme recurrence: the share of its 2-bar segments within the retrieval's distance of the
    theme (at least SIMILAR of their notes line up with a 2-bar part of the theme, in some
    transposition);
  - pitch-class entropy (bits) of its notes;
  - grooving similarity to the true continuation (the share of sixteenth-note slots where both
    have an onset or both have none, bar by bar).
  Means, and the standard deviation across pieces (the true music's spread is the yardstick).
"""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from pathlib import Path

import click
import numpy as np

from scorehost.core.device import choose_device
from scorehost.core.errors import ScorehostError
from scorehost.core.model import LocalJob
from scorehost.core.requests import EditRequest, Region, Theme
from scorehost.core.score import Bar, Note, Score

from .data import Piece
from .model import ThemeModel, ThemeOptions
from .retrieval import SIMILAR, similarity, top_line
from .weights import BASELINE_STEM, STEM

CASE_BARS = 8
WHO = ("theme", "prompt", "true")


def segments(notes: list[Note], bars: list[Bar], length: int = 2) -> list[tuple[tuple[int, int], ...]]:
    """The line's bar-aligned segments of `length` bars, as retrieval compares them."""
    line = top_line(notes)
    out = []
    for i in range(0, len(bars) - length + 1):
        start, end = bars[i].start, bars[i + length - 1].end
        out.append(tuple((n.start - start, n.pitch) for n in line if start <= n.start < end))
    return out


def recurrence(notes: list[Note], bars: list[Bar], theme: list[Note], theme_bars: list[Bar]) -> float:
    """Share of the 2-bar segments (stepping by 2 bars) alike to some 2-bar part of the theme."""
    parts = [p for p in segments(theme, theme_bars) if p]
    mine = segments(notes, bars)[::2]
    if not mine or not parts:
        return 0.0
    return sum(any(similarity(p, s)[0] >= SIMILAR for p in parts) for s in mine) / len(mine)


def pitch_class_entropy(notes: list[Note]) -> float:
    counts = Counter(n.pitch % 12 for n in notes)
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values()) if total else 0.0


def groove_similarity(a: list[Note], b: list[Note], bars: list[Bar]) -> float:
    """Mean over the bars of 1 minus the share of sixteenth slots where one has an onset and
    the other not."""
    values = []
    for bar in bars:
        slots = max(1, (bar.end - bar.start) // 120)
        va, vb = np.zeros(slots, bool), np.zeros(slots, bool)
        for notes, v in ((a, va), (b, vb)):
            for n in notes:
                if bar.start <= n.start < bar.end:
                    v[min(slots - 1, (n.start - bar.start) // 120)] = True
        values.append(1.0 - float(np.mean(va != vb)))
    return statistics.fmean(values) if values else 0.0


def case(score: Score, piece: Piece) -> tuple[Region, Theme, list[Bar], list[Bar]] | None:
    """The region after the theme (CASE_BARS bars of the melody) and the theme constraint."""
    bars = score.bars()
    first, count = piece.theme
    track = _track_index(score, piece)
    start_bar = first + count
    written = bars[start_bar : start_bar + CASE_BARS]
    if len(written) < 2 or not any(
        written[0].start <= n.start < written[-1].end for n in score.tracks[track].notes
    ):
        return None
    theme_bars = bars[first:start_bar]
    theme = Theme(start=theme_bars[0].start, end=theme_bars[-1].end, track=track)
    return Region(track=track, start=written[0].start, end=written[-1].end), theme, written, theme_bars


def _track_index(score: Score, piece: Piece) -> int:
    """The score track of the piece's melody (pieces keep only tracks with notes)."""
    return [t for t, track in enumerate(score.tracks) if track.notes][piece.melody]


def run_cases(models: dict[str, ThemeModel], cases: list[tuple[str, Score, Piece]], seed: int) -> dict:
    values: dict[str, dict[str, list[float]]] = {w: {} for w in WHO}
    failed: list[str] = []
    for k, (name, score, piece) in enumerate(cases):
        made = case(score, piece)
        if made is None:
            continue
        region, theme, bars, theme_bars = made
        emptied = _without(score, region)
        theme_notes = [n for n in score.tracks[region.track].notes if theme.start <= n.start < theme.end]
        truth = _inside(score, region)
        written = {"true": truth}
        try:
            for who, model in models.items():
                written[who] = _fill(model, emptied, region, theme, seed + k)
        except ScorehostError as exc:
            failed.append(f"{name}: {exc}")
            continue
        for who, notes in written.items():
            row = values[who]
            row.setdefault("theme_recurrence", []).append(recurrence(notes, bars, theme_notes, theme_bars))
            row.setdefault("pitch_class_entropy", []).append(pitch_class_entropy(notes))
            if who != "true":
                row.setdefault("groove_similarity", []).append(groove_similarity(notes, truth, bars))
    report = {
        who: {m: [round(statistics.fmean(v), 4), round(statistics.pstdev(v), 4)] for m, v in row.items()}
        for who, row in values.items()
    }
    report["cases"] = len(values["true"].get("pitch_class_entropy", []))
    report["failed"] = failed
    return report


def _without(score: Score, region: Region) -> Score:
    tracks = list(score.tracks)
    track = tracks[region.track]
    kept = [n for n in track.notes if not region.start <= n.start < region.end]
    tracks[region.track] = track.model_copy(update={"notes": kept})
    return score.model_copy(update={"tracks": tracks})


def _inside(score: Score, region: Region) -> list[Note]:
    return [n for n in score.tracks[region.track].notes if region.start <= n.start < region.end]


def _fill(model: ThemeModel, score: Score, region: Region, theme: Theme, seed: int) -> list[Note]:
    request = EditRequest(model="theme", score=score, regions=[region], constraints=[theme])
    options = ThemeOptions(seed=seed)
    model.check(request, options)
    (variation,) = model.inpaint(request, options, LocalJob(model.device or "cpu"))
    return _inside(variation.score, region)


def main(weights: Path, cache: Path, data: Path | None, split: str, pieces: int, seed: int, as_json: bool,
         device: str | None) -> None:  # fmt: skip
    """`scorehost eval theme` (its options are in commands.py)."""
    from .dataset import held_out
    from .train import fixed_examples, held_out_nll

    device = choose_device(device)
    models = {
        "theme": ThemeModel(weights=weights, stem=STEM),
        "prompt": ThemeModel(weights=weights, stem=BASELINE_STEM),
    }
    for model in models.values():
        model.load(device)
    vocab = models["theme"].vocab
    named = held_out(cache, split, vocab, data)
    examples = fixed_examples([p for _, _, p in named], vocab, models["theme"].net.config, 256, seed=7)
    nll = held_out_nll({k: m.net for k, m in models.items()}, examples, vocab, device)
    report = {f"{split}_nll": {k: round(v, 4) for k, v in nll.items()}}
    # evenly spaced through the (name-sorted) split, so every collection is in the sample
    report |= run_cases(models, named[:: max(1, len(named) // max(pieces, 1))][:pieces], seed)
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    click.echo(
        f"{split} NLL (nats per fill token): theme {nll['theme']:.4f}, prompt baseline {nll['prompt']:.4f}"
    )
    click.echo(f"{report['cases']} held-out pieces; mean (standard deviation across pieces):")
    for measure in ("theme_recurrence", "pitch_class_entropy", "groove_similarity"):
        cells = [
            f"{who} {report[who][measure][0]:.3f} ({report[who][measure][1]:.3f})"
            if measure in report[who]
            else f"{who} -"
            for who in WHO
        ]
        click.echo(f"  {measure:22} " + "   ".join(cells))
    for line in report["failed"]:
        click.echo(f"  failed: {line}")
