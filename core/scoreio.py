"""Read and write scores by file extension, within size limits, never over an existing file."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import LimitExceeded, ScoreReadError, ScoreWriteError
from .midifile import read_midi, write_midi
from .score import Score
from .scorejson import read_json, write_json


# MusicXML goes through music21, slow to import: it is imported when a MusicXML file is read or
# written, so commands that touch none (--help, models, MIDI edits) start without it.
def read_musicxml(path: Path) -> Score:
    from .musicxml import read_musicxml as read

    return read(path)


def write_musicxml(score: Score, path: Path) -> None:
    from .musicxml import write_musicxml as write

    write(score, path)


MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_NOTES = 50_000

_READERS: dict[str, Callable[[Path], Score]] = {
    ".musicxml": read_musicxml,
    ".xml": read_musicxml,
    ".mxl": read_musicxml,
    ".mid": read_midi,
    ".midi": read_midi,
    ".json": read_json,
}
_WRITERS: dict[str, Callable[[Score, Path], None]] = {
    ".musicxml": write_musicxml,
    ".xml": write_musicxml,
    ".mxl": write_musicxml,
    ".mid": write_midi,
    ".midi": write_midi,
    ".json": write_json,
}
SUFFIXES = tuple(_READERS)


def _suffix(path: Path, table: dict) -> str:
    suffix = path.suffix.lower()
    if suffix not in table:
        known = ", ".join(sorted(table))
        raise ScoreReadError(f"{path.name}: unknown file type {suffix or '(none)'}; use one of {known}")
    return suffix


def read_score(path: str | Path, max_bytes: int = MAX_FILE_BYTES, max_notes: int = MAX_NOTES) -> Score:
    path = Path(path)
    suffix = _suffix(path, _READERS)
    if not path.is_file():
        raise ScoreReadError(f"{path}: no such file")
    size = path.stat().st_size
    if size > max_bytes:
        raise LimitExceeded(f"{path.name} is {size:,} bytes; the limit is {max_bytes:,}")
    if size == 0:
        raise ScoreReadError(f"{path.name} is empty")
    score = _READERS[suffix](path)
    check_note_count(score, max_notes)
    return score


def check_note_count(score: Score, max_notes: int = MAX_NOTES) -> None:
    count = score.note_count()
    if count > max_notes:
        raise LimitExceeded(f"the score has {count:,} notes; the limit is {max_notes:,}")


def write_score(score: Score, path: str | Path, overwrite: bool = False) -> Path:
    """Write by extension into a temporary file, then move it in place without clobbering."""
    path = Path(path)
    try:
        suffix = _suffix(path, _WRITERS)
    except ScoreReadError as exc:
        raise ScoreWriteError(str(exc)) from exc
    if path.exists() and not overwrite:
        raise ScoreWriteError(
            f"{path} already exists; choose another name (scorehost never writes over a file)"
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ScoreWriteError(f"{directory}: no such folder")
    temp = _new_file(directory, suffix, path)
    try:
        _WRITERS[suffix](score, temp)
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)  # fails if the name was taken meanwhile
    except FileExistsError as exc:
        raise ScoreWriteError(f"{path} already exists; choose another name") from exc
    except OSError as exc:
        raise ScoreWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        temp.unlink(missing_ok=True)
    return path


def _new_file(directory: Path, suffix: str, target: Path) -> Path:
    """A new empty file beside the target, created with the mode the umask gives, as the target
    then keeps it (tempfile.mkstemp's files are 0600 whatever the umask)."""
    for _ in range(100):
        temp = directory / f".scorehost-{secrets.token_hex(8)}{suffix}"
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        except OSError as exc:
            raise ScoreWriteError(f"cannot write {target}: {exc.strerror or exc}") from exc
        return temp
    raise ScoreWriteError(f"cannot write {target}: no free temporary name in {directory}")


def read_score_bytes(data: bytes, suffix: str, max_notes: int = MAX_NOTES, name: str = "score") -> Score:
    """Read a score sent as bytes (an upload): through a private temporary file, by suffix."""
    suffix = suffix if suffix.startswith(".") else f".{suffix}"
    _suffix(Path(f"{name}{suffix}"), _READERS)
    with tempfile.TemporaryDirectory(prefix="scorehost-") as folder:
        path = Path(folder) / f"{name}{suffix}"
        path.write_bytes(data)
        return read_score(path, max_bytes=max(len(data), 1), max_notes=max_notes)


def score_bytes(score: Score, suffix: str) -> bytes:
    """A score as the bytes of a file of the given type."""
    suffix = suffix if suffix.startswith(".") else f".{suffix}"
    with tempfile.TemporaryDirectory(prefix="scorehost-") as folder:
        return write_score(score, Path(folder) / f"score{suffix}").read_bytes()
