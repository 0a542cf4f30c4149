"""The training set: read sources into the cache, split by piece, build the vocabulary."""

from __future__ import annotations

import logging
from pathlib import Path

from scorehost.core.score import Score
from scorehost.plugins.lib.piececache import load_pieces, read_pieces, read_user_file, user_files
from scorehost.plugins.lib.vocab import Vocab, build_tokens

from .data import (
    Piece,
    corpus_files,
    density_bins,
    make_splits,
    poly_defaults,
    read_corpus_file,
    read_splits,
    split_key,
    tokenize,
    write_splits,
)

log = logging.getLogger(__name__)
ACCOMPANIED_PIECES = 400  # corpus melodies to render mma accompaniment under


def gather(cache: Path, data: Path | None) -> list[tuple[str, Score]]:
    """(name, Score) of every training piece, reading what the cache lacks."""
    cache.mkdir(parents=True, exist_ok=True)
    if data is not None:
        read_pieces(user_files(data), cache / "user.jsonl", reader=read_user_file)
        return list(load_pieces(cache / "user.jsonl"))
    read_pieces(corpus_files(), cache / "corpus.jsonl", read_corpus_file)
    _read_accompaniment(cache, None)
    return list(load_pieces(cache / "corpus.jsonl")) + list(load_pieces(cache / "mma.jsonl"))


def _read_accompaniment(cache: Path, only: set[str] | None) -> None:
    """Drum, bass and chord tracks rendered by mma under corpus melodies (a train-time step),
    read into the cache; only: the source pieces wanted (None: all). Renders what is missing."""
    from .accompaniment import accompanied_name, build_accompanied_set, default_sources

    folder = cache / "mma"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [s for s in default_sources(ACCOMPANIED_PIECES) if only is None or s[0] in only]
    missing = [s for s in wanted if not any(folder.glob(f"{s[0]}--*.mid"))]
    if missing:
        build_accompanied_set(folder, missing, seed=1)
    rendered = sorted(folder.rglob("*.mid"))
    read_pieces(
        [(accompanied_name(p, folder), p) for p in rendered], cache / "mma.jsonl", reader=read_user_file
    )


def build_dataset(cache: Path, data: Path | None) -> tuple[Vocab, dict[str, list[Piece]]]:
    """The vocabulary (density levels from the training split) and the tokenized splits."""
    pieces = gather(cache, data)
    splits_dir = cache / "splits" if data is not None else None
    lists = read_splits(splits_dir) if splits_dir else read_splits()
    if lists is None:
        lists = make_splits([split_key(name) for name, _ in pieces])
        write_splits(lists, splits_dir) if splits_dir else write_splits(lists)
    where = {key: split for split, keys in lists.items() for key in keys}
    vocab = Vocab(build_tokens())
    splits: dict[str, list[Piece]] = {"train": [], "valid": [], "test": []}
    for name, score in sorted(pieces, key=lambda pair: pair[0]):  # a fixed order: held-out figures repeat
        piece = tokenize(name, score, vocab)
        if piece is not None:
            splits[where.get(split_key(name), "train")].append(piece)
    vocab.density_bins = density_bins(splits["train"])
    vocab.poly_defaults = poly_defaults(splits["train"])
    log.info("pieces: %s", {k: len(v) for k, v in splits.items()})
    return vocab, splits


def held_out_pieces(cache: Path, vocab: Vocab, split: str) -> tuple[list[tuple[str, Score]], list[Piece]]:
    """A held-out split's pieces, as scores and tokenized, in the order training scored them.

    Reads (into the cache) only the files that split needs and the cache lacks.
    """
    keys = set((read_splits() or {}).get(split, []))
    cache.mkdir(parents=True, exist_ok=True)
    sources = {"/".join(k.split("/")[:2]) for k in keys}  # an opus tune's key names its file first
    read_pieces(
        [item for item in corpus_files() if item[0] in sources], cache / "corpus.jsonl", read_corpus_file
    )
    _read_accompaniment(cache, keys)
    named = sorted(
        (
            pair
            for f in ("corpus.jsonl", "mma.jsonl")
            for pair in load_pieces(cache / f, lambda n: split_key(n) in keys)
        ),
        key=lambda pair: pair[0],
    )
    tokenized = [p for p in (tokenize(name, score, vocab) for name, score in named) if p is not None]
    return named, tokenized
