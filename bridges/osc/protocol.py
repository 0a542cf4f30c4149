"""The OSC address space of scorehost (docs/osc.md): encoding, decoding and argument reading.

Pure functions only: no sockets, no engine. Every request may start with a tag (an int, or a
string without '='), echoed as the first argument of every reply, so a client can match
replies to requests; then come KEY=VALUE strings and, for inline scores, note lists.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from scorehost.core.errors import LimitExceeded, RequestError
from scorehost.core.meter import parse_meter
from scorehost.core.score import (
    MAX_TICKS,
    ROLES,
    TICKS_PER_QUARTER,
    KeySignature,
    Note,
    Score,
    Tempo,
    TimeSignature,
    Track,
)

PREFIX = "/scorehost"
MAX_DATAGRAM = 65_507  # the most a UDP datagram over IPv4 holds
SAFE_DATAGRAM = 8_192  # what peers with default buffers (python-osc, Max) receive
NOTES_PER_CHUNK = 256  # 256 notes x 4 values fit well inside SAFE_DATAGRAM
MAX_MESSAGE_TEXT = 1_000

# Requests (client -> server).
PING, MODELS, EDIT, STATUS, CANCEL = "ping", "models", "edit", "status", "cancel"
LIVE_FILL, LIVE_CLEAR, LIVE_STATUS = "live/fill", "live/clear", "live/status"
REQUESTS = (PING, MODELS, EDIT, STATUS, CANCEL, LIVE_FILL, LIVE_CLEAR, LIVE_STATUS)


def address(name: str) -> str:
    return f"{PREFIX}/{name}"


# ---- encoding ---------------------------------------------------------------------------


def encode(addr: str, *args: Any) -> bytes:
    """One OSC message; ints as int32 (int64 when they do not fit), floats as float32."""
    builder = OscMessageBuilder(addr)
    for arg in args:
        if isinstance(arg, bool):
            builder.add_arg(arg)
        elif isinstance(arg, int):
            builder.add_arg(arg, "i" if -(2**31) <= arg < 2**31 else "h")
        elif isinstance(arg, float):
            builder.add_arg(arg, "f")
        elif arg is None:
            builder.add_arg(None)
        elif isinstance(arg, bytes):
            builder.add_arg(arg, "b")
        else:
            builder.add_arg(str(arg), "s")
    return builder.build().dgram


def decode(data: bytes) -> list[tuple[str, list[Any]]]:
    """The messages of a datagram (a message or a bundle); raises ValueError when malformed."""
    if not data:
        raise ValueError("empty datagram")
    try:
        packet = OscPacket(data)
    except Exception as exc:  # python-osc raises ParseError, but also IndexError and others
        raise ValueError(f"not an OSC message or bundle ({type(exc).__name__}: {exc})") from None
    return [(m.message.address, list(m.message.params)) for m in packet.messages]


def clip(text: str, limit: int = MAX_MESSAGE_TEXT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- reading arguments ------------------------------------------------------------------


_KEY = re.compile(r"^([A-Za-z_][\w.\-]*)=(.*)$", re.S)


@dataclass
class InlineTrack:
    name: str
    program: int = 0
    is_drum: bool = False
    values: list[float] = field(default_factory=list)


@dataclass
class Arguments:
    """A request's arguments: the tag, KEY=VALUE pairs in order, inline tracks with notes."""

    tag: Any = ""
    pairs: list[tuple[str, str]] = field(default_factory=list)
    tracks: list[InlineTrack] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        found = [v for k, v in self.pairs if k == key]
        return found[-1] if found else default

    def all(self, *keys: str) -> list[str]:
        return [v for k, v in self.pairs if k in keys]

    def keys(self) -> set[str]:
        return {k for k, _ in self.pairs}


def leading_tag(args: list[Any]) -> Any:
    """The tag of a request, read leniently (for error replies to requests that fail to parse)."""
    if args and _is_tag(args[0]):
        return args[0]
    return ""


def _is_tag(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and "=" not in value and value != "track" and len(value) <= 200


def reply_port(args: list[Any]) -> int | None:
    """The reply=PORT argument, read leniently, so even a bad request's error goes there."""
    for value in args:
        if isinstance(value, str) and value.startswith("reply="):
            text = value[6:].strip()
            if text.isdigit() and 0 < int(text) < 65536:
                return int(text)
    return None


def read_arguments(args: list[Any]) -> Arguments:
    """Split a request's arguments; raises RequestError naming the argument that is wrong."""
    result = Arguments(tag=leading_tag(args))
    rest = args[1:] if args and _is_tag(args[0]) else args
    for position, value in enumerate(rest, start=2 if result.tag != "" else 1):
        where = f"argument {position}"
        if isinstance(value, bool) or value is None or isinstance(value, bytes | bytearray):
            raise RequestError(f"unexpected {type(value).__name__} {value!r}", where)
        if isinstance(value, int | float):
            if not result.tracks:
                raise RequestError(
                    f"a number ({value!r}) before any track=NAME; notes follow a track=NAME argument",
                    where,
                )
            result.tracks[-1].values.append(float(value))
            continue
        if not isinstance(value, str):
            raise RequestError(f"unexpected argument of type {type(value).__name__}", where)
        if value == "track" or value.startswith("track="):
            result.tracks.append(_inline_track(value.partition("=")[2], where))
            continue
        match = _KEY.match(value.strip())
        if not match:
            raise RequestError(f"expected KEY=VALUE, a number, or track=NAME, not {clip(value, 80)!r}", where)
        result.pairs.append((match.group(1).lower(), match.group(2).strip()))
    return result


def _inline_track(spec: str, where: str) -> InlineTrack:
    """track=NAME[:PROGRAM|:drums]."""
    name, _, extra = spec.partition(":")
    track = InlineTrack(name=name.strip()[:200])
    extra = extra.strip().lower()
    if extra in ("drums", "drum", "d"):
        track.is_drum = True
    elif extra:
        if not extra.isdigit() or not 0 <= int(extra) <= 127:
            raise RequestError(
                f"the program of track {name!r} must be 0..127 or 'drums', not {extra!r}", where
            )
        track.program = int(extra)
    return track


# ---- inline scores ----------------------------------------------------------------------


def to_ticks(value: float, unit: str) -> int:
    return round(value * TICKS_PER_QUARTER) if unit == "beats" else round(value)


def from_ticks(tick: int, unit: str) -> float | int:
    return tick / TICKS_PER_QUARTER if unit == "beats" else int(tick)


def read_unit(args: Arguments) -> str:
    unit = (args.get("unit") or "beats").lower()
    if unit not in ("beats", "ticks"):
        raise RequestError(f"unit must be beats or ticks, not {unit!r}", "unit")
    return unit


def _number(text: str, field: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise RequestError(f"{text!r} is not a number", field) from None
    if not low <= value <= high:
        raise RequestError(f"{value:g} is outside {low:g}..{high:g}", field)
    return value


def inline_score(args: Arguments, unit: str) -> Score:
    """A score from note lists: track=NAME then PITCH START DURATION VELOCITY per note.

    Starts and durations are in beats (quarter notes, floats) or in ticks (unit=ticks).
    The score's meter (meter=3/4), tempo (bpm=90), key (key=D-minor) and length (length=,
    in the same unit) are optional; the length defaults to the end of the last whole bar.
    """
    from scorehost.core.cliparse import parse_key

    numerator, denominator = parse_meter(args.get("meter") or "4/4")
    bpm = _number(args.get("bpm") or "120", "bpm", 1, 1000)
    tonic, mode = parse_key(args.get("key") or "C-major", "key")
    tracks = []
    end = 0
    for index, inline in enumerate(args.tracks):
        field_name = f"track {index} ({inline.name or 'unnamed'})"
        if len(inline.values) % 4:
            raise RequestError(
                f"has {len(inline.values)} numbers; write 4 per note: pitch start duration velocity",
                field_name,
            )
        notes = []
        for i in range(0, len(inline.values), 4):
            pitch, start, duration, velocity = inline.values[i : i + 4]
            where = f"{field_name} note {i // 4}"
            if not all(map(math.isfinite, (pitch, start, duration, velocity))):
                raise RequestError("has a number that is not finite (inf or nan)", where)
            if pitch != int(pitch) or not 0 <= pitch <= 127:
                raise RequestError(f"pitch {pitch:g} is not a MIDI note number 0..127", where)
            if not 0 <= velocity <= 127:
                raise RequestError(f"velocity {velocity:g} is outside 0..127", where)
            start_tick, length = to_ticks(start, unit), to_ticks(duration, unit)
            if start_tick < 0 or length <= 0:
                raise RequestError("needs a start >= 0 and a duration > 0", where)
            if start_tick + length > MAX_TICKS:
                raise LimitExceeded(
                    f"ends at {from_ticks(start_tick + length, unit):.10g} {unit}, past the limit of "
                    f"{from_ticks(MAX_TICKS, unit):.10g} {unit}",
                    where,
                )
            notes.append(
                Note(start=start_tick, duration=length, pitch=int(pitch), velocity=max(1, round(velocity)))
            )
            end = max(end, start_tick + length)
        role = inline.name.lower() if inline.name.lower() in ROLES else None
        # track=drums is a drum track, as region=drums adds one: a multi-track model needs the flag
        is_drum = inline.is_drum or role == "drums"
        tracks.append(
            Track(name=inline.name, program=inline.program, is_drum=is_drum, role=role, notes=notes)
        )
    signature = TimeSignature(tick=0, numerator=numerator, denominator=denominator)
    if args.get("length") is not None:
        length = to_ticks(_number(args.get("length") or "", "length", 0, from_ticks(MAX_TICKS, unit)), unit)
    else:
        bar = signature.bar_ticks
        length = max(bar, -(-end // bar) * bar)
    if length < end:
        raise RequestError(
            f"is shorter than the notes (the last ends at {from_ticks(end, unit):g})", "length"
        )
    return Score(
        length=length,
        tracks=tracks,
        time_signatures=[signature],
        keys=[KeySignature(tick=0, tonic=tonic, mode=mode)],
        tempos=[Tempo(tick=0, bpm=bpm)],
    )


def note_chunks(notes: list[Note], unit: str, per_chunk: int = NOTES_PER_CHUNK) -> list[list[float | int]]:
    """Flat PITCH START DURATION VELOCITY lists, a datagram's worth each (at least one list)."""
    ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
    chunks = []
    for i in range(0, max(1, len(ordered)), per_chunk):
        values: list[float | int] = []
        for note in ordered[i : i + per_chunk]:
            values += [
                note.pitch,
                from_ticks(note.start, unit),
                from_ticks(note.duration, unit),
                note.velocity,
            ]
        chunks.append(values)
    return chunks
