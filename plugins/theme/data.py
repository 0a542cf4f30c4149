"""Training data for theme: folk tunes, chorales and quartets of music21's corpus (or a folder of
the user's files), read with their repeats written out and labelled by theme retrieval.

- Folk collections (O'Neill's, Aird's Airs, Ryan's Mammoth, Essen): the tune is the melody.
- Bach chorales: the soprano is the melody, the lower voices its accompaniment.
- Haydn, Mozart and Beethoven quartets: the first violin, with the other parts.

Pieces are read once through the readers that serve users and cached as score-JSON lines; a
piece in which retrieval finds no theme is left out (there is nothing to develop). A piece's
split follows from its name alone (a hash), so a held-out piece stays held out whatever else
is read; the lists of the corpus pieces read are committed in splits/.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from scorehost.core.score import Score
from scorehost.core.scorejson import score_to_json
from scorehost.plugins.lib.bartokens import bar_tokens
from scorehost.plugins.lib.vocab import Vocab

from .retrieval import FoundTheme, find_theme

log = logging.getLogger(__name__)

SPLITS_DIR = Path(__file__).with_name("splits")
SPLIT_NAMES = ("train", "valid", "test")
HELD_OUT_PERCENT = 5  # of the pieces, each for valid and for test
# music21 corpus collections and how many of their files to read (None: all); every tune of a
# collection file is read.
CORPUS_SOURCES: dict[str, int | None] = {
    "oneills1850": None,
    "airdsAirs": None,
    "ryansMammoth": 400,
    "essenFolksong": 8,
    "bach": None,
    "haydn": None,
    "mozart": None,
    "beethoven": 30,
}
QUARTET_COMPOSERS = ("haydn", "mozart", "beethoven")
MAX_TRACKS = 6


def corpus_files() -> list[tuple[str, Path]]:
    """(source name, path) of the corpus files to read, in a fixed order (Beethoven's
    movements are in two formats: the MusicXML ones are taken)."""
    from music21 import corpus

    out = []
    for collection, limit in CORPUS_SOURCES.items():
        paths = sorted(Path(p) for p in corpus.getComposer(collection))
        if collection in QUARTET_COMPOSERS:
            paths = [p for p in paths if p.suffix == ".mxl"]
        step = max(1, len(paths) // limit) if limit else 1
        out += [(f"{collection}/{_stem(p, collection)}", p) for p in paths[::step][: limit or None]]
    return out


def _stem(path: Path, collection: str) -> str:
    """The file's name inside its collection, without the suffix (opus12/movement1)."""
    parts = path.with_suffix("").parts
    return "/".join(parts[parts.index(collection) + 1 :]) if collection in parts else path.stem


def read_corpus_file(item: tuple[str, Path]) -> list[tuple[str, str]]:
    """One corpus file as (piece name, score-JSON) pairs, repeats written out; an opus (a
    collection of tunes) gives one pair per tune."""
    from music21 import converter, stream

    from scorehost.core.musicxml import score_from_music21

    from .retrieval import expanded

    name, path = item
    try:
        parsed = converter.parse(str(path))
    except Exception as exc:  # a few corpus files music21 cannot read cleanly
        log.warning("skipped %s: %s", name, exc)
        return []
    scores = list(parsed.scores) if isinstance(parsed, stream.Opus) else [parsed]
    out = []
    for i, m21 in enumerate(scores):
        piece = name if len(scores) == 1 else f"{name}/{i}"
        try:
            score = score_from_music21(expanded(m21))
        except Exception as exc:  # one tune music21 misreads costs only that tune
            log.warning("skipped %s: %s", piece, exc)
            continue
        if score.note_count() and len(score.tracks) <= MAX_TRACKS:
            out.append((piece, score_to_json(score)))
    return out


# ---- splits -----------------------------------------------------------------------------------


def split_of(name: str) -> str:
    """A piece's split from its name alone: 5% valid, 5% test, the rest train."""
    bucket = int(hashlib.sha1(name.encode()).hexdigest(), 16) % 100
    return "valid" if bucket < HELD_OUT_PERCENT else "test" if bucket < 2 * HELD_OUT_PERCENT else "train"


def write_splits(names: list[str], folder: Path = SPLITS_DIR) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for split in SPLIT_NAMES:
        chosen = sorted(n for n in set(names) if split_of(n) == split)
        (folder / f"{split}.txt").write_text("".join(f"{n}\n" for n in chosen))


def read_splits(folder: Path = SPLITS_DIR) -> dict[str, set[str]] | None:
    if not all((folder / f"{s}.txt").exists() for s in SPLIT_NAMES):
        return None
    return {s: set((folder / f"{s}.txt").read_text().split()) for s in SPLIT_NAMES}


# ---- labelled, tokenized pieces ---------------------------------------------------------------


@dataclass
class PieceTrack:
    program: int
    is_drum: bool
    cells: list[list[int]]  # note tokens per bar


@dataclass
class Piece:
    name: str
    timesigs: list[int]  # TimeSig token per bar
    tracks: list[PieceTrack]
    melody: int  # index into tracks of the line the theme was found in
    theme: tuple[int, int]  # (first bar, bar count) of the theme
    occurrences: list[tuple[int, int, int]]  # (first bar, bar count, transposition), the theme's first

    def occurrence_bars(self) -> dict[int, tuple[bool, bool]]:
        """Bar -> (opens an occurrence, closes one), for every bar inside an occurrence."""
        out: dict[int, tuple[bool, bool]] = {}
        for first, count, _ in self.occurrences:
            for b in range(first, first + count):
                out[b] = (b == first, b == first + count - 1)
        return out


def label(score: Score) -> FoundTheme | None:
    return find_theme(score)


def tokenize(name: str, score: Score, vocab: Vocab, found: FoundTheme | None = None) -> Piece | None:
    """The piece as tokens per track and bar, with its theme's occurrences; None without a
    theme or with a meter the vocabulary has no token for."""
    found = label(score) if found is None else found
    bars = score.bars()
    timesigs = [vocab.timesig_token(b.time_signature.numerator, b.time_signature.denominator) for b in bars]
    if found is None or any(t is None for t in timesigs):
        return None
    kept = [t for t, track in enumerate(score.tracks) if track.notes]
    tracks = [
        PieceTrack(score.tracks[t].program, score.tracks[t].is_drum, track_cells(score, t, vocab))
        for t in kept
    ]
    occurrences = [(o.bar, found.bars, o.transposition) for o in found.occurrences]
    return Piece(name, timesigs, tracks, kept.index(found.track), (found.theme.bar, found.bars), occurrences)


def track_cells(
    score: Score, track: int, vocab: Vocab, span: tuple[int, int] | None = None
) -> list[list[int]]:
    """Note tokens of each bar of a track (only the notes starting inside span, when given)."""
    t = score.tracks[track]
    notes = t.notes if span is None else [n for n in t.notes if span[0] <= n.start < span[1]]
    return [
        bar_tokens([n for n in notes if bar.start <= n.start < bar.end], bar, t.is_drum, vocab)
        for bar in score.bars()
    ]
