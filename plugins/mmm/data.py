"""Training data for mmm: multi-track and melody pieces of music21's corpus, mma-rendered
accompaniment laid under corpus melodies, or a user's own folder of MIDI/MusicXML files.

Pieces are read once through the same readers that serve users and cached as score-JSON
lines; splits are by piece (an accompanied piece goes with its source melody) and the
lists are committed in splits/.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

from scorehost.core.score import Score, most_at_once
from scorehost.core.scorejson import score_to_json
from scorehost.plugins.lib.vocab import Vocab, instrument_family

from .sequence import poly_level, track_cells

log = logging.getLogger(__name__)

SPLITS_DIR = Path(__file__).with_name("splits")
SPLIT_NAMES = ("train", "valid", "test")
SPLIT_SEED = 20200818
SPLIT_FRACTIONS = (0.9, 0.05, 0.05)
# Corpus composers/collections and how many files of each to take (None: all).
CORPUS_SOURCES: dict[str, int | None] = {
    "bach": None,
    "palestrina": 400,
    "monteverdi": None,
    "haydn": None,
    "mozart": None,
    "beethoven": None,
    "trecento": None,
    "josquin": None,
    "ryansMammoth": 150,
    "oneills1850": 10,
    "essenFolksong": 4,
}
TUNES_PER_COLLECTION = 60  # an ABC file of many tunes gives at most this many pieces
MAX_TRACKS = 16


def corpus_files() -> list[tuple[str, Path]]:
    """(source name, path) of the corpus files to read, in a fixed order."""
    from music21 import corpus

    out = []
    for composer, limit in CORPUS_SOURCES.items():
        paths = sorted(Path(p) for p in corpus.getComposer(composer))
        step = max(1, len(paths) // limit) if limit else 1
        out += [(f"{composer}/{p.stem}", p) for p in paths[::step][: limit or None]]
    return out


def read_corpus_file(item: tuple[str, Path]) -> list[tuple[str, str]]:
    """One corpus file as (piece name, score-JSON) pairs: an opus gives one per tune."""
    from music21 import converter, stream

    from scorehost.core.musicxml import score_from_music21

    name, path = item
    try:
        parsed = converter.parse(str(path))
        scores = list(parsed.scores)[:TUNES_PER_COLLECTION] if isinstance(parsed, stream.Opus) else [parsed]
        out = []
        for i, m21 in enumerate(scores):
            score = score_from_music21(m21)
            if score.note_count() and len(score.tracks) <= MAX_TRACKS:
                out.append((name if len(scores) == 1 else f"{name}/{i}", score_to_json(score)))
        return out
    except Exception as exc:  # the corpus has a few files music21 cannot read cleanly
        log.warning("skipped %s: %s", name, exc)
        return []


def split_key(name: str) -> str:
    """The piece a training item belongs to: an accompanied piece shares its source's split."""
    return name.split("--")[0]


def make_splits(keys: list[str]) -> dict[str, list[str]]:
    keys = sorted(set(keys))
    random.Random(SPLIT_SEED).shuffle(keys)
    # At least one piece held out each way once there are three, so small folders train too.
    n_valid = max(round(len(keys) * SPLIT_FRACTIONS[1]), int(len(keys) >= 3))
    n_test = max(round(len(keys) * SPLIT_FRACTIONS[2]), int(len(keys) >= 3))
    n_train = len(keys) - n_valid - n_test
    parts = (keys[:n_train], keys[n_train : n_train + n_valid], keys[n_train + n_valid :])
    return {split: sorted(part) for split, part in zip(SPLIT_NAMES, parts, strict=True)}


def write_splits(splits: dict[str, list[str]], folder: Path = SPLITS_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        (folder / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))


def read_splits(folder: Path = SPLITS_DIR) -> dict[str, list[str]] | None:
    if not all((folder / f"{s}.txt").exists() for s in SPLIT_NAMES):
        return None
    return {s: (folder / f"{s}.txt").read_text().split() for s in SPLIT_NAMES}


# ---- pre-tokenized pieces -------------------------------------------------------------------


@dataclass
class PieceTrack:
    program: int
    is_drum: bool
    cells: list[list[int]]  # note tokens per bar
    counts: list[int]  # notes per bar
    polys: list[int]  # most notes sounding at once, per bar


@dataclass
class Piece:
    name: str
    timesigs: list[int | None]
    tracks: list[PieceTrack]


def tokenize(name: str, score: Score, vocab: Vocab) -> Piece | None:
    """The piece as tokens per track and bar; None when a meter has no token."""
    bars = score.bars()
    timesigs = [vocab.timesig_token(b.time_signature.numerator, b.time_signature.denominator) for b in bars]
    if any(t is None for t in timesigs):
        return None
    tracks = []
    for track in score.tracks:
        if not track.notes:
            continue
        cells, by_bar = track_cells(track, bars, vocab)
        counts, polys = [len(n) for n in by_bar], [most_at_once(n) for n in by_bar]
        tracks.append(PieceTrack(track.program, track.is_drum, cells, counts, polys))
    return Piece(name, timesigs, tracks) if tracks else None


def density_bins(pieces: list[Piece], levels: int = 10) -> dict[str, list[float]]:
    """Per instrument family, the thresholds between density levels (quantiles of mean notes
    per non-empty bar of a track), from the training pieces only."""
    import numpy as np

    samples: dict[str, list[float]] = {"all": []}
    for piece in pieces:
        for t in piece.tracks:
            busy = [c for c in t.counts if c]
            value = sum(busy) / max(1, len(busy))
            samples.setdefault(instrument_family(t.program, t.is_drum), []).append(value)
            samples["all"].append(value)
    qs = np.linspace(0, 1, levels + 1)[1:-1]  # the cut points between the levels
    return {
        fam: [round(float(x), 3) for x in np.quantile(v, qs)]
        for fam, v in samples.items()
        if len(v) >= 30 or (fam == "all" and v)  # a family needs enough tracks for deciles
    }


def poly_defaults(pieces: list[Piece]) -> dict[str, int]:
    """Per instrument family, the median of a track's most notes at once in a bar (training split)."""
    import numpy as np

    samples: dict[str, list[int]] = {"all": []}
    for piece in pieces:
        for t in piece.tracks:
            value = poly_level(max(t.polys))
            samples.setdefault(instrument_family(t.program, t.is_drum), []).append(value)
            samples["all"].append(value)
    return {fam: int(np.median(v)) for fam, v in samples.items() if v}
