"""Read and write scores by file extension, within size limits, never over an existing file."""

from __future__ import annotations

import os
import secrets
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from .errors import LimitExceeded, ScorehostError, ScoreReadError, ScoreWriteError, first_line
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
_KINDS = {
    ".musicxml": "MusicXML",
    ".xml": "MusicXML",
    ".mxl": "MusicXML",
    ".mid": "MIDI",
    ".midi": "MIDI",
    ".json": "score-JSON",
}


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
    if _KINDS[suffix] == "MusicXML":
        _check_musicxml_notes(path, max_notes)
    score = _READERS[suffix](path)
    check_note_count(score, max_notes)
    return score


# Tags of a MusicXML file's <note> elements that make no note of their own: rests, grace and
# cue notes, unpitched ones, and the second half of a tie (merged into the note before).
_NO_NOTE_TAGS = (b"<rest", b"<grace", b"<cue", b"<unpitched", b'<tie type="stop"', b"<tie type='stop'")
_STEP = 1 << 20  # counted a megabyte at a time, so the GIL is never held for long


def _count(data: bytes, tag: bytes) -> int:
    """tag's occurrences in data, each counted once (a chunk also counts a tag it cuts)."""
    extra = len(tag) - 1
    return sum(data.count(tag, start, start + _STEP + extra) for start in range(0, len(data), _STEP))


def musicxml_notes_at_least(data: bytes) -> int:
    """The fewest notes a MusicXML score's text can make: its <note> elements (<notehead> and
    <note-size> share the prefix), less rests, grace and cue notes, unpitched notes and tie ends."""
    notes = _count(data, b"<note") - _count(data, b"<notehead") - _count(data, b"<note-size")
    if notes <= 0:
        return 0
    return max(0, notes - sum(_count(data, tag) for tag in _NO_NOTE_TAGS))


def _check_musicxml_notes(path: Path, max_notes: int) -> None:
    """Refuse a MusicXML score with too many notes from its text, before music21 parses it:
    parsing 140,000 notes (15.5 MB, under the file limit) took minutes, then the count refused
    it. A .mxl's score is unpacked within the archive limits first."""
    if path.suffix.lower() == ".mxl" and zipfile.is_zipfile(path):
        from .musicxml import unzipped_score  # the archive limits, checked as music21's reading does

        data = unzipped_score(path)
    else:
        data = path.read_bytes()
    if _count(data, b"<note") <= max_notes:
        return  # the most it can hold: most scores stop here, after one pass
    at_least = musicxml_notes_at_least(data)
    if at_least > max_notes:
        raise LimitExceeded(f"{path.name} holds {at_least:,} notes; the limit is {max_notes:,}")


def check_note_count(score: Score, max_notes: int = MAX_NOTES) -> None:
    count = score.note_count()
    if count > max_notes:
        raise LimitExceeded(f"the score has {count:,} notes; the limit is {max_notes:,}")


def writable_suffix(path: str | Path) -> str:
    """The suffix a score can be written under, or a ScoreWriteError naming the ones known: so
    that a request can be refused before any work is done for it."""
    try:
        return _suffix(Path(path), _WRITERS)
    except ScoreReadError as exc:
        raise ScoreWriteError(str(exc)) from exc


def write_score(score: Score, path: str | Path, overwrite: bool = False) -> Path:
    """Write by extension, never over a file (unless overwrite) and never half a file.

    The score is encoded first, in a private temporary folder, so a score the format cannot
    express fails before anything is made beside the target. The bytes then go into an unnamed
    file in the target's folder (O_TMPFILE), which gets its name only when complete: a write
    killed at any point (kill -9, a full disk) leaves nothing in the user's folder."""
    path = Path(path)
    suffix = writable_suffix(path)
    if path.exists() and not overwrite:
        raise ScoreWriteError(
            f"{path} already exists; choose another name (scorehost never writes over a file)"
        )
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ScoreWriteError(f"{directory}: no such folder")
    _place(encode_score(score, suffix, path.name), path, overwrite)
    return path


def encode_score(score: Score, suffix: str, name: str = "score") -> bytes:
    """A score as the bytes of a file of the given type, or one ScoreWriteError that says why
    the format cannot hold it (a title MIDI cannot encode, a duration MusicXML cannot state)."""
    suffix = suffix if suffix.startswith(".") else f".{suffix}"
    writer = _WRITERS[writable_suffix(f"score{suffix}")]
    with tempfile.TemporaryDirectory(prefix="scorehost-") as folder:
        temp = Path(folder) / f"score{suffix}"
        try:
            writer(score, temp)
            return temp.read_bytes()
        except ScorehostError:
            raise
        except OSError as exc:
            raise ScoreWriteError(f"cannot write {name}: {exc.strerror or exc}") from exc
        # The writers are music21's and mido's: what they raise on a score they cannot
        # express varies (UnicodeEncodeError, OverflowError, MusicXMLExportException, ...).
        except Exception as exc:  # noqa: BLE001
            kind = _KINDS.get(suffix, suffix)
            raise ScoreWriteError(
                f"the result cannot be written as {kind} ({name}): {first_line(exc)}"
            ) from exc


def _place(data: bytes, path: Path, overwrite: bool) -> None:
    """Put data under path in one step, leaving nothing behind on any failure."""
    try:
        fd = os.open(path.parent, os.O_TMPFILE | os.O_WRONLY, 0o666)  # the mode the umask gives
    except (AttributeError, OSError):  # no O_TMPFILE here (not Linux, or the file system lacks it)
        return _place_named(data, path, overwrite)
    try:
        _write_all(fd, data)
        if overwrite:  # linkat cannot replace: link under a temporary name, then rename
            temp = _free_name(path)
            _link(fd, temp)
            try:
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
        else:
            _link(fd, path)  # fails if the name was taken meanwhile
    except FileExistsError as exc:
        raise ScoreWriteError(f"{path} already exists; choose another name") from exc
    except OSError as exc:
        raise ScoreWriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def _link(fd: int, path: Path) -> None:
    """Give the unnamed file open as fd a name: linkat through /proc/self/fd, following the
    link (os.link calls plain link(), which does not, unless a directory fd is given)."""
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), path, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def _place_named(data: bytes, path: Path, overwrite: bool) -> None:
    """The same through a named temporary file beside the target, removed on any failure."""
    temp = _new_file(path.parent, path)
    try:
        fd = os.open(temp, os.O_WRONLY)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)  # the bytes are on disk before the file has a name


def _free_name(target: Path) -> Path:
    for _ in range(100):
        temp = target.parent / f".scorehost-{secrets.token_hex(8)}{target.suffix}"
        if not temp.exists():
            return temp
    raise ScoreWriteError(f"cannot write {target}: no free temporary name in {target.parent}")


def _new_file(directory: Path, target: Path) -> Path:
    """A new empty file beside the target, created with the mode the umask gives, as the target
    then keeps it (tempfile.mkstemp's files are 0600 whatever the umask)."""
    for _ in range(100):
        temp = directory / f".scorehost-{secrets.token_hex(8)}{target.suffix}"
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
    """A score as the bytes of a file of the given type (a ScoreWriteError if it cannot be)."""
    return encode_score(score, suffix)
