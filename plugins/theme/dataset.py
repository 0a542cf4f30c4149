"""The training set: read sources into the cache, label each piece's theme, split by piece."""

from __future__ import annotations

import logging
from pathlib import Path

from scorehost.core.score import Score
from scorehost.plugins.lib.piececache import load_pieces, read_pieces, read_user_file, user_files
from scorehost.plugins.lib.vocab import Vocab, build_theme_tokens

from .data import (
    Piece,
    corpus_files,
    read_corpus_file,
    read_splits,
    split_of,
    tokenize,
    write_splits,
)

log = logging.getLogger(__name__)


def gather(cache: Path, data: Path | None) -> list[tuple[str, Score]]:
    """(name, Score) of every piece, reading what the cache lacks."""
    cache.mkdir(parents=True, exist_ok=True)
    if data is not None:
        read_pieces(user_files(data), cache / "user.jsonl", reader=read_user_file)
        return list(load_pieces(cache / "user.jsonl"))
    read_pieces(corpus_files(), cache / "corpus.jsonl", read_corpus_file)
    return list(load_pieces(cache / "corpus.jsonl"))


def splits_of(names: list[str], folder: Path) -> dict[str, str]:
    """Piece -> split: the committed lists where they name it, else its hash (the lists are
    written the first time, so they record which pieces a run held out)."""
    lists = read_splits(folder)
    if lists is None:
        write_splits(names, folder)
        lists = read_splits(folder) or {}
    where = {name: split for split, names_ in lists.items() for name in names_}
    out = {name: where.get(name, split_of(name)) for name in names}
    return _hold_some_out(out) if lists is not None and len(names) >= 3 else out


def _hold_some_out(where: dict[str, str]) -> dict[str, str]:
    """A small folder whose hashes hold nothing out still keeps one piece each for valid and
    test (the first train pieces by name), so its runs report held-out figures."""
    for split in ("valid", "test"):
        if split not in where.values():
            spare = sorted(n for n, s in where.items() if s == "train")
            if len(spare) > 1:
                where[spare[0]] = split
    return where


def build_dataset(cache: Path, data: Path | None) -> tuple[Vocab, dict[str, list[Piece]]]:
    """The theme vocabulary and the labelled, tokenized splits (pieces without a theme left out)."""
    from .data import SPLITS_DIR

    pieces = sorted(gather(cache, data), key=lambda pair: pair[0])  # a fixed order: figures repeat
    where = splits_of([name for name, _ in pieces], cache / "splits" if data is not None else SPLITS_DIR)
    vocab = Vocab(build_theme_tokens())
    splits: dict[str, list[Piece]] = {"train": [], "valid": [], "test": []}
    for name, score in pieces:
        piece = tokenize(name, score, vocab)
        if piece is not None:
            splits[where[name]].append(piece)
    log.info("pieces with a theme: %s of %d", {k: len(v) for k, v in splits.items()}, len(pieces))
    return vocab, splits


def held_out(
    cache: Path, split: str, vocab: Vocab, data: Path | None = None
) -> list[tuple[str, Score, Piece]]:
    """A held-out split's labelled pieces, as scores and tokenized, in name order."""
    from .data import SPLITS_DIR

    pieces = sorted(gather(cache, data), key=lambda pair: pair[0])
    where = splits_of([name for name, _ in pieces], cache / "splits" if data is not None else SPLITS_DIR)
    out = []
    for name, score in pieces:
        if where[name] == split and (piece := tokenize(name, score, vocab)) is not None:
            out.append((name, score, piece))
    return out
