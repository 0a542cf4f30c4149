"""The training data: every four-part chorale of music21's corpus, split by chorale.

Chorales are read through scorehost.core.musicxml.read_musicxml, the same code path that
serves users. The split lists (splits/{train,valid,test}.txt) are committed; `make_splits`
rebuilds them deterministically from sorted file names and a fixed seed.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scorehost.core.errors import ScorehostError
from scorehost.core.musicxml import read_musicxml
from scorehost.core.score import Score

from .encoding import FIRST_PITCH, VOICES, Vocab, check_voice, encode_grid, encode_meta, voice_tracks

SPLITS_DIR = Path(__file__).with_name("splits")
SPLIT_NAMES = ("train", "valid", "test")
SPLIT_SEED = 20170101
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)


def corpus_dir() -> Path:
    from music21 import corpus

    return Path(corpus.getWork("bach/bwv66.6")).parent


def chorale_files() -> list[Path]:
    """Every Bach file of the corpus, sorted by name (not all are four-part chorales)."""
    folder = corpus_dir()
    return sorted(p for p in folder.iterdir() if p.suffix in (".mxl", ".xml", ".musicxml"))


def read_chorale(path: Path) -> Score | None:
    """The chorale reduced to its four SATB tracks, or None when it is not a clean four-part chorale."""
    try:
        score = read_musicxml(path)
        roles = [(t.role or "").lower() for t in score.tracks]
        if not all(roles.count(v) == 1 for v in VOICES):
            return None
        tracks = voice_tracks(score)
        for index, name in zip(tracks, VOICES, strict=True):
            check_voice(score.tracks[index], name)
            if not score.tracks[index].notes:
                return None
    except ScorehostError:
        return None
    keep = {old: new for new, old in enumerate(tracks)}
    fermatas = [
        f.model_copy(update={"track": keep[f.track]})
        for f in score.fermatas
        if f.track is None or f.track in keep
    ]
    return score.model_copy(update={"tracks": [score.tracks[i] for i in tracks], "fermatas": fermatas})


def _read_named(path: Path) -> tuple[str, Score | None]:
    return path.name, read_chorale(path)


def read_all(paths: list[Path], workers: int = 2) -> dict[str, Score]:
    with ProcessPoolExecutor(workers) as pool:
        pairs = list(pool.map(_read_named, paths, chunksize=8))
    return {name: score for name, score in pairs if score is not None}


def make_splits(names: list[str]) -> dict[str, list[str]]:
    names = sorted(names)
    random.Random(SPLIT_SEED).shuffle(names)
    n_train = round(len(names) * SPLIT_FRACTIONS[0])
    n_valid = round(len(names) * SPLIT_FRACTIONS[1])
    parts = (names[:n_train], names[n_train : n_train + n_valid], names[n_train + n_valid :])
    return {split: sorted(part) for split, part in zip(SPLIT_NAMES, parts, strict=True)}


def write_splits(splits: dict[str, list[str]], folder: Path = SPLITS_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split, names in splits.items():
        (folder / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))


def read_splits(folder: Path = SPLITS_DIR) -> dict[str, list[str]]:
    return {s: (folder / f"{s}.txt").read_text().split() for s in SPLIT_NAMES}


def voice_ranges(scores: list[Score]) -> tuple[tuple[int, int], ...]:
    ranges = []
    for voice in range(4):
        pitches = [n.pitch for s in scores for n in s.tracks[voice].notes]
        ranges.append((min(pitches), max(pitches)))
    return tuple(ranges)


def make_vocab(scores: list[Score]) -> Vocab:
    ranges = voice_ranges(scores)
    return Vocab(min(r[0] for r in ranges), max(r[1] for r in ranges), ranges)


def transpositions(grid: np.ndarray, vocab: Vocab, limit: int = 6) -> tuple[int, int]:
    """The lowest and highest shift (semitones, within +-limit) keeping every voice in its range."""
    low, high = -limit, limit
    for voice, (v_low, v_high) in enumerate(vocab.ranges):
        pitches = grid[voice][grid[voice] >= FIRST_PITCH] - FIRST_PITCH + vocab.low
        if len(pitches):
            low = max(low, v_low - int(pitches.min()))
            high = min(high, v_high - int(pitches.max()))
    return low, high


@dataclass
class Encoded:
    """Chorales of one split, concatenated along time; offsets[i]:offsets[i+1] is chorale i."""

    names: list[str]
    grid: np.ndarray  # (4, total) int16
    meta: np.ndarray  # (META, total) int16
    offsets: np.ndarray  # (n+1,) int64
    shifts: np.ndarray  # (n, 2) lowest and highest allowed transposition

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            path, names=np.array(self.names), grid=self.grid, meta=self.meta,
            offsets=self.offsets, shifts=self.shifts,
        )  # fmt: skip

    @classmethod
    def load(cls, path: Path) -> Encoded:
        with np.load(path) as data:
            return cls(list(data["names"]), data["grid"], data["meta"], data["offsets"], data["shifts"])


def encode_split(names: list[str], scores: dict[str, Score], vocab: Vocab) -> Encoded:
    grids, metas, shifts, offsets = [], [], [], [0]
    kept = [n for n in names if n in scores]
    for name in kept:
        score = scores[name]
        grid = encode_grid(score, vocab, [0, 1, 2, 3])
        grids.append(grid)
        metas.append(encode_meta(score, [0, 1, 2, 3]))
        shifts.append(transpositions(grid, vocab))
        offsets.append(offsets[-1] + grid.shape[1])
    return Encoded(
        kept,
        np.concatenate(grids, axis=1).astype(np.int16),
        np.concatenate(metas, axis=1).astype(np.int16),
        np.array(offsets, dtype=np.int64),
        np.array(shifts, dtype=np.int64),
    )


def build_dataset(cache: Path, vocab_path: Path | None = None) -> tuple[Vocab, dict[str, Encoded]]:
    """Read the corpus (or the cache), write splits if missing, return the vocabulary and splits."""
    files = {s: cache / f"{s}.npz" for s in SPLIT_NAMES}
    vocab_file = cache / "vocab.json"
    if vocab_file.exists() and all(f.exists() for f in files.values()):
        return Vocab.load(vocab_file), {s: Encoded.load(f) for s, f in files.items()}
    scores = read_all(chorale_files())
    if not (SPLITS_DIR / "train.txt").exists():
        write_splits(make_splits(list(scores)))
    splits = read_splits()
    vocab = Vocab.load(vocab_path) if vocab_path else make_vocab([scores[n] for n in splits["train"]])
    cache.mkdir(parents=True, exist_ok=True)
    vocab.save(vocab_file)
    encoded = {s: encode_split(splits[s], scores, vocab) for s in SPLIT_NAMES}
    for s, data in encoded.items():
        data.save(files[s])
    return vocab, encoded
