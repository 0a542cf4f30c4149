"""`scorehost eval mmm`: held-out infill NLL, and bar infill of held-out bars beside a baseline.

For each test piece (seeded), one track's span of 1-4 bars with notes is emptied and filled
by the model, and separately by the baseline (copy the nearest bar of the same track that
is not being filled). Both are compared with the true bars: pitch-class histogram
similarity, onset (groove) similarity and note-density error. A second fill of the same
bars asks for the true density level, the true range, the piece's pitch classes and the
true polyphony, and counts how often each holds (range, pitch classes and polyphony must
hold in every output), and the share of outputs that decoded and merged (must be 100%).
"""

from __future__ import annotations

import json
import statistics

import click
import numpy as np

from scorehost.core.cliparse import parse_options
from scorehost.core.device import choose_device
from scorehost.core.errors import RequestError, ScorehostError
from scorehost.core.model import LocalJob
from scorehost.core.regions import merge_result
from scorehost.core.requests import EditRequest, NoteDensity, PitchClasses, PitchRange, Polyphony, Region
from scorehost.core.score import Note, Score, most_at_once
from scorehost.plugins.lib.vocab import instrument_family

from .model import MMM, MMMOptions


def pc_similarity(a: list[Note], b: list[Note]) -> float:
    """Histogram intersection of the two pitch-class distributions (1: the same)."""
    ha, hb = _pc_hist(a), _pc_hist(b)
    return float(np.minimum(ha, hb).sum()) if ha.sum() and hb.sum() else float(ha.sum() == hb.sum())


def _pc_hist(notes: list[Note]) -> np.ndarray:
    h = np.zeros(12)
    for n in notes:
        h[n.pitch % 12] += 1
    return h / h.sum() if h.sum() else h


def groove_similarity(a: list[Note], b: list[Note], start: int, end: int, step: int = 120) -> float:
    """1 minus the share of sixteenth slots where one has an onset and the other not.

    An onset counts in its nearest slot: mma's grooves (and players) put notes a few ticks
    early, and flooring sent those to the slot before, scattering one chord over two.
    """
    slots = max(1, (end - start) // step)
    va, vb = np.zeros(slots, bool), np.zeros(slots, bool)
    for notes, v in ((a, va), (b, vb)):
        for n in notes:
            v[min(slots - 1, max(0, n.start - start + step // 2) // step)] = True
    return 1.0 - float(np.mean(va != vb))


def nearest_bar_copy(score: Score, track: int, first: int, last: int) -> list[Note]:
    """The baseline: each bar gets the notes of the nearest bar of the track outside the span."""
    bars = score.bars()
    notes = score.tracks[track].notes
    out = []
    for b in range(first, last + 1):
        candidates = sorted(
            (i for i in range(len(bars)) if not first <= i <= last), key=lambda i: (abs(i - b), i)
        )
        for i in candidates:
            src = [n for n in notes if bars[i].start <= n.start < bars[i].end]
            if src:
                shift = bars[b].start - bars[i].start
                out += [
                    n.model_copy(
                        update={
                            "start": n.start + shift,
                            "duration": min(n.duration, bars[b].end - n.start - shift),
                        }
                    )
                    for n in src
                    if n.start + shift < bars[b].end
                ]
                break
    return out


def pick_cases(
    pieces: list[tuple[str, Score]], seed: int, limit: int
) -> list[tuple[str, Score, int, int, int]]:
    """(name, score, track, first bar, last bar): a span of 1-4 bars of a track with notes."""
    rng = np.random.default_rng(seed)
    cases = []
    for name, score in pieces:
        bars = score.bars()
        if len(bars) < 4:
            continue
        track = int(rng.integers(len(score.tracks)))
        length = int(rng.integers(1, 5))
        first = int(rng.integers(0, len(bars) - length + 1))
        span = (bars[first].start, bars[first + length - 1].end)
        if not any(span[0] <= n.start < span[1] for n in score.tracks[track].notes):
            continue
        cases.append((name, score, track, first, first + length - 1))
        if len(cases) >= limit:
            break
    return cases


MEASURES = ("pitch_class_similarity", "groove_similarity", "density_error")


def run_cases(model: MMM, cases, options: MMMOptions) -> dict:
    per_case: dict[str, list[float]] = {}
    hits: dict[str, list[bool]] = {}
    sources: dict[str, dict[str, list[float]]] = {}
    valid = total = 0
    refused: list[str] = []
    for k, (name, score, track, first, last) in enumerate(cases):
        bars = score.bars()
        start, end = bars[first].start, bars[last].end
        truth = [n for n in score.tracks[track].notes if start <= n.start < end]
        region = Region(track=track, start=start, end=end)
        emptied = _without(score, track, start, end)
        seeded = options.model_copy(update={"seed": (options.seed or 0) + k, "variations": 1})
        try:  # a request the model refuses with a reason (a meter it has no token for) is no case
            model.check(EditRequest(model="mmm", score=emptied, regions=[region]), seeded)
        except RequestError as exc:
            refused.append(f"{name}: {exc}")
            continue
        filled = _fill(model, emptied, [region], [], seeded)
        total += 1
        if filled is not None:  # a case is compared only where both have an answer: the pairs stay paired
            valid += 1
            for who, notes in (
                ("model", filled),
                ("baseline", nearest_bar_copy(emptied, track, first, last)),
            ):
                for measure, value in _measures(notes, truth, start, end, last - first + 1).items():
                    per_case.setdefault(f"{who}_{measure}", []).append(value)
                    sources.setdefault(source_of(name), {}).setdefault(f"{who}_{measure}", []).append(value)
        constraints = _true_constraints(score, track, truth, last - first + 1)
        request = EditRequest(model="mmm", score=emptied, regions=[region], constraints=constraints)
        notes = _fill(model, emptied, [region], constraints, seeded, request)
        total += 1
        if notes is None:
            continue
        valid += 1
        for name, held in _held(constraints, notes).items():
            hits.setdefault(name, []).append(held)
        fam = instrument_family(score.tracks[track].program, score.tracks[track].is_drum)
        want = model.vocab.density_level(fam, len(truth) / (last - first + 1))
        got = model.vocab.density_level(fam, len(notes) / (last - first + 1))
        hits.setdefault("density_level_hit", []).append(want == got)
        hits.setdefault("density_level_within_1", []).append(abs(want - got) <= 1)
    report = {k: round(statistics.fmean(v), 4) for k, v in sorted(per_case.items())}
    report |= paired_differences(per_case)
    report |= {k: round(float(np.mean(v)), 4) for k, v in sorted(hits.items())}
    report["valid_outputs"] = round(valid / max(total, 1), 4)
    report["cases"] = len(cases) - len(refused)
    report["refused"] = refused
    report["by_source"] = {
        src: {"cases": len(v["model_groove_similarity"])} | paired_differences(v, interval=False)
        for src, v in sorted(sources.items())
    }
    return report


def _measures(notes: list[Note], truth: list[Note], start: int, end: int, bars: int) -> dict[str, float]:
    return {
        "pitch_class_similarity": pc_similarity(notes, truth),
        "groove_similarity": groove_similarity(notes, truth, start, end),
        "density_error": abs(len(notes) - len(truth)) / bars,
    }


def paired_differences(per_case: dict[str, list[float]], interval: bool = True) -> dict[str, float | list]:
    """Model minus baseline on each measure, case by case: the mean, and its 95% interval.

    The two answer the same cases, so the difference of each pair is far less noisy than
    either mean (the cases themselves vary much more than the two fillers do).
    """
    out: dict[str, float | list] = {}
    for measure in MEASURES:
        model, base = per_case.get(f"model_{measure}", []), per_case.get(f"baseline_{measure}", [])
        diffs = np.array(model) - np.array(base)
        if not len(diffs):
            continue
        mean = float(diffs.mean())
        out[f"difference_{measure}"] = round(mean, 4)
        if interval and len(diffs) > 1:
            half = 1.96 * float(diffs.std(ddof=1)) / np.sqrt(len(diffs))
            out[f"difference_{measure}_95"] = [round(mean - half, 4), round(mean + half, 4)]
    return out


def source_of(name: str) -> str:
    """The corpus a case's piece comes from, for the per-source figures ("mma" for an accompanied one)."""
    return "mma" if "--" in name else name.split("/")[0]


def _held(constraints, notes: list[Note]) -> dict[str, bool]:
    """Whether each hard constraint holds in the written notes."""
    out = {}
    for c in constraints:
        if isinstance(c, PitchRange):
            out["range_held"] = all(c.low <= n.pitch <= c.high for n in notes)
        elif isinstance(c, PitchClasses):
            out["pitch_classes_held"] = all(n.pitch % 12 in c.pitch_classes for n in notes)
        elif isinstance(c, Polyphony):
            out["polyphony_held"] = most_at_once(notes) <= c.max_notes
    return out


def _true_constraints(score: Score, track: int, truth: list[Note], bars: int) -> list:
    out = [
        NoteDensity(track=track, notes_per_bar=max(0.1, len(truth) / bars)),
        Polyphony(track=track, max_notes=max(1, most_at_once(truth))),
    ]
    if not score.tracks[track].is_drum:
        out.append(PitchRange(track=track, low=min(n.pitch for n in truth), high=max(n.pitch for n in truth)))
        key = score.key_at(truth[0].start)
        out.append(
            PitchClasses(
                pitch_classes=sorted(key.pitch_classes | {n.pitch % 12 for n in truth}), tracks=[track]
            )
        )
    return out


def _fill(
    model: MMM, score: Score, regions, constraints, options: MMMOptions, request: EditRequest | None = None
) -> list[Note] | None:
    request = request or EditRequest(model="mmm", score=score, regions=regions, constraints=constraints)
    try:
        model.check(request, options)
        (variation,) = model.inpaint(request, options, LocalJob(model.device or "cpu"))
        merged = merge_result(score, variation.score, regions)
    except ScorehostError:
        return None
    r = regions[0]
    return [n for n in merged.tracks[r.track].notes if r.start <= n.start < r.end]


def _without(score: Score, track: int, start: int, end: int) -> Score:
    return _with(score, track, [], start, end)


def _with(score: Score, track: int, notes: list[Note], start: int = 0, end: int = 0) -> Score:
    kept = [n for n in score.tracks[track].notes if not start <= n.start < end]
    tracks = list(score.tracks)
    tracks[track] = tracks[track].model_copy(update={"notes": sorted(kept + notes, key=Note.key)})
    return score.model_copy(update={"tracks": tracks})


def main(weights, cache, split, pieces, rounds, seed, options, as_json, device) -> None:
    """`scorehost eval mmm` (its options are in commands.py)."""
    from .dataset import held_out_pieces
    from .train import fixed_examples, infill_nll

    device = choose_device(device)
    model = MMM(weights=weights)
    sampling = parse_options(model.Options, list(options), seed=seed)
    model.load(device)
    named, tokenized = held_out_pieces(cache, model.vocab, split)
    examples = fixed_examples(tokenized, model.vocab, model.net.config.context, 256, seed=7)
    report = {f"{split}_infill_nll": round(infill_nll(model.net, examples, model.vocab, device), 4)}
    cases = [case for r in range(rounds) for case in pick_cases(named, seed + r, pieces)]
    report |= run_cases(model, cases, sampling)
    report["options"] = sampling.model_dump(exclude_defaults=True) | {"seed": seed, "rounds": rounds}
    if as_json:
        click.echo(json.dumps(report, indent=1))
        return
    for key, value in report.items():
        if key != "by_source":
            click.echo(f"{key:36} {value}")
    for src, figures in report["by_source"].items():  # model minus baseline, per corpus
        click.echo(
            f"by source: {src:24} "
            + "  ".join(
                f"{k.removeprefix('difference_')} {v:+}" if k != "cases" else f"{v} cases"
                for k, v in figures.items()
            )
        )
