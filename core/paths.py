"""Which files a request may touch: only inside the configured folders, never over a file."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from .errors import PathNotAllowed, RequestError, ScorehostError, ScoreWriteError
from .scoreio import writable_suffix


class PathPolicy:
    def __init__(self, allowed_dirs: list[Path]):
        self.allowed = [Path(d).expanduser().resolve() for d in allowed_dirs]

    def _inside(self, text: str, field: str) -> Path:
        if not self.allowed:
            raise PathNotAllowed(
                "this server reads and writes no files; start it with --allow-dir FOLDER", field
            )
        if "\x00" in text or len(text) > 4096:
            raise PathNotAllowed("not a valid path", field)
        path = Path(text).expanduser()
        if not path.is_absolute():
            path = self.allowed[0] / path
        resolved = path.resolve()  # follows symlinks, so a link cannot lead outside
        if not any(resolved.is_relative_to(folder) for folder in self.allowed):
            folders = ", ".join(str(f) for f in self.allowed)
            raise PathNotAllowed(f"{text} is outside the folders this server may use ({folders})", field)
        return resolved

    def readable(self, text: str, field: str = "score_path") -> Path:
        path = self._inside(text, field)
        if not path.is_file():
            raise PathNotAllowed(f"{text}: no such file", field)
        return path

    def writable(self, text: str, field: str = "output_path") -> Path:
        """A new file's path, of a type scores can be written as: checked before any work."""
        path = self._inside(text, field)
        try:
            writable_suffix(path)
        except ScoreWriteError as exc:
            raise RequestError(str(exc), field) from None
        if path.exists():
            raise PathNotAllowed(f"{text} already exists; scorehost never writes over a file", field)
        if not path.parent.is_dir():
            raise PathNotAllowed(f"{path.parent}: no such folder", field)
        return path


def free_names(
    folder: Path, stem: str, suffix: str, count: int = 1, taken: Container[Path] = ()
) -> list[Path]:
    """The first of stem, stem-2, stem-3, ... in folder under which no file exists yet (for
    several, each name gets -1..-count), so a result never takes an existing file's name; nor
    one in taken (names given to results not yet written, so two at once get two names)."""
    for n in range(1, 1000):
        base = stem + ("" if n == 1 else f"-{n}")
        names = [folder / f"{base}{'' if count == 1 else f'-{i}'}{suffix}" for i in range(1, count + 1)]
        if not any(name in taken or name.exists() for name in names):
            return names
    raise ScorehostError(f"no free file name for {stem}{suffix} in {folder}")
