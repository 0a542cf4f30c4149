"""How the OSC bridge delivers a job's results: the files they go to (chosen and checked before
the work starts, never over a file), progress while it runs, then its variations, notes,
warnings and done (or one error), to the client that asked (see docs/osc.md)."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scorehost.core.engine import Job
from scorehost.core.errors import PathNotAllowed, RequestError, ScorehostError
from scorehost.core.paths import PathPolicy, free_names
from scorehost.core.requests import EditRequest
from scorehost.core.scoreio import SUFFIXES, write_score

from . import protocol as p
from .transport import Replier


class ResultDelivery:
    def __init__(self, paths: PathPolicy, pool: ThreadPoolExecutor):
        self.paths, self.pool = paths, pool
        # Files given to jobs not yet finished: a file is made only when its job is done, so
        # without this two edits of one input at once were given the same free name, and the
        # second failed with cannot_write when the first had written it.
        self._reserved: set[Path] = set()
        self._lock = threading.Lock()

    def outputs(self, out: str | None, source: Path | None, variations: Any, notes: str) -> list[Path]:
        """The files results go to, checked before the work starts (never over a file) and
        held for this request until release(): pass them to follow(), or release them."""
        count = variations if isinstance(variations, int) and variations > 0 else 1
        if out is None:
            if source is None or notes != "none":
                return []
            with self._lock:
                return self._reserve(self._free_names(source, count))
        if Path(out).suffix.lower() not in SUFFIXES:
            raise RequestError(f"unknown file type; end the name with one of {', '.join(SUFFIXES)}", "out")
        first = self.paths.writable(out, "out")
        targets = (
            [first]
            if count == 1
            else [first.with_name(f"{first.stem}-{i}{first.suffix}") for i in range(1, count + 1)]
        )
        checked = [self.paths.writable(str(t), "out") for t in targets]
        with self._lock:
            if busy := [t for t in checked if t in self._reserved]:
                raise PathNotAllowed(
                    f"{busy[0]} is the output of another request still running; choose another name", "out"
                )
            return self._reserve(checked)

    def release(self, outputs: list[Path]) -> None:
        with self._lock:
            self._reserved.difference_update(outputs)

    def _reserve(self, outputs: list[Path]) -> list[Path]:
        self._reserved.update(outputs)
        return outputs

    def _free_names(self, source: Path, count: int) -> list[Path]:
        try:
            names = free_names(
                source.parent, f"{source.stem}-scorehost", source.suffix, count, self._reserved
            )
            return [self.paths.writable(str(t), "out") for t in names]
        except ScorehostError:  # a name taken 999 times, or a folder this server may not write
            raise RequestError(
                "cannot choose a result file next to the input; give out=PATH", "out"
            ) from None

    def follow(
        self, job: Job, reply: Replier, request: EditRequest, outputs: list[Path], notes: str, unit: str
    ) -> None:
        """Report a job: accepted now, progress as it runs, then its results and done (or error)."""
        reply.send("accepted", job.id)
        state = {"fraction": -1.0, "time": 0.0, "finished": False}
        lock = threading.Lock()

        def listener(j: Job) -> None:
            if j.done:
                with lock:
                    if state["finished"]:
                        return
                    state["finished"] = True
                try:
                    self.pool.submit(self._finish, j, reply, request, outputs, notes, unit)
                except RuntimeError:
                    self._finish(j, reply, request, outputs, notes, unit)
                return
            now = time.monotonic()
            if j.fraction - state["fraction"] >= 0.02 and now - state["time"] >= 0.05:
                state["fraction"], state["time"] = j.fraction, now
                reply.send("progress", j.id, float(j.fraction), str(j.status))

        job.on_change(listener)
        if job.done:
            listener(job)

    def _finish(
        self, job: Job, reply: Replier, request: EditRequest, outputs: list[Path], notes: str, unit: str
    ) -> None:
        try:
            result = job.wait(0)
            written = [
                write_score(v.score, path) for v, path in zip(result.variations, outputs, strict=False)
            ]
        except ScorehostError as exc:
            reply.error(exc.code, str(exc), job.id)
            return
        finally:
            self.release(outputs)  # written now, or never to be
        for index, variation in enumerate(result.variations):
            log_prob = math.nan if variation.log_prob is None else float(variation.log_prob)
            path = str(written[index]) if index < len(written) else ""
            reply.send("variation", job.id, index, variation.seed, log_prob, path)
            if notes == "none":
                continue
            for track_index, track in enumerate(variation.score.tracks):
                spans = [(r.start, r.end) for r in request.regions if r.track == track_index]
                if notes == "regions" and not spans:
                    continue
                chosen = [n for n in track.notes if notes == "all" or any(s <= n.start < e for s, e in spans)]
                chunks = p.note_chunks(chosen, unit)
                for c, values in enumerate(chunks):
                    reply.send("notes", job.id, index, track_index, track.name, c, len(chunks), *values)
        for warning in result.warnings:
            reply.send("warning", job.id, p.clip(warning))
        first = str(written[0]) if written else ""
        reply.send("done", job.id, len(result.variations), first, float(result.timings.get("total", 0.0)))
