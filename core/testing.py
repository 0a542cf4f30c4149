"""Helpers for testing a scorehost plugin: run a model the way the engine does and check that
it keeps the contract every model makes.

    from scorehost.core.testing import check_model, plugin_models

    def test_registers_its_model():
        assert "my-model" in plugin_models(my_plugin)

    def test_writes_the_region(score):
        request = EditRequest(model="my-model", score=score, regions=[Region(track=1, start=0, end=1920)])
        [variation] = check_model(MyModel(), request)
        ...  # check what the model wrote

The fake job context is `LocalJob` (also in `scorehost.core`): it records progress and
warnings and never cancels. Nothing here needs pytest; failures are AssertionErrors, which
pytest shows with their message.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel

from .engine import Engine
from .errors import ScorehostError
from .hookspecs import hookimpl
from .host import ENV_VAR, Host
from .model import LocalJob, Model
from .regions import constraint_violations, is_written, merge_result, spans_by_track
from .requests import EditRequest, Options, Variation
from .score import Score, Track, note_tuples

__all__ = ["LocalJob", "check_model", "plugin_host", "plugin_models"]

_SHOWN = 5  # differences listed per kind in a failure message


def plugin_host(*plugins: Any) -> Host:
    """A Host with no built-ins and no entry-point plugins, with these plugins registered
    (modules or objects with hook implementations), as scorehost registers them."""
    host = Host(builtins=(), env={ENV_VAR: ""})
    for plugin in plugins:
        host.pm.register(plugin)
    return host


def plugin_models(plugin: Any) -> dict[str, Model]:
    """The models a plugin registers (model id -> Model), listed through a Host as
    `scorehost models` lists them. AssertionError if the plugin's hook fails: a Host would
    only mark it broken."""
    host = plugin_host(plugin)
    models = host.models()
    if host.broken:
        raise AssertionError(
            "; ".join(f"plugin {name} is broken: {why}" for name, why in host.broken.items())
        )
    return models


class _OneModel:
    def __init__(self, model: Model) -> None:
        self.model = model

    @hookimpl
    def register_models(self, register) -> None:
        register(self.model)


def check_model(
    model: Model,
    request: EditRequest,
    options: Options | dict[str, Any] | None = None,
    *,
    job: LocalJob | None = None,
) -> list[Variation]:
    """Run model on request as the engine does, and check the contract; return the variations.

    As the engine: the request is checked against its score, the options are validated with
    the model's Options class and model.check() runs (a refusal raises its RequestError, so
    `pytest.raises(RequestError)` tests it); the model is loaded onto the job's device if it
    is not there yet; then model.inpaint_batch() serves the request as a batch of one.

    options replaces request.options when given (a dict, or an Options instance); request.model
    is set to the model's id. job defaults to a new LocalJob() (on the CPU); pass your own to
    look at the progress and warnings it recorded.

    AssertionError, naming the broken promise, unless: the model returns options.variations
    Variation objects with as many tracks as the input; leaves the request's score as it was;
    changes nothing outside the regions (every other note, note for note, and the score's
    maps and track metadata) and writes no note past the end of its region; every hard
    constraint of the request holds; progress stays within 0..1.

    The variations returned are merged into the input as the engine merges them (the same
    scores, since the model kept the contract).
    """
    updates: dict[str, Any] = {"model": model.model_id}
    if options is not None:
        updates["options"] = options.model_dump() if isinstance(options, BaseModel) else dict(options)
    request = request.model_copy(update=updates)
    engine = Engine(plugin_host(_OneModel(model)), device="cpu")
    try:
        model, options = engine.prepare(request)
    finally:
        engine.shutdown()
    job = job if job is not None else LocalJob()
    if model.device != job.device:
        model.load(job.device)
    before = request.score.model_copy(deep=True)
    outputs = model.inpaint_batch([(request, options, job)])
    name = f"model {model.model_id}"
    if len(outputs) != 1:
        raise AssertionError(f"{name}: inpaint_batch returned {len(outputs)} results for 1 request")
    if isinstance(outputs[0], ScorehostError):
        raise outputs[0]
    if request.score != before:
        raise AssertionError(f"{name} changed the request's score in place; copy what it rewrites")
    return _checked(name, request, options, outputs[0], job)


def _checked(
    name: str, request: EditRequest, options: Options, variations: Any, job: LocalJob
) -> list[Variation]:
    if not isinstance(variations, list) or not all(isinstance(v, Variation) for v in variations):
        raise AssertionError(f"{name} returned {variations!r:.200}; inpaint must return a list of Variation")
    if len(variations) != options.variations:
        raise AssertionError(
            f"{name} returned {len(variations)} variations; the request asked for {options.variations}"
        )
    merged = []
    for i, variation in enumerate(variations):
        where = f"{name}, variation {i}"
        try:
            score = merge_result(request.score, variation.score, request.regions)
        except ScorehostError as exc:
            raise AssertionError(f"{where}: {exc}") from None
        changes = _changes(request, variation.score.normalized(), score)
        if changes:
            raise AssertionError(
                f"{where} changed what it was not asked to write:\n  " + "\n  ".join(changes)
            )
        problems = constraint_violations(request, score)
        if problems:
            raise AssertionError(f"{where} broke a constraint:\n  " + "\n  ".join(problems))
        merged.append(variation.model_copy(update={"score": score}))
    outside = [f for f in getattr(job, "fractions", []) if not 0 <= f <= 1]
    if outside:
        raise AssertionError(f"{name} reported progress outside 0..1: {outside[:_SHOWN]}")
    return merged


def _changes(request: EditRequest, given: Score, expected: Score) -> list[str]:
    """How the model's score differs from the input with only its regions rewritten."""
    if given == expected:
        return []
    changes = [
        f"the score's {field}"
        for field in Score.model_fields
        if field != "tracks" and getattr(given, field) != getattr(expected, field)
    ]
    spans = spans_by_track(request.regions)
    for index, (got, want) in enumerate(zip(given.tracks, expected.tracks, strict=True)):
        label = f"track {index}" + (f" ({want.name or want.role})" if want.name or want.role else "")
        fields = [f for f in Track.model_fields if f != "notes" and getattr(got, f) != getattr(want, f)]
        if fields:
            changes.append(f"{label}: its {', '.join(fields)}")
        added = Counter(note_tuples(got)) - Counter(note_tuples(want))
        removed = Counter(note_tuples(want)) - Counter(note_tuples(got))
        for what, notes in (
            (
                "added or changed outside the regions",
                [n for n in added if not is_written(spans, index, n[0])],
            ),
            (
                "removed or changed outside the regions",
                [n for n in removed if not is_written(spans, index, n[0])],
            ),
            ("sounding past the end of their region", [n for n in added if is_written(spans, index, n[0])]),
        ):
            if notes:
                shown = ", ".join(_note(n) for n in sorted(notes)[:_SHOWN])
                more = f" and {len(notes) - _SHOWN} more" if len(notes) > _SHOWN else ""
                changes.append(f"{label}: notes {what}: {shown}{more}")
    return changes or ["the score (it differs from the input with the regions rewritten)"]


def _note(key: tuple[int, ...]) -> str:
    start, pitch, duration, velocity = key
    return f"pitch {pitch} at tick {start} ({duration} ticks, velocity {velocity})"
