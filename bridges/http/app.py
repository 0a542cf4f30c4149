"""The HTTP API: models, a synchronous edit for simple clients (MuseScore's QML), and a jobs
resource (create, poll, fetch the result as score-JSON, MusicXML or MIDI, cancel).

Errors are JSON, {"error": {"code", "message", "field"}}, with a status that says whose fault
it is. The app never lets an exception out: a failing request is answered and forgotten.

The event loop only routes and waits: reading a score, checking a request, encoding a result
and writing files run in threads, so a big upload never holds up /v1/health or other clients.
The output files of jobs are written by the app's own threads, not the engine's worker.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from scorehost.core.cliparse import ConstraintSpec, RegionRef, build_request
from scorehost.core.engine import Engine, Job, Status
from scorehost.core.errors import JobCancelled, QueueFull, RequestError, ScorehostError, ScoreWriteError
from scorehost.core.paths import PathPolicy
from scorehost.core.requests import MAX_REGIONS, EditRequest, EditResult
from scorehost.core.score import Score
from scorehost.core.scoreio import check_note_count, read_score, read_score_bytes, score_bytes, write_score
from scorehost.core.scorejson import score_from_json
from scorehost.core.settings import Settings

from .apidocs import install_api_docs
from .auth import TokenCheck
from .hosts import HostCheck
from .limits import BodySizeLimit
from .settings import HttpSettings
from .shutdown import Shutdown

log = logging.getLogger("scorehost.http")

ResultFormat = Literal["json", "musicxml", "midi"]
_MEDIA = {"musicxml": "application/vnd.recordare.musicxml+xml", "midi": "audio/midi"}
_SUFFIX = {"musicxml": ".musicxml", "midi": ".mid"}
_ANY = TypeAdapter(Any)
_STATUS = {
    "bad_request": 400,
    "bad_score": 400,
    "unsupported_constraint": 400,
    "path_not_allowed": 403,
    "unknown_model": 404,
    "unknown_job": 404,
    "cancelled": 409,
    "cannot_write": 409,
    "too_large": 413,
    "busy": 503,
    "timeout": 504,
}

_HTTP_CODES = {400: "bad_json", 404: "not_found", 405: "method_not_allowed"}


class ErrorDetail(BaseModel):
    code: str = Field(description="What went wrong, for programs (docs/http.md lists them).")
    message: str = Field(description="What went wrong and what to change, for people.")
    field: str | None = Field(default=None, description="The request field at fault, if one is.")


class ErrorBody(BaseModel):
    """Every error answer; a cannot_write one also carries the result, as score-JSON."""

    error: ErrorDetail
    result: dict[str, Any] | None = Field(
        default=None, description="cannot_write only: the result that could not be written or encoded."
    )


_WHY = {
    400: "The request cannot be served as sent (bad JSON, score, constraint, output name, or both Content-Length and Transfer-Encoding).",
    401: "The server has a token and the request did not send it.",
    403: "A path outside the allowed folders, or a Host or Origin that does not name this server.",
    404: "No such model, job or route.",
    409: "The job was cancelled or is not finished, or the result could not be written (cannot_write).",
    408: "The body did not arrive within the body timeout of its headers.",
    413: "The body or the score is over a limit.",
    422: "A field has the wrong shape.",
    500: "The model failed; the server keeps serving.",
    503: "The queue is full, the server holds its limit of connections, or it is shutting down; try again.",
    504: "The job ran past its time limit.",
}
_EDIT = (400, 404, 413, 422, 503)  # what checking and queueing an edit can answer


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a route: these and those every route can give (the guards in
    front of the app: framing, Host, token, the body's size and time, the connection limit)."""
    every = {400, 401, 403, 408, 413, 503}
    return {s: {"model": ErrorBody, "description": _WHY[s]} for s in sorted(every | set(statuses))}


class EditBody(BaseModel):
    """An edit request; the score comes as score-JSON, MusicXML text, base64 MIDI or a path."""

    model_config = ConfigDict(extra="forbid")
    model: str = Field(min_length=1, max_length=100)
    score: dict[str, Any] | None = Field(
        default=None,
        description="score-JSON (see docs/score-json.md); editors may give bars instead of time_signatures and keys as {tick, sharps}.",
    )
    score_musicxml: str | None = Field(default=None, description="The score as MusicXML text.")
    score_midi_base64: str | None = Field(
        default=None, description="The score as a base64 standard MIDI file."
    )
    score_path: str | None = Field(
        default=None, description="A score file inside the server's allowed folders."
    )
    # one syntax with the CLI (core/cliparse.py): tracks by number (0-based), name or role
    regions: list[RegionRef] = Field(min_length=1, max_length=MAX_REGIONS)
    constraints: list[ConstraintSpec] = Field(default_factory=list, max_length=64)
    options: dict[str, Any] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, gt=0, le=3600)
    output_path: str | None = Field(
        default=None, description="Also write the first variation here (allowed folders; never over a file)."
    )

    @model_validator(mode="after")
    def _one_score(self) -> EditBody:
        given = [
            n
            for n in ("score", "score_musicxml", "score_midi_base64", "score_path")
            if getattr(self, n) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give the score exactly once: score, score_musicxml, score_midi_base64 or score_path"
            )
        return self


def create_app(
    engine: Engine,
    settings: Settings,
    shutdown: Shutdown | None = None,
    body_timeout: float = HttpSettings.model_fields["http_body_timeout"].default,
) -> FastAPI:
    paths = PathPolicy(settings.allowed_dirs)
    outputs = _Outputs(paths)
    shutdown = shutdown or Shutdown()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(outputs.close)

    app = FastAPI(
        title="scorehost",
        description="Region inpainting for symbolic music: rewrite these cells, keep the rest, obey these constraints.",
        version="1",
        lifespan=lifespan,
        docs_url=None,  # served from the installed swagger-ui-bundle, not a CDN (apidocs.py)
        redoc_url=None,
    )
    install_api_docs(app)
    # Outermost last: the Host check, then the token, then the body's size, then the app.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, timeout=body_timeout)
    app.add_middleware(TokenCheck, token=settings.token)
    app.add_middleware(HostCheck, host=settings.host)
    _install_error_handlers(app)

    @app.get("/v1/health", responses=_errors())
    async def health() -> dict[str, Any]:
        return {"status": "ok", "device": engine.device, "jobs": len(engine.jobs)}

    @app.get("/v1/models", responses=_errors())
    async def models() -> list[dict[str, Any]]:
        return [m.info() for m in engine.host.models().values()]

    @app.get("/v1/models/{model_id}", responses=_errors(404, 422))
    async def model(model_id: str) -> dict[str, Any]:
        return engine.host.model(model_id).info()

    def submit(body: EditBody) -> Job:
        if shutdown.is_set():
            raise QueueFull("the server is shutting down; try again once it is back")
        if body.output_path:
            paths.writable(body.output_path)  # refuse now rather than after the work
        return engine.submit(_edit_request(body, paths, settings))

    @app.post("/v1/edit", response_model=dict[str, Any], responses=_errors(*_EDIT, 409, 500, 504))
    async def edit(body: EditBody, request: Request, format: ResultFormat = "json") -> Response:
        """Run an edit and answer with its result: the simple path for plugins and scripts."""
        job = await run_in_threadpool(submit, body)
        await _wait(job, request, shutdown)

        def answer() -> Response:
            result = job.wait(0)
            engine.forget(job.id)
            try:
                _write_output(body, result, paths)
            except ScoreWriteError as exc:
                return _unwritten(exc, "output_path", result.model_dump())
            return _result_response(result, format)

        return await run_in_threadpool(answer)

    @app.post("/v1/jobs", status_code=202, responses=_errors(*_EDIT))
    async def create_job(body: EditBody) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            job = submit(body)
            if body.output_path:
                outputs.forget_gone(engine.jobs)
                outputs.watch(job, body)
            return outputs.summary(job)

        return await run_in_threadpool(create)

    @app.get("/v1/jobs/{job_id}", responses=_errors(404, 422))
    async def job_status(
        job_id: str,
        wait: float = Query(
            default=0,
            ge=0,
            le=25,
            description="Seconds to wait for the job to end before answering (long polling, for "
            "clients whose requests time out: MuseScore's end after 30 s).",
        ),
    ) -> dict[str, Any]:
        job = _job(engine, job_id)
        if wait:
            await _ended(job, wait, shutdown)
        await outputs.written(job)  # "done" is said only once the output file is written, or not
        return outputs.summary(job)

    @app.get("/v1/jobs/{job_id}/result", responses=_errors(400, 404, 409, 422, 500, 504))
    async def job_result(
        job_id: str, format: ResultFormat = "json", variation: int | None = Query(default=None, ge=0)
    ) -> Any:
        job = _job(engine, job_id)
        if not job.done:
            raise ScorehostError(f"job {job_id} is {job.status}; poll /v1/jobs/{job_id} until it is done")
        await outputs.written(job)  # so that a failed write's warning is in the result

        def answer() -> Response:
            result = job.wait(0)  # raises the job's error
            if variation is None:
                return _result_response(result, format)
            if variation >= len(result.variations):
                raise RequestError(f"the job has {len(result.variations)} variations", "variation")
            score = result.variations[variation].score
            if format == "json":
                return _json(score.model_dump())
            try:
                return Response(score_bytes(score, _SUFFIX[format]), media_type=_MEDIA[format])
            except ScoreWriteError as exc:
                return _unwritten(exc, "format", score.model_dump())

        return await run_in_threadpool(answer)

    @app.delete("/v1/jobs/{job_id}", responses=_errors(404, 422))
    async def cancel_job(job_id: str) -> dict[str, Any]:
        """Cancel a job that has not finished (it is kept, to be seen cancelled); forget a
        finished one, freeing its result now rather than when it expires."""
        job = _job(engine, job_id)
        if not job.done:
            job.cancel()
            return outputs.summary(job)
        await outputs.written(job)
        summary = outputs.summary(job)
        engine.forget(job.id)
        return summary

    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ScorehostError)
    async def scorehost_error(_request: Request, exc: ScorehostError) -> JSONResponse:
        status = _STATUS.get(exc.code, 500 if exc.code == "model_error" else 409)
        return _error(status, exc.code, str(exc), getattr(exc, "field", None))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Starlette's own answers (no such route, a method a route does not take, a body it
        cannot parse) in the documented shape rather than {"detail": ...}."""
        code = _HTTP_CODES.get(exc.status_code, "bad_request")
        where = f"{request.method} {request.url.path}"
        message = {
            404: f"no such route: {where} (the routes are listed in /openapi.json)",
            405: f"{where}: the route does not take {request.method}",
            400: f"{where}: the body cannot be read as JSON ({exc.detail}; is it nested too deeply?)",
        }.get(exc.status_code, str(exc.detail))
        response = _error(exc.status_code, code, message, None)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        location = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        if first.get("loc") == ("body",) and first.get("type") == "model_attributes_type":
            return _error(
                400,
                "bad_json",
                "the body must be a JSON object, sent with Content-Type: application/json",
                None,
            )
        if first.get("type") == "json_invalid":
            return _error(
                400,
                "bad_json",
                f"the body is not valid JSON: {first.get('ctx', {}).get('error', 'parse error')}",
                None,
            )
        message = first.get("msg", "invalid request")
        more = len(exc.errors()) - 1
        return _error(
            422,
            "bad_request",
            f"{location}: {message}" + (f" (and {more} more)" if more else ""),
            location or None,
        )

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return _error(500, "internal", f"internal error: {type(exc).__name__}: {exc}", None)


def _error(status: int, code: str, message: str, field: str | None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}}, status_code=status)


def _edit_request(body: EditBody, paths: PathPolicy, settings: Settings) -> EditRequest:
    score = _score(body, paths, settings)
    return build_request(body.model, score, body.regions, body.constraints, body.options, body.timeout)


def _score(body: EditBody, paths: PathPolicy, settings: Settings) -> Score:
    if body.score is not None:
        score = score_from_json(body.score, source="score")
        check_note_count(score, settings.max_notes)
        return score
    if body.score_path is not None:
        return read_score(
            paths.readable(body.score_path), max_bytes=settings.max_body_bytes, max_notes=settings.max_notes
        )
    if body.score_musicxml is not None:
        return read_score_bytes(
            body.score_musicxml.encode(), ".musicxml", settings.max_notes, name="score_musicxml"
        )
    try:
        data = base64.b64decode(body.score_midi_base64 or "", validate=True)
    except (binascii.Error, ValueError):
        raise RequestError("not valid base64", "score_midi_base64") from None
    return read_score_bytes(data, ".mid", settings.max_notes, name="score_midi")


async def _wait(job: Job, request: Request, shutdown: Shutdown) -> None:
    """Wait for a job without holding a thread; cancel it if the client goes away or the
    server stops."""
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    job.on_change(lambda j: j.done and loop.call_soon_threadsafe(finished.set))
    shutdown.wake(finished)
    try:
        while not job.done:
            if shutdown.is_set():
                job.cancel()
                raise QueueFull(
                    f"the server is shutting down; job {job.id} was cancelled, send it again later"
                )
            try:
                await asyncio.wait_for(finished.wait(), timeout=0.5)
            except TimeoutError:
                if await request.is_disconnected():
                    job.cancel()
                    raise JobCancelled(f"job {job.id} was cancelled: the client went away") from None
    finally:
        shutdown.forget(finished)


async def _ended(job: Job, seconds: float, shutdown: Shutdown) -> None:
    """Wait up to `seconds` for a job to end, without holding a thread (or the server's stop)."""
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    job.on_change(lambda j: j.done and loop.call_soon_threadsafe(finished.set))
    shutdown.wake(finished)
    try:
        if not job.done and not shutdown.is_set():
            await asyncio.wait_for(finished.wait(), timeout=seconds)
    except TimeoutError:
        pass
    finally:
        shutdown.forget(finished)


def _job(engine: Engine, job_id: str) -> Job:
    job = engine.get(job_id)
    if job is None:
        error = ScorehostError(f"no job {job_id} (finished jobs are kept for a while, then forgotten)")
        error.code = "unknown_job"
        raise error
    return job


def _json(data: Any) -> Response:
    """The JSON response FastAPI makes of a handler's answer (pydantic's encoder), made in the
    calling thread rather than on the event loop."""
    return Response(_ANY.dump_json(data), media_type="application/json")


def _result_response(result: EditResult, format: ResultFormat) -> Response:
    """The result in the asked format; one the format cannot hold comes back as score-JSON
    inside a cannot_write error, so a finished result is never lost to its encoding."""
    try:
        return _json(_result_json(result, format))
    except ScoreWriteError as exc:
        return _unwritten(exc, "format", result.model_dump())


def _unwritten(exc: ScoreWriteError, field: str, result: dict[str, Any]) -> Response:
    """409 cannot_write, saying what could not be written, with the result as score-JSON."""
    message = f"{exc}; the result is in this answer as score-JSON (result)"
    body = {"error": {"code": exc.code, "message": message, "field": field}, "result": result}
    return Response(_ANY.dump_json(body), status_code=_STATUS[exc.code], media_type="application/json")


def _result_json(result: EditResult, format: ResultFormat) -> dict[str, Any]:
    data = result.model_dump()
    if format != "json":
        for variation, dumped in zip(result.variations, data["variations"], strict=True):
            del dumped["score"]
            raw = score_bytes(variation.score, _SUFFIX[format])
            if format == "musicxml":
                dumped["score_musicxml"] = raw.decode("utf-8")
            else:
                dumped["score_midi_base64"] = base64.b64encode(raw).decode("ascii")
    return data


def _write_output(body: EditBody, result: EditResult, paths: PathPolicy) -> None:
    if body.output_path:
        write_score(result.variations[0].score, paths.writable(body.output_path))


class _Outputs:
    """Writes the output file of each job that asked for one, once, when it is done: in a small
    pool of the app's own threads, never on the engine's worker or the event loop. What came of
    it is part of the job's summary (output: path, written, error) once it is known."""

    def __init__(self, paths: PathPolicy) -> None:
        self.paths = paths
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scorehost-http-write")
        self._pending: dict[str, Future[None]] = {}  # job id -> set once its file is handled
        self._reports: dict[str, dict[str, Any]] = {}  # job id -> its output's report
        self._lock = threading.Lock()

    def watch(self, job: Job, body: EditBody) -> None:
        handled: Future[None] = Future()
        handled.set_running_or_notify_cancel()  # a waiter that goes away cannot cancel it
        with self._lock:
            self._pending[job.id] = handled
            self._reports[job.id] = {"path": body.output_path, "written": False, "error": None}
        once = threading.Lock()  # taken by the first call that sees the job done, never released

        def changed(j: Job) -> None:
            if not j.done or not once.acquire(blocking=False):
                return
            try:
                self._pool.submit(self._write, j, body, handled)
            except RuntimeError:  # the app is shutting down: write here rather than not at all
                self._write(j, body, handled)

        job.on_change(changed)
        changed(job)  # it may have finished before the listener was added

    async def written(self, job: Job) -> None:
        """Return once a finished job's output file is written (or its failure noted)."""
        handled = self._pending.get(job.id)
        if handled is not None and job.done:
            await asyncio.wrap_future(handled)

    def summary(self, job: Job) -> dict[str, Any]:
        """The job's summary, with its warnings and, if it asked for a file, what came of it."""
        report = self._reports.get(job.id)
        extra = {"output": dict(report)} if report is not None else {}
        return job.summary() | {"warnings": list(job.warnings)} | extra

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def forget_gone(self, known: dict[str, Any]) -> None:
        """Drop the reports of jobs the engine has forgotten (it expires finished jobs)."""
        with self._lock:
            for job_id in [j for j in self._reports if j not in known and j not in self._pending]:
                del self._reports[job_id]

    def _write(self, job: Job, body: EditBody, handled: Future[None]) -> None:
        report = self._reports[job.id]
        try:
            if job.status != Status.DONE or job.result is None:
                return  # nothing to write: the job's own error says why
            _write_output(body, job.result, self.paths)
            report["written"] = True
        except Exception as exc:  # noqa: BLE001  (whatever it was, the job must say so)
            if not isinstance(exc, ScorehostError):
                log.exception("writing %s failed", body.output_path)
            code = getattr(exc, "code", "internal")
            report["error"] = {"code": code, "message": f"could not write {body.output_path}: {exc}"}
            warning = (
                f"could not write {body.output_path}: {exc}; fetch the result from /v1/jobs/{job.id}/result"
            )
            job.warn(warning)
            job.result.warnings.append(warning)  # the result was made before the write: it holds a copy
        finally:
            with self._lock:
                self._pending.pop(job.id, None)
            handled.set_result(None)
