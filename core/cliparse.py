"""The one syntax of regions, constraints and options, shared by the command line, OSC, MIDI,
the clients, the MuseScore plugin and HTTP: tracks by number (0-based, from the top), name or
role; spans as bars numbered as printed (a pickup is bar 0) or as ticks.

A region is a short form ('alto,tenor:2-4', 'bass:t960-1920', 'drums') or, in JSON, an object
{"track": 1 | "alto", "start": ticks, "end": ticks} or {"track": ..., "bars": "2-4"}.
Every parser resolves tracks against the score and raises RequestError naming what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import WrapValidator

from .constraints import SHORT_FORMS, Constraint
from .errors import RequestError, pydantic_message
from .requests import EditRequest, Region
from .score import PITCH_NAMES, ROLES, Score, Track

_CONSTRAINT = TypeAdapter(Constraint)


class RegionRef(BaseModel):
    """A region as a JSON client writes it: a track by number (0-based, from the top), name or
    role, and a span as ticks (start, end), as bars numbered as printed ("3", "2-4"), or
    neither (the whole piece); or the command line's short form as a string ("alto,tenor:2-4").
    A role the score lacks (alto, tenor, bass, drums, ...) is added as an empty track."""

    model_config = ConfigDict(extra="forbid")
    track: int | str | None = Field(
        default=None,
        description="A track number (a JSON integer, 0-based from the top), or a track's name or "
        "role, or several names separated by commas.",
    )
    start: int | None = Field(default=None, ge=0, description="First tick (480 per quarter).")
    end: int | None = Field(default=None, gt=0, description="Tick after the last one written.")
    bars: str | None = Field(default=None, max_length=40, description='Bars as printed: "3" or "2-4".')
    text: str | None = Field(
        default=None, max_length=400, description='The short form, as on the command line: "alto,tenor:2-4".'
    )

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"text": data}
        if not isinstance(data, dict | RegionRef):
            raise ValueError(
                'a region is an object such as {"track": "alto", "bars": "2-4"}, or text: "alto:2-4"'
            )
        return data

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        # say in the schema too that a region may be its short form
        text = {"type": "string", "description": 'The short form, as on the command line: "alto,tenor:2-4".'}
        return {"anyOf": [handler(core_schema), text]}

    @field_validator("track", mode="plain", json_schema_input_type=Annotated[int, Field(ge=0)] | str)
    @classmethod
    def _track(cls, value: Any) -> int | str:
        # one error at regions[i].track whatever is wrong, never a list of union members
        if type(value) is int and value >= 0:
            return value
        if isinstance(value, str) and value.strip() and len(value) <= 200:
            if any(part.strip().isdigit() for part in value.split(",")):
                raise ValueError(f"write a track number as a JSON integer, not the text {value!r}")
            return value.strip()
        raise ValueError(
            f"a track is a JSON integer (0-based, from the top) or a track's name or role, not {value!r}"
        )

    @model_validator(mode="after")
    def _one_span(self) -> RegionRef:
        if self.text is not None:
            if any(v is not None for v in (self.track, self.start, self.end, self.bars)):
                raise ValueError("give a region as its short form or as an object, not both")
            return self
        if self.track is None:
            raise ValueError("name the track: a number (0-based), a name or a role")
        if (self.start is None) != (self.end is None):
            raise ValueError("give both start and end (ticks), or bars, or neither for the whole piece")
        if self.bars is not None and self.start is not None:
            raise ValueError("give the span once: start and end (ticks) or bars")
        if self.start is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


def _constraint_text(value: Any, handler: Any) -> Any:
    """A short form ("range:alto:G3-D5") stays text, read against the score by build_request;
    anything else is a constraint object, with the errors (and field paths) of one."""
    if isinstance(value, str):
        if not 0 < len(value) <= 400:
            raise ValueError("a constraint's short form is 1 to 400 characters")
        return value
    return handler(value)


# A constraint in a request: its JSON object, or the short form as text.
ConstraintSpec = Annotated[
    Constraint, WrapValidator(_constraint_text, json_schema_input_type=Constraint | str)
]


def track_refs(score: Score, text: str, field: str) -> list[int]:
    try:
        return [score.track_index(part) for part in text.split(",") if part.strip()]
    except KeyError as exc:
        raise RequestError(str(exc.args[0]), field) from None


def add_named_tracks(score: Score, track_lists: list[str]) -> Score:
    """Add an empty track for each named SATB/role track the score lacks (harmonizing a melody).

    When that leaves exactly one track without a role beside alto, tenor and bass, that track
    is the soprano.
    """
    tracks = list(score.tracks)
    for text in track_lists:
        for name in (p.strip() for p in text.split(",")):
            if not name or name.isdigit():
                continue
            try:
                score.track_index(name)
            except KeyError:
                if name.lower() not in ROLES:
                    continue
                tracks.append(_new_track(name.lower(), tracks))
                score = score.model_copy(update={"tracks": tracks})
    roles = {t.role for t in tracks}
    unroled = [i for i, t in enumerate(tracks) if t.role is None]
    if {"alto", "tenor", "bass"} <= roles and "soprano" not in roles and len(unroled) == 1:
        tracks[unroled[0]] = tracks[unroled[0]].model_copy(update={"role": "soprano"})
    return score.model_copy(update={"tracks": tracks})


# General MIDI programs of new tracks named by role; voices take the first track's program.
_NEW_TRACK_PROGRAMS = {"bassline": 33, "chords": 0, "drums": 0}


def _new_track(role: str, tracks: list[Track]) -> Track:
    program = _NEW_TRACK_PROGRAMS.get(role, tracks[0].program if tracks else 0)
    return Track(name=role.capitalize(), role=role, program=program, is_drum=role == "drums")


def parse_span(score: Score, text: str, field: str) -> tuple[int, int]:
    """'3' (bar 3), '2-4' (bars 2 to 4), 't960-1920' (ticks), or '' / 'all' (the whole piece)."""
    text = text.strip().lower()
    if text in ("", "all"):
        return 0, score.length
    ticks = re.fullmatch(r"t(\d+)-(\d+)", text)
    if ticks:
        return int(ticks.group(1)), int(ticks.group(2))
    bars = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
    if not bars:
        raise RequestError(
            f"cannot read the span {text!r}; write a bar (3), bars (2-4) or ticks (t960-1920)", field
        )
    first, last = int(bars.group(1)), int(bars.group(2) or bars.group(1))
    numbered = {b.number: b for b in score.bars()}
    for number in (first, last):
        if number not in numbered:
            low, high = min(numbered, default=0), max(numbered, default=0)
            raise RequestError(f"bar {number} is not in the score (bars {low}..{high})", field)
    if last < first:
        raise RequestError(f"bar {last} comes before bar {first}", field)
    return numbered[first].start, numbered[last].end


def parse_region(score: Score, spec: str) -> list[Region]:
    """'alto,tenor:3-4' -> one Region per track."""
    field = f"region {spec!r}"
    tracks_text, _, span_text = spec.partition(":")
    start, end = parse_span(score, span_text, field)
    if end <= start:
        raise RequestError("the span is empty", field)
    return [Region(track=t, start=start, end=end) for t in track_refs(score, tracks_text, field)]


def parse_pitch(text: str, field: str) -> int:
    text = text.strip()
    if text.isdigit():
        value = int(text)
    else:
        from music21 import pitch

        try:
            value = pitch.Pitch(text).midi
        except Exception:
            raise RequestError(f"{text!r} is not a pitch (write 60 or C4)", field) from None
    if not 0 <= value <= 127:
        raise RequestError(f"pitch {value} is outside 0..127", field)
    return value


def parse_key(text: str, field: str) -> tuple[int, str]:
    match = re.fullmatch(
        r"([A-Ga-g])([#b]?)[- ]?(major|minor|dorian|phrygian|lydian|mixolydian|aeolian|locrian)?",
        text.strip(),
    )
    if not match:
        raise RequestError(f"cannot read the key {text!r}; write e.g. D-minor or Bb-major", field)
    letter, accidental, mode = match.groups()
    tonic = PITCH_NAMES.index(letter.upper()) + {"#": 1, "b": -1, "": 0}[accidental]
    return tonic % 12, mode or "major"


def parse_constraint(score: Score, spec: str) -> Constraint:
    field = f"constraint {spec!r}"
    if spec.strip().startswith("{"):
        try:
            return _CONSTRAINT.validate_python(json.loads(spec))
        except json.JSONDecodeError as exc:
            raise RequestError(f"invalid JSON ({exc.msg})", field) from None
        except ValidationError as exc:
            raise RequestError(pydantic_message(exc), field) from None
    kind, _, rest = spec.partition(":")
    args = rest.split(":") if rest else []
    try:
        kind = kind.strip().lower()
        return SHORT_FORMS[kind].from_short(kind, score, args, field)
    except KeyError:
        known = ", ".join(sorted(SHORT_FORMS))
        raise RequestError(f"unknown constraint {kind!r} (known: {known}, or a JSON object)", field) from None
    except ValidationError as exc:  # before ValueError, which it subclasses: say which value is wrong
        raise RequestError(pydantic_message(exc), field) from None
    except (IndexError, ValueError):
        raise RequestError("missing or malformed parts; see scorehost edit --help", field) from None


def build_request(
    model: str,
    score: Score,
    regions: list[str | RegionRef | Region],
    constraints: list[str | Constraint] = (),  # type: ignore[assignment]
    options: dict[str, Any] | None = None,
    timeout: float | None = None,
    add_roles: bool = True,
) -> EditRequest:
    """An EditRequest from region and constraint specs, as every bridge and client reads them:
    short forms, RegionRef objects, or regions and constraints already resolved.

    With add_roles, a role a region names that the score lacks (alto, drums, ...) is added
    as an empty track first. Raises one RequestError naming what is wrong.
    """
    if add_roles:
        score = add_named_tracks(score, [_tracks_text(spec) for spec in regions])
    try:
        return EditRequest(
            model=model,
            score=score,
            regions=[r for i, spec in enumerate(regions) for r in _regions_of(score, spec, i)],
            constraints=[c if not isinstance(c, str) else parse_constraint(score, c) for c in constraints],
            options=options or {},
            timeout=timeout,
        )
    except ValidationError as exc:
        raise RequestError(pydantic_message(exc)) from None


def _tracks_text(spec: str | RegionRef | Region) -> str:
    if isinstance(spec, RegionRef) and spec.text is not None:
        spec = spec.text
    if isinstance(spec, str):
        return spec.partition(":")[0]
    return str(spec.track)


def _regions_of(score: Score, spec: str | RegionRef | Region, index: int) -> list[Region]:
    if isinstance(spec, Region):
        return [spec]
    if isinstance(spec, RegionRef) and spec.text is not None:
        spec = spec.text
    if isinstance(spec, str):
        return parse_region(score, spec)
    field = f"regions[{index}]"
    # a JSON number is a track number; text is a name, a role, or numbers as the CLI writes them
    tracks = [spec.track] if isinstance(spec.track, int) else track_refs(score, spec.track, f"{field}.track")
    if spec.start is not None:
        start, end = spec.start, spec.end
    else:
        start, end = parse_span(score, spec.bars or "", f"{field}.bars")
    return [Region(track=t, start=start, end=end) for t in tracks]


MAX_OPTION_DEPTH = 32  # lists and objects inside an option value


def parse_option(pair: str, field: str = "--option") -> tuple[str, Any]:
    """KEY=VALUE; the value is read as JSON when it can be (numbers, true/false), else as text.

    A value that holds NaN or an infinity (JSON as Python reads it allows both), or nests
    deeper than MAX_OPTION_DEPTH, is refused naming the option: a model's bounds would
    otherwise say "less than 3" of a NaN, and a deep one would end in a RecursionError.
    """
    key, sep, value = pair.partition("=")
    if not sep or not key.strip():
        raise RequestError(f"write options as KEY=VALUE, not {pair!r}", field)
    key = key.strip()
    where = f"{field} {key[:64]}"
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return key, value
    except RecursionError:  # json's own limit, far past ours
        raise RequestError(
            f"the value nests lists or objects more than {MAX_OPTION_DEPTH} deep", where
        ) from None
    _check_option_value(parsed, where)
    return key, parsed


def _check_option_value(value: Any, where: str) -> None:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise RequestError(f"{item} is not a finite number; give a number such as 0.5", where)
        if isinstance(item, list | dict):
            if depth + 1 > MAX_OPTION_DEPTH:
                raise RequestError(
                    f"the value nests lists or objects more than {MAX_OPTION_DEPTH} deep", where
                )
            stack += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]


def parse_options(options_class: type[BaseModel], pairs: list[str], **given: Any) -> BaseModel:
    """A model's options from KEY=VALUE pairs (plus given values), or one RequestError."""
    values = {**given, **dict(parse_option(pair) for pair in pairs)}
    try:
        return options_class.model_validate(values)
    except ValidationError as exc:
        raise RequestError(pydantic_message(exc), "--option") from None
