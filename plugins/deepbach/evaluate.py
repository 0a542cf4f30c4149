"""`scorehost eval deepbach`: held-out NLL, and voice-leading faults of harmonized test chorales.

Each test chorale's soprano is harmonized (alto, tenor and bass rewritten, the key's pitch
classes not imposed) and its faults are counted beside Bach's own harmonization of it, per
100 quarter-note beats: parallel fifths and octaves (both voices moving the same way into
the same perfect interval), voice crossings and spacing over an octave between S-A or A-T
(per sonority), and notes outside the voice ranges.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import torch

from scorehost.core.requests import EditRequest, Region

from .data import build_dataset
from .encoding import FIRST_PITCH, HOLD, STEP, Vocab, encode_grid
from .model import DeepBach
from .train import evaluate as held_out_nll
from .weights import WEIGHTS_DIR

FAULTS = ("parallel_fifths", "parallel_octaves", "crossings", "spacing", "out_of_range")


def sounding(grid: np.ndarray, vocab: Vocab) -> np.ndarray:
    """MIDI pitch sounding in each cell, -1 for silence."""
    out = np.full(grid.shape, -1)
    for voice, row in enumerate(grid):
        current = -1
        for step, token in enumerate(row):
            current = vocab.pitch(token) if token >= FIRST_PITCH else (current if token == HOLD else -1)
            out[voice, step] = current
    return out


def faults(grid: np.ndarray, vocab: Vocab) -> dict[str, int]:
    pitch = sounding(grid, vocab)
    events = [s for s in range(grid.shape[1]) if (grid[:, s] >= FIRST_PITCH).any()]
    counts = dict.fromkeys(FAULTS, 0)
    for a, b in zip(events, events[1:], strict=False):
        for upper in range(4):
            for lower in range(upper + 1, 4):
                kind = _parallel(pitch[upper, a], pitch[lower, a], pitch[upper, b], pitch[lower, b])
                if kind:
                    counts[kind] += 1
    for s in events:
        counts["crossings"] += sum(1 for v in range(3) if -1 < pitch[v, s] < pitch[v + 1, s])
        counts["spacing"] += sum(
            1 for v in range(2) if pitch[v + 1, s] > -1 and pitch[v, s] - pitch[v + 1, s] > 12
        )
    for voice, (low, high) in enumerate(vocab.ranges):
        notes = grid[voice][grid[voice] >= FIRST_PITCH] - FIRST_PITCH + vocab.low
        counts["out_of_range"] += int(((notes < low) | (notes > high)).sum())
    return counts


def _parallel(u1: int, l1: int, u2: int, l2: int) -> str | None:
    if min(u1, l1, u2, l2) < 0 or u1 == u2 or l1 == l2 or (u2 - u1) * (l2 - l1) <= 0:
        return None
    first, second = (u1 - l1) % 12, (u2 - l2) % 12
    if first == second == 7:
        return "parallel_fifths"
    if first == second == 0:
        return "parallel_octaves"
    return None


def harmonization_faults(model: DeepBach, names: list[str], seed: int, limit: int | None) -> dict:
    from .data import corpus_dir, read_chorale

    totals = {"model": dict.fromkeys(FAULTS, 0), "bach": dict.fromkeys(FAULTS, 0), "beats": 0.0}

    class Job:
        device = model.device

        def progress(self, fraction: float) -> None: ...
        def warn(self, message: str) -> None: ...

    for name in names[:limit]:
        score = read_chorale(corpus_dir() / name)
        regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
        request = EditRequest(model="deepbach", score=score, regions=regions)
        (variation,) = model.inpaint(request, model.Options(seed=seed), Job())
        for who, result in (("model", variation.score), ("bach", score)):
            for key, value in faults(encode_grid(result, model.vocab, [0, 1, 2, 3]), model.vocab).items():
                totals[who][key] += value
        totals["beats"] += score.length / (4 * STEP)
    return totals


def per_100_beats(totals: dict) -> dict:
    scale = 100 / max(totals["beats"], 1)
    return {who: {k: round(v * scale, 2) for k, v in totals[who].items()} for who in ("model", "bach")}


@click.command(name="deepbach")
@click.option("--weights", type=click.Path(path_type=Path), default=WEIGHTS_DIR, show_default=True)
@click.option(
    "--data",
    type=click.Path(path_type=Path),
    default=Path("runs/deepbach/data"),
    show_default=True,
    help="Encoded-corpus cache.",
)
@click.option("--limit", type=int, default=None, help="Harmonize only the first N test chorales.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default=None, help="cpu, cuda; default: CUDA when present.")
def eval_command(weights: Path, data: Path, limit: int | None, seed: int, device: str | None) -> None:
    """Held-out (valid, test) per-cell NLL and voice-leading faults of test-chorale harmonizations."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = DeepBach(weights)
    model.load(device)
    _, splits = build_dataset(data)
    report = {split: round(held_out_nll(model.net, splits[split], device), 4) for split in ("valid", "test")}
    click.echo(f"per-cell NLL (nats, random-rate masks): valid {report['valid']}, test {report['test']}")
    totals = harmonization_faults(model, splits["test"].names, seed, limit)
    rates = per_100_beats(totals)
    click.echo(
        f"faults per 100 beats over {totals['beats']:.0f} beats of {len(splits['test'].names[:limit])} test chorales:"
    )
    click.echo(f"  {'':18} {'deepbach':>9} {'bach':>9}")
    for key in FAULTS:
        click.echo(f"  {key:18} {rates['model'][key]:9.2f} {rates['bach'][key]:9.2f}")
    click.echo(json.dumps({"nll": report, "faults_per_100_beats": rates}))
