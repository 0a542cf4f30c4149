"""`scorehost eval deepbach`: held-out NLL, and voice-leading faults of harmonized test chorales.

Each test chorale's soprano is harmonized (alto, tenor and bass rewritten with default
options, the key's pitch classes not imposed) and its faults are counted with music21
(see faults.py) beside Bach's own harmonization of it, per 100 quarter-note beats.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from scorehost.core.cliparse import parse_options
from scorehost.core.device import choose_device
from scorehost.core.model import LocalJob
from scorehost.core.progress import Progress
from scorehost.core.requests import EditRequest, Region

from .data import build_dataset
from .encoding import STEP, voice_tracks
from .faults import FAULTS, count_faults
from .model import DeepBach, DeepBachOptions
from .train import evaluate as held_out_nll


def harmonization_faults(
    model: DeepBach, names: list[str], options: DeepBachOptions, limit: int | None = None
) -> dict:
    from .data import corpus_dir, read_chorale

    totals = {"model": dict.fromkeys(FAULTS, 0), "bach": dict.fromkeys(FAULTS, 0), "beats": 0.0}
    chosen = names[:limit]
    progress = Progress("deepbach eval", total=len(chosen), unit="test chorales harmonized")
    for done, name in enumerate(chosen):
        score = read_chorale(corpus_dir() / name)
        regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
        request = EditRequest(model="deepbach", score=score, regions=regions)
        job = _Reporting(model.device or "cpu", lambda f, d=done, n=name: progress.update(d + f, n))
        (variation,) = model.inpaint(request, options, job)
        for who, result in (("model", variation.score), ("bach", score)):
            counts = count_faults(result, voice_tracks(result), list(model.vocab.ranges))
            for key, value in counts.items():
                totals[who][key] += value
        totals["beats"] += score.length / (4 * STEP)
    progress.close()
    return totals


class _Reporting(LocalJob):
    """A LocalJob that passes each chorale's progress on, so a long evaluation is never silent."""

    def __init__(self, device: str, report: Callable[[float], None]) -> None:
        super().__init__(device)
        self.report = report

    def progress(self, fraction: float) -> None:
        super().progress(fraction)
        self.report(fraction)


def per_100_beats(totals: dict) -> dict:
    scale = 100 / max(totals["beats"], 1)
    return {who: {k: round(v * scale, 2) for k, v in totals[who].items()} for who in ("model", "bach")}


def main(
    weights: Path, data: Path, limit: int | None, seed: int, options: tuple[str, ...], device: str | None
) -> None:
    """`scorehost eval deepbach` (its options are in commands.py)."""
    device = choose_device(device)
    model = DeepBach(weights)
    validated = parse_options(model.Options, list(options), seed=seed)
    sampling = validated.model_dump(exclude_defaults=True) | {"seed": seed}
    model.load(device)
    _, splits = build_dataset(data)
    report = {split: round(held_out_nll(model.net, splits[split], device), 4) for split in ("valid", "test")}
    click.echo(f"per-cell NLL (nats, random-rate masks): valid {report['valid']}, test {report['test']}")
    count = len(splits["test"].names[:limit])
    click.echo(f"harmonizing {count} test chorales (progress on stderr) ...", err=True)
    totals = harmonization_faults(model, splits["test"].names, validated, limit)
    rates = per_100_beats(totals)
    click.echo(
        f"faults per 100 beats over {totals['beats']:.0f} beats of {len(splits['test'].names[:limit])} test chorales"
        f" (options: {json.dumps(sampling)}):"
    )
    click.echo(f"  {'':18} {'deepbach':>9} {'bach':>9}")
    for key in FAULTS:
        click.echo(f"  {key:18} {rates['model'][key]:9.2f} {rates['bach'][key]:9.2f}")
    click.echo(json.dumps({"nll": report, "options": sampling, "faults_per_100_beats": rates}))
