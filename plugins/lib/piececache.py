"""A training set's pieces read once into a JSON-lines cache of score-JSON, and read back.

Each line is one piece, {"source", "name", "score"}, or {"source", "name": null} for a file
that read to nothing, so a rerun skips every file it has already seen. Files are read by the
readers that serve users (MIDI through symusic, the rest through core's score readers), in
worker processes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from scorehost.core.score import Score
from scorehost.core.scorejson import score_from_json, score_to_json

log = logging.getLogger(__name__)

USER_SUFFIXES = {".mid", ".midi", ".musicxml", ".xml", ".mxl", ".json"}
Reader = Callable[[tuple[str, Path]], list[tuple[str, str]]]  # (name, path) -> [(piece name, score-JSON)]


def user_files(folder: Path) -> list[tuple[str, Path]]:
    """(name, path) of the score files under a user's folder, the name relative and suffix-free."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in USER_SUFFIXES)
    return [(str(p.relative_to(folder).with_suffix("")), p) for p in paths]


def read_user_file(item: tuple[str, Path]) -> list[tuple[str, str]]:
    """One user file as a piece (none when it holds no notes or cannot be read)."""
    from scorehost.core.scoreio import read_score

    name, path = item
    try:
        if path.suffix.lower() in (".mid", ".midi"):
            from .symusic_io import read_midi_fast

            score = read_midi_fast(path)
        else:
            score = read_score(path)
    except Exception as exc:  # one unreadable file must not stop a training run
        log.warning("skipped %s: %s", name, exc)
        return []
    return [(name, score_to_json(score))] if score.note_count() else []


def read_pieces(items: list[tuple[str, Path]], cache: Path, reader: Reader, workers: int = 2) -> None:
    """Read the files the cache lacks into it, `workers` processes at a time."""
    done = {json.loads(line)["source"] for line in cache.open()} if cache.exists() else set()
    todo = [item for item in items if item[0] not in done]
    if not todo:
        return
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    with ProcessPoolExecutor(workers) as pool, cache.open("a") as out:
        results = pool.map(reader, todo, chunksize=2)
        for item, pairs in tqdm(zip(todo, results, strict=True), total=len(todo), desc="reading"):
            rows = [{"source": item[0], "name": n, "score": json.loads(t)} for n, t in pairs]
            for row in rows or [{"source": item[0], "name": None}]:
                out.write(json.dumps(row) + "\n")


def load_pieces(cache: Path, keep: Callable[[str], bool] | None = None) -> Iterator[tuple[str, Score]]:
    """(name, score) of the cached pieces; keep(name) picks some before their scores are parsed."""
    for line in cache.open():
        row = json.loads(line)
        if row.get("name") and (keep is None or keep(row["name"])):
            yield row["name"], score_from_json(row["score"])
