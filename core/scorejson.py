"""Score-JSON: the score model as JSON, validated on the way in (see docs/score-json.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ScoreReadError, pydantic_message
from .score import Score


def score_from_json(data: str | bytes | dict[str, Any], source: str = "score") -> Score:
    if not isinstance(data, dict):
        try:
            data = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ScoreReadError(f"{source} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ScoreReadError(f"{source} must be a JSON object with a 'tracks' list")
    try:
        return Score.model_validate(data)
    except ValidationError as exc:
        raise ScoreReadError(f"{source} is not a valid score: {pydantic_message(exc)}") from exc


def score_to_json(score: Score) -> str:
    return score.model_dump_json(indent=1)


def read_json(path: Path) -> Score:
    return score_from_json(path.read_bytes(), source=path.name)


def write_json(score: Score, path: Path) -> None:
    path.write_text(score_to_json(score) + "\n", encoding="utf-8")


def score_json_schema() -> dict[str, Any]:
    return Score.model_json_schema()
