"""A meter written as text (4/4, 3/4, 6/8): one reader for every bridge and setting, with the
limits of the score's own TimeSignature."""

from __future__ import annotations

import re

from pydantic import ValidationError

from .errors import RequestError
from .score import TimeSignature

# two digits at most: TimeSignature allows 1..64, and a longer run of digits is refused before int()
_METER = re.compile(r"\s*(\d{1,2})\s*/\s*(\d{1,2})\s*")


def parse_meter(text: str, field: str = "meter") -> tuple[int, int]:
    """(numerator, denominator) of a meter such as 6/8; a RequestError names field otherwise."""
    if match := _METER.fullmatch(text):
        try:
            signature = TimeSignature(tick=0, numerator=int(match[1]), denominator=int(match[2]))
            return signature.numerator, signature.denominator
        except ValidationError:
            pass
    raise RequestError(f"write the meter as 4/4, 3/4, 6/8 ..., not {text!r}", field)
