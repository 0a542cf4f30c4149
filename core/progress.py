"""Progress on stderr for commands that may run a while (edit, eval, train).

Nothing is shown for the first couple of seconds, so quick commands stay quiet. After that a
terminal gets one line redrawn in place; a log, a pipe or CI gets a line at each tenth of the
work or every 10 s, whichever comes first, so a long run is never silent there either.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

DELAY = 2.0  # seconds of silence before the first report
QUIET_LINES = 10.0  # seconds between lines when nothing else moves


class Progress:
    """Report `done` of `total` (fractions by default) under a label such as 'deepbach'."""

    def __init__(
        self,
        label: str,
        total: float = 1.0,
        unit: str = "",
        stream: TextIO | None = None,
        delay: float = DELAY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.delay, self.clock = delay, clock
        self.started = clock()
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_line: tuple[int, float] | None = None  # (tenth, time) of the last line
        self._drawn = False

    def update(self, done: float, note: str = "") -> None:
        now = self.clock()
        elapsed = now - self.started
        if elapsed < self.delay:
            return
        text = self._text(done, elapsed, note)
        if self._tty:
            self.stream.write(f"\r\x1b[K{text}")
            self._drawn = True
        else:
            tenth = int(10 * min(done / self.total, 1.0)) if self.total else 0
            if (
                self._last_line is None
                or tenth > self._last_line[0]
                or now - self._last_line[1] >= QUIET_LINES
            ):
                self.stream.write(text + "\n")
                self._last_line = (tenth, now)
        self.stream.flush()

    def close(self) -> None:
        """Clear the terminal's line (what comes next says how it ended)."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def _text(self, done: float, elapsed: float, note: str) -> str:
        if self.total == 1.0 and not self.unit:
            amount = f"{done:.0%}"
        else:
            shown = f"{done:.0f}" if done == int(done) else f"{done:.1f}"
            amount = f"{shown}/{self.total:g}{' ' + self.unit if self.unit else ''}"
        return f"{self.label}: {amount}, {elapsed:.0f} s{'; ' + note if note else ''}"


def follow_job(job, stream: TextIO | None = None, delay: float = DELAY, poll: float = 0.1) -> None:
    """Report a job's progress until it ends (the caller then waits for its result): every
    `poll` seconds, and not a moment longer once it has ended."""
    progress = Progress(job.model.model_id, stream=stream, delay=delay)
    try:
        while not job.done:
            status = str(getattr(job.status, "value", job.status))
            progress.update(job.fraction, "" if status == "running" else status)
            job.ended(poll)
    finally:
        progress.close()
