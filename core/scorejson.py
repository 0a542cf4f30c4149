"""Score-JSON: the score model as JSON, validated on the way in (see docs/score-json.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .bars import time_signatures_from_bars
from .errors import LimitExceeded, ScoreReadError, pydantic_message
from .keys import keys_from_sharps
from .score import MAX_BARS, Score


def score_from_json(data: str | bytes | dict[str, Any], source: str = "score") -> Score:
    if not isinstance(data, dict):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ScoreReadError(f"{source} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ScoreReadError(f"{source} must be a JSON object with a 'tracks' list")
    try:
        return _with_editor_conveniences(data)
    except ValidationError as exc:
        raise ScoreReadError(f"{source} is not a valid score: {pydantic_message(exc)}") from exc


def _with_editor_conveniences(data: dict[str, Any]) -> Score:
    """Validate, accepting what an editor's plugin can state more easily than the map itself:
    "bars" ([start, length, numerator, denominator] as shown) instead of time_signatures, and
    keys given as {"tick", "sharps"}, whose mode is then read from the notes."""
    data = dict(data)
    bars = data.pop("bars", None)
    if bars is not None:
        if "time_signatures" in data:
            raise ScoreReadError("give either bars or time_signatures, not both")
        if isinstance(bars, list) and len(bars) > MAX_BARS:  # before a signature is made for each
            raise LimitExceeded(f"the score has {len(bars):,} bars; the limit is {MAX_BARS:,}", "bars")
        rows = TypeAdapter(list[tuple[int, int, int, int]]).validate_python(bars)
        data["time_signatures"] = [t.model_dump() for t in time_signatures_from_bars(rows)]
    keys = data.get("keys")
    if isinstance(keys, list) and keys and all(isinstance(k, dict) and "sharps" in k for k in keys):
        sharps = TypeAdapter(list[_SharpsKey]).validate_python(keys)
        data.pop("keys")
        score = Score.model_validate(data)
        return score.model_copy(
            update={"keys": keys_from_sharps([(k.tick, k.sharps) for k in sharps], score.tracks)}
        )
    return Score.model_validate(data)


class _SharpsKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tick: int = Field(ge=0)
    sharps: int = Field(ge=-7, le=7)


def score_to_json(score: Score) -> str:
    return score.model_dump_json(indent=1)


def read_json(path: Path) -> Score:
    return score_from_json(path.read_bytes(), source=path.name)


def write_json(score: Score, path: Path) -> None:
    path.write_text(score_to_json(score) + "\n", encoding="utf-8")


def score_json_schema() -> dict[str, Any]:
    return Score.model_json_schema()
