"""`scorehost serve`'s flags, made from the settings' fields (the server's and each bridge's), so
a setting declared anywhere is a flag with its type, range and help, and none is copied by hand.

A field `osc_port` becomes `--osc-port`; a bool `--x/--no-x`; a list a flag to repeat; ints and
floats with bounds a range; a Literal a choice; a field's json_schema_extra may name another flag ("flag") and
what a Path must be ("path": "dir", "existing_dir" or "file").
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types as at
import click
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

_PATHS = {
    "dir": {"file_okay": False},
    "existing_dir": {"file_okay": False, "exists": True},
    "file": {"dir_okay": False},
}


def flag_of(name: str, info: FieldInfo) -> str:
    """The flag that sets a field: --the-name, unless the field names another."""
    return str(_extra(info).get("flag") or "--" + name.replace("_", "-"))


def options(model: type[BaseModel]) -> list[click.Option]:
    """A click option for each field of model; each leaves its value None (or ()) when not given,
    so environment variables and the config file still apply."""
    return [_option(name, info) for name, info in model.model_fields.items()]


def _option(name: str, info: FieldInfo) -> click.Option:
    flag = flag_of(name, info)
    kind, many = _kind(info.annotation)
    help_text = (info.description or "") + _default_text(info.get_default(call_default_factory=True))
    if kind is bool:
        return click.Option([f"{flag}/--no-{flag[2:]}", name], default=None, help=help_text)
    return click.Option(
        [flag, name], type=_click_type(kind, info), multiple=many, default=None, help=help_text
    )


def _kind(annotation: Any) -> tuple[Any, bool]:
    """The type a flag reads (Optional removed) and whether it repeats (a list)."""
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is list:
        return get_args(annotation)[0], True
    return annotation, False


def _click_type(kind: Any, info: FieldInfo) -> Any:
    if get_origin(kind) is Literal:
        return click.Choice([str(choice) for choice in get_args(kind)])
    if kind is Path:
        return click.Path(path_type=Path, **_PATHS.get(str(_extra(info).get("path")), {}))
    if kind in (int, float):
        bounds = _bounds(info)
        if bounds:
            return (click.IntRange if kind is int else click.FloatRange)(**bounds)
    return kind


def _bounds(info: FieldInfo) -> dict[str, Any]:
    """ge/gt/le/lt of a field as click range arguments."""
    bounds: dict[str, Any] = {}
    for item in info.metadata:
        if isinstance(item, at.Ge):
            bounds["min"] = item.ge
        elif isinstance(item, at.Gt):
            bounds |= {"min": item.gt, "min_open": True}
        elif isinstance(item, at.Le):
            bounds["max"] = item.le
        elif isinstance(item, at.Lt):
            bounds |= {"max": item.lt, "max_open": True}
    return bounds


def _default_text(default: Any) -> str:
    if default is None or default is False or default is PydanticUndefined or default in ("", [], ()):
        return ""
    shown = ", ".join(map(str, default)) if isinstance(default, list) else default
    return f" [default: {shown}]"


def _extra(info: FieldInfo) -> dict[str, Any]:
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
