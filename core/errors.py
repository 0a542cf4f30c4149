"""Errors a user can act on. Every entry point turns these into one clear line or message."""

from __future__ import annotations


class ScorehostError(Exception):
    """Base class: the message is meant for the user, and says what to change."""

    code = "error"


class ScoreReadError(ScorehostError):
    code = "bad_score"


class ScoreWriteError(ScorehostError):
    code = "cannot_write"


class RequestError(ScorehostError):
    """A request that cannot be served as asked: names the field and the problem."""

    code = "bad_request"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


class UnknownModel(RequestError):
    code = "unknown_model"


class UnsupportedConstraint(RequestError):
    code = "unsupported_constraint"


class LimitExceeded(RequestError):
    code = "too_large"


class PathNotAllowed(RequestError):
    code = "path_not_allowed"


class JobCancelled(ScorehostError):
    code = "cancelled"


class JobTimeout(ScorehostError):
    code = "timeout"


class QueueFull(ScorehostError):
    code = "busy"


def pydantic_message(error) -> str:
    """One readable line from a pydantic ValidationError: the first problems, with their paths."""
    parts = []
    for item in error.errors()[:3]:
        path = ".".join(str(p) for p in item.get("loc", ()))
        parts.append(f"{path}: {item.get('msg')}" if path else str(item.get("msg")))
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message (or its type), short enough for one error line."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]
