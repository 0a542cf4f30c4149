"""`scorehost eval deepbach`: held-out NLL, and what a harmony teacher would check in
harmonizations of held-out sopranos, beside Bach's own harmonizations of them.

Each chorale's soprano (the test split, or the valid one for tuning) is harmonized: alto,
tenor and bass rewritten with the given options (the key's pitch classes not imposed), as
several variations (seeds seed, seed+1, ...). Each harmonization and Bach's chorale are
measured the same way: voice-leading faults (faults.py: parallels, crossings, spacing, range,
judged by music21) and harmony (measures.py: beats that are neither a triad nor a seventh
chord, cadences at the end and under fermatas, cross-relations, inner-voice rhythm).
`--set folk` harmonizes a fixed set of folk melodies of music21's corpus instead (2/4, 3/4,
4/4 and 6/8), which have no Bach harmonization to stand beside.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import click

from scorehost.core.cliparse import parse_options
from scorehost.core.device import choose_device
from scorehost.core.model import LocalJob
from scorehost.core.progress import Progress
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import Score, Track

from .encoding import STEP, voice_tracks
from .faults import FAULTS, count_faults
from .measures import CADENCES, COUNTS, MEASURES, measure
from .model import DeepBach, DeepBachOptions

# Folk melodies of music21's Essen collection, three in each meter: (collection, number, meter).
FOLK = (
    ("kinder0", 1, "2/4"),
    ("kinder0", 3, "2/4"),
    ("kinder0", 7, "2/4"),
    ("altdeu10", 6, "3/4"),
    ("altdeu10", 27, "3/4"),
    ("kinder0", 15, "3/4"),
    ("altdeu10", 8, "4/4"),
    ("altdeu10", 32, "4/4"),
    ("kinder0", 25, "4/4"),
    ("altdeu10", 10, "6/8"),
    ("kinder0", 6, "6/8"),
    ("kinder0", 10, "6/8"),
)
KEYS = FAULTS + MEASURES


def chorales(names: list[str]) -> list[tuple[str, Score, Score]]:
    """(name, the soprano with empty voices to harmonize, Bach's chorale) of corpus chorales."""
    from .data import corpus_dir, read_chorale

    out = []
    for name in names:
        score = read_chorale(corpus_dir() / name)
        out.append((name, score, score))
    return out


def folk_melodies() -> list[tuple[str, Score, None]]:
    """(name, the melody with empty alto, tenor and bass, None) of the FOLK tunes."""
    return [(f"{c} {n} ({meter})", folk_melody(c, n), None) for c, n, meter in FOLK]


def folk_melody(collection: str, number: int) -> Score:
    """An Essen melody of music21's corpus as a soprano over empty alto, tenor and bass."""
    from music21 import corpus

    from scorehost.core.musicxml import score_from_music21

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tune = score_from_music21(corpus.parse(f"essenFolksong/{collection}", number=number))
    melody = tune.tracks[0].model_copy(update={"role": "soprano", "name": "Soprano"})
    voices = [Track(name=r.capitalize(), role=r) for r in ("alto", "tenor", "bass")]
    return tune.model_copy(update={"tracks": [melody, *voices]})


def harmonization_faults(
    model: DeepBach,
    names: list[str],
    options: DeepBachOptions,
    limit: int | None = None,
    pieces: list[tuple[str, Score, Score | None]] | None = None,
) -> dict:
    """Totals of every measure over the harmonizations ("model", summed over the variations) and
    Bach's chorales ("bach"), the quarter-note beats of the pieces and the variations per piece."""
    chosen = pieces[:limit] if pieces is not None else chorales(names[:limit])
    totals = {"model": dict.fromkeys(KEYS, 0), "bach": dict.fromkeys(KEYS, 0), "beats": 0.0}
    totals["variations"], totals["pieces"] = options.variations, len(chosen)
    progress = Progress("deepbach eval", total=len(chosen), unit="pieces harmonized")
    progress.update(0)
    for done, (name, score, bach) in enumerate(chosen):
        voices = voice_tracks(score)
        regions = [Region(track=t, start=0, end=score.length) for t in voices[1:]]
        request = EditRequest(model="deepbach", score=score, regions=regions)
        job = _Reporting(model.device or "cpu", lambda f, d=done, n=name: progress.update(d + f, n))
        results = [v.score for v in model.inpaint(request, options, job)]
        for who, scores in (("model", results), ("bach", [bach] if bach is not None else [])):
            for result in scores:
                tracks = voice_tracks(result)
                ranges = list(model.vocab.ranges)
                counts = count_faults(result, tracks, ranges, ranged=(1, 2, 3)) | measure(result, tracks)
                for key, value in counts.items():
                    totals[who][key] += value
        totals["beats"] += score.length / (4 * STEP)
    progress.update(len(chosen))
    progress.close()
    return totals


class _Reporting(LocalJob):
    """A LocalJob that passes each piece's progress on, so a long evaluation is never silent."""

    def __init__(self, device: str, report: Callable[[float], None]) -> None:
        super().__init__(device)
        self.report = report

    def progress(self, fraction: float) -> None:
        super().progress(fraction)
        self.report(fraction)


def per_100_beats(totals: dict) -> dict:
    """Faults (FAULTS, cross-relations, rhythm faults) per 100 quarter-note beats, for each side."""
    out = {}
    for who, runs in (("model", totals.get("variations", 1)), ("bach", 1)):
        scale = 100 / max(totals["beats"] * runs, 1)
        kept = [k for k in (*FAULTS, "cross_relations", "rhythm_faults") if k in totals[who]]
        out[who] = {k: round(totals[who][k] * scale, 2) for k in kept}
    return out


def shares(totals: dict) -> dict:
    """Beats that are neither a triad nor a seventh chord, and cadences, as fractions."""
    out = {}
    for who in ("model", "bach"):
        counts = totals[who]
        out[who] = {
            "non_chord_beats": _ratio(counts["non_chord_beats"], counts["beats"]),
            "final_tonic_bass": _ratio(counts["final_tonic_bass"], counts["pieces"]),
            "final_key_tonic_bass": _ratio(counts["final_key_tonic_bass"], counts["pieces"]),
            "final_cadence": _ratio(counts["final_cadence"], counts["pieces"]),
            "fermata_root_position": _ratio(counts["fermata_root_position"], counts["fermatas"]),
            "fermata_tonic_bass": _ratio(counts["fermata_tonic_bass"], counts["fermatas"]),
        }
    return out


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


ROWS = (
    ("non_chord_beats", "beats neither triad nor seventh", "share"),
    ("final_tonic_bass", "final chord: tonic in the bass", "share"),
    ("final_key_tonic_bass", "  the key map's tonic, modal ends too", "share"),
    ("final_cadence", "final cadence V-I/IV-I, root pos.", "share"),
    ("fermata_root_position", "fermata chords in root position", "share"),
    ("fermata_tonic_bass", "fermata chords: tonic in the bass", "share"),
    ("parallel_fifths", "parallel fifths", "rate"),
    ("parallel_octaves", "parallel octaves and unisons", "rate"),
    ("cross_relations", "cross-relations", "rate"),
    ("crossings", "voice crossings", "rate"),
    ("spacing", "spacing over an octave (S-A, A-T)", "rate"),
    ("out_of_range", "A, T, B notes outside their range", "rate"),
    ("rhythm_faults", "inner-voice rhythm faults", "rate"),
)


def table(totals: dict) -> list[str]:
    """The report's lines: shares in percent, faults per 100 quarter-note beats."""
    rates, fractions = per_100_beats(totals), shares(totals)
    bach = totals["bach"]["pieces"] > 0
    lines = [f"  {'':36} {'deepbach':>9} {'bach' if bach else '':>9}"]
    for key, label, kind in ROWS:
        cells = []
        for who in ("model", "bach") if bach else ("model",):
            value = fractions[who][key] if kind == "share" else rates[who][key]
            cells.append(
                "-" if value is None else f"{100 * value:8.1f}%" if kind == "share" else f"{value:9.2f}"
            )
        lines.append(f"  {label:36} " + " ".join(f"{c:>9}" for c in cells))
    return lines


def main(
    weights: Path,
    data: Path,
    limit: int | None,
    seed: int,
    options: tuple[str, ...],
    device: str | None,
    split: str,
    variations: int,
    nll: bool,
) -> None:
    """`scorehost eval deepbach` (its options are in commands.py)."""
    from .data import build_dataset, read_splits
    from .train import evaluate as held_out_nll

    device = choose_device(device)
    model = DeepBach(weights)
    validated = parse_options(model.Options, [*options, f"variations={variations}"], seed=seed)
    sampling = validated.model_dump(exclude_defaults=True) | {"seed": seed}
    model.load(device)
    report: dict = {"options": sampling}
    if nll and split != "folk":
        _, splits = build_dataset(data)
        report["nll"] = {s: round(held_out_nll(model.net, splits[s], device), 4) for s in ("valid", "test")}
        click.echo(
            f"per-cell NLL (nats, random-rate masks): valid {report['nll']['valid']}, test {report['nll']['test']}"
        )
    if split == "folk":
        pieces = folk_melodies()[:limit]
        what = f"{len(pieces)} folk melodies (2/4, 3/4, 4/4, 6/8)"
    else:
        pieces = chorales(read_splits()[split][:limit])
        what = f"the sopranos of {len(pieces)} {split} chorales"
    click.echo(f"harmonizing {what}, {variations} variation(s) each (progress on stderr) ...", err=True)
    totals = harmonization_faults(model, [], validated, pieces=pieces)
    click.echo(
        f"{what}, {variations} variation(s) each, {totals['beats']:.0f} quarter-note beats"
        f" (options: {json.dumps(sampling)}); shares in percent, faults per 100 quarter-note beats:"
    )
    for line in table(totals):
        click.echo(line)
    report |= {"set": split, "shares": shares(totals), "faults_per_100_beats": per_100_beats(totals)}
    report["counts"] = {who: {k: totals[who][k] for k in (*COUNTS, *CADENCES)} for who in ("model", "bach")}
    click.echo(json.dumps(report))
