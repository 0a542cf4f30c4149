"""The HTTP API: models, a synchronous edit for simple clients (MuseScore's QML), and a jobs
resource (create, poll, fetch the result as score-JSON, MusicXML or MIDI, cancel).

Errors are JSON, {"error": {"code", "message", "field"}}, with a status that says whose fault
it is. The app never lets an exception out: a failing request is answered and forgotten.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from typing import Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from scorehost.core.engine import Engine, Job, Status
from scorehost.core.errors import JobCancelled, RequestError, ScorehostError
from scorehost.core.paths import PathPolicy
from scorehost.core.requests import MAX_REGIONS, Constraint, EditRequest, EditResult, Region
from scorehost.core.score import Score
from scorehost.core.scoreio import check_note_count, read_score, read_score_bytes, score_bytes, write_score
from scorehost.core.scorejson import score_from_json
from scorehost.core.settings import Settings

from .limits import BodySizeLimit

log = logging.getLogger("scorehost.http")

ResultFormat = Literal["json", "musicxml", "midi"]
_MEDIA = {"musicxml": "application/vnd.recordare.musicxml+xml", "midi": "audio/midi"}
_SUFFIX = {"musicxml": ".musicxml", "midi": ".mid"}
_STATUS = {
    "bad_request": 400,
    "bad_score": 400,
    "unsupported_constraint": 400,
    "path_not_allowed": 403,
    "unknown_model": 404,
    "unknown_job": 404,
    "cancelled": 409,
    "too_large": 413,
    "busy": 503,
    "timeout": 504,
}


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
    regions: list[Region] = Field(min_length=1, max_length=MAX_REGIONS)
    constraints: list[Constraint] = Field(default_factory=list, max_length=64)
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


def create_app(engine: Engine, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="scorehost",
        description="Region inpainting for symbolic music: rewrite these cells, keep the rest, obey these constraints.",
        version="1",
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    paths = PathPolicy(settings.allowed_dirs)

    async def authorized(request: Request) -> None:
        if settings.token:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {settings.token}".encode()):
                raise _Unauthorized()

    app.router.dependencies.append(Depends(authorized))
    _install_error_handlers(app)

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "device": engine.device, "jobs": len(engine.jobs)}

    @app.get("/v1/models")
    async def models() -> list[dict[str, Any]]:
        return [m.info() for m in engine.host.models().values()]

    @app.get("/v1/models/{model_id}")
    async def model(model_id: str) -> dict[str, Any]:
        return engine.host.model(model_id).info()

    @app.post("/v1/edit")
    async def edit(body: EditBody, request: Request, format: ResultFormat = "json") -> dict[str, Any]:
        """Run an edit and answer with its result: the simple path for plugins and scripts."""
        job = engine.submit(_edit_request(body, paths, settings))
        await _wait(job, request)
        result = job.wait(0)
        _write_output(body, result, paths)
        engine.forget(job.id)
        return _result_json(result, format)

    @app.post("/v1/jobs", status_code=202)
    async def create_job(body: EditBody) -> dict[str, Any]:
        job = engine.submit(_edit_request(body, paths, settings))
        if body.output_path:
            paths.writable(body.output_path)  # refuse now rather than after the work
            job.on_change(lambda j: _write_when_done(j, body, paths))
        return job.summary()

    @app.get("/v1/jobs/{job_id}")
    async def job_status(job_id: str) -> dict[str, Any]:
        return _job(engine, job_id).summary()

    @app.get("/v1/jobs/{job_id}/result")
    async def job_result(
        job_id: str, format: ResultFormat = "json", variation: int | None = Query(default=None, ge=0)
    ) -> Any:
        job = _job(engine, job_id)
        if not job.done:
            raise ScorehostError(f"job {job_id} is {job.status}; poll /v1/jobs/{job_id} until it is done")
        result = job.wait(0)  # raises the job's error
        if variation is None:
            return _result_json(result, format)
        if variation >= len(result.variations):
            raise RequestError(f"the job has {len(result.variations)} variations", "variation")
        score = result.variations[variation].score
        if format == "json":
            return score.model_dump()
        return Response(score_bytes(score, _SUFFIX[format]), media_type=_MEDIA[format])

    @app.delete("/v1/jobs/{job_id}")
    async def cancel_job(job_id: str) -> dict[str, Any]:
        job = _job(engine, job_id)
        job.cancel()
        return job.summary()

    return app


class _Unauthorized(ScorehostError):
    code = "unauthorized"

    def __init__(self) -> None:
        super().__init__("missing or wrong token: send the header Authorization: Bearer TOKEN")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ScorehostError)
    async def scorehost_error(_request: Request, exc: ScorehostError) -> JSONResponse:
        status = (
            401
            if isinstance(exc, _Unauthorized)
            else _STATUS.get(exc.code, 500 if exc.code == "model_error" else 409)
        )
        return _error(status, exc.code, str(exc), getattr(exc, "field", None))

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
    return EditRequest(
        model=body.model,
        score=_score(body, paths, settings),
        regions=body.regions,
        constraints=body.constraints,
        options=body.options,
        timeout=body.timeout,
    )


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


async def _wait(job: Job, request: Request) -> None:
    """Wait for a job without holding a thread; cancel it if the client goes away."""
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()
    job.on_change(lambda j: j.done and loop.call_soon_threadsafe(finished.set))
    while not job.done:
        try:
            await asyncio.wait_for(finished.wait(), timeout=0.5)
        except TimeoutError:
            if await request.is_disconnected():
                job.cancel()
                raise JobCancelled(f"job {job.id} was cancelled: the client went away") from None


def _job(engine: Engine, job_id: str) -> Job:
    job = engine.get(job_id)
    if job is None:
        error = ScorehostError(f"no job {job_id} (finished jobs are kept for a while, then forgotten)")
        error.code = "unknown_job"
        raise error
    return job


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


def _write_when_done(job: Job, body: EditBody, paths: PathPolicy) -> None:
    if job.done and job.status == Status.DONE and job.result is not None:
        try:
            _write_output(body, job.result, paths)
        except ScorehostError as exc:
            job.warn(f"could not write {body.output_path}: {exc}")
