"""The score model every model and bridge speaks: tracks of notes on a 480-per-quarter tick grid.

Bars are not stored; they are derived from the time-signature map. A time-signature event
starts a new bar at its tick, and a bar is cut short by the next event, so a pickup bar is
an event at 0 followed by another at the end of the pickup (which is also how a MIDI file
states it, so the map survives MIDI unchanged).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer, model_validator

from .errors import LimitExceeded

TICKS_PER_QUARTER = 480
SCORE_FORMAT = "scorehost-score"
SCORE_FORMAT_VERSION = 1

# Limits on what a score can make anything that reads it allocate (bars, arrays over its ticks,
# tracks), checked whenever a Score is made, so that no entry point (a file, score-JSON, OSC
# notes, live MIDI) can skip them, and before any model sees the score. Each is far beyond
# real music: Beethoven's Grosse Fuge, the longest movement in music21's corpus, has 742
# bars (2,234 quarter notes) on 4 tracks.
MAX_BARS = 5_000
MAX_TICKS = MAX_BARS * 4 * TICKS_PER_QUARTER  # 5,000 bars of 4/4: about 2 h 45 min at 120 bpm
MAX_TRACKS = 64
MAX_EVENTS = 20_000  # of each map: time signatures, keys, tempos, fermatas, markers
# Controller events (control changes, pitch bends, aftertouch) of all tracks together: a
# producer's file with pedal, expression and bends all through holds some thousands a track.
MAX_CONTROLS = 200_000
MIN_BPM, MAX_BPM = 1.0, 1000.0
# A track index in requests and constraints: a JSON integer, never true/false or 1.0.
TrackIndex = Annotated[int, Field(ge=0, strict=True)]

Mode = Literal["major", "minor", "dorian", "phrygian", "lydian", "mixolydian", "aeolian", "locrian"]
# Semitone steps of each mode, from its tonic.
MODE_SCALES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "aeolian": (0, 2, 3, 5, 7, 8, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
# How far each mode's tonic lies above the tonic of the major scale with the same signature.
_MODE_OFFSET = {"major": 0, "dorian": 2, "phrygian": 4, "lydian": 5, "mixolydian": 7}
_MODE_OFFSET |= {"minor": 9, "aeolian": 9, "locrian": 11}
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
ROLES = ("soprano", "alto", "tenor", "bass", "melody", "bassline", "chords", "drums")

_strict = ConfigDict(extra="forbid", validate_assignment=False)


class Note(BaseModel):
    model_config = _strict
    start: int = Field(ge=0, description="Onset in ticks (480 per quarter note).")
    duration: int = Field(gt=0, description="Length in ticks.")
    pitch: int = Field(ge=0, le=127, description="MIDI pitch number.")
    velocity: int = Field(default=80, ge=1, le=127)
    spelling: str | None = Field(
        default=None,
        pattern=r"^[A-G](#{1,2}|b{1,2})?$",
        description="Letter and accidental as written (E#, Bb, C); null: as the key spells the pitch.",
    )

    @model_validator(mode="after")
    def _spelling_fits(self) -> Note:
        if self.spelling is not None:
            from .spelling import pitch_class

            if pitch_class(self.spelling) != self.pitch % 12:
                raise ValueError(f"{self.spelling} does not spell pitch {self.pitch}")
        return self

    @model_serializer(mode="wrap")
    def _without_default_spelling(self, handler):
        # Most notes have no spelling of their own: leave the field out of JSON rather than
        # write "spelling": null on every note.
        data = handler(self)
        if isinstance(data, dict) and data.get("spelling", "") is None:
            del data["spelling"]
        return data

    @property
    def end(self) -> int:
        return self.start + self.duration

    def key(self) -> tuple[int, int, int, int]:
        return (self.start, self.pitch, self.duration, self.velocity)


class TimeSignature(BaseModel):
    model_config = _strict
    tick: int = Field(ge=0)
    numerator: int = Field(ge=1, le=64)
    denominator: Literal[1, 2, 4, 8, 16, 32, 64] = 4

    @property
    def bar_ticks(self) -> int:
        return self.numerator * TICKS_PER_QUARTER * 4 // self.denominator


class KeySignature(BaseModel):
    """A key with its mode: D minor and F major are told apart, not only by accidentals."""

    model_config = _strict
    tick: int = Field(ge=0)
    tonic: int = Field(ge=0, le=11, description="Pitch class of the tonic, C=0.")
    mode: Mode = "major"

    @property
    def sharps(self) -> int:
        """Number of sharps (negative: flats) of the key signature, in -7..7, preferring flats."""
        major_tonic = (self.tonic - _MODE_OFFSET[self.mode]) % 12
        fifths = (major_tonic * 7) % 12  # position on the circle of fifths
        return fifths - 12 if fifths > 6 else fifths

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset((self.tonic + step) % 12 for step in MODE_SCALES[self.mode])

    @classmethod
    def from_sharps(cls, tick: int, sharps: int, mode: str = "major") -> KeySignature:
        major_tonic = (sharps * 7) % 12
        return cls(tick=tick, tonic=(major_tonic + _MODE_OFFSET[mode]) % 12, mode=mode)

    def name(self) -> str:
        return f"{PITCH_NAMES[self.tonic]} {self.mode}"


class Tempo(BaseModel):
    model_config = _strict
    tick: int = Field(ge=0)
    bpm: float = Field(gt=0, le=1000, description="Quarter notes per minute.")


class Fermata(BaseModel):
    model_config = _strict
    tick: int = Field(ge=0)
    track: TrackIndex | None = Field(default=None, description="None: every track.")


class Marker(BaseModel):
    model_config = _strict
    tick: int = Field(ge=0)
    text: str = Field(max_length=200)


ControlKind = Literal["control_change", "pitchwheel", "aftertouch", "polytouch"]
# The kinds that name a controller (control_change) or a note (polytouch) in `number`.
_NUMBERED = frozenset({"control_change", "polytouch"})


class Control(BaseModel):
    """A controller event of a track, on the track's channel: a control change (sustain pedal,
    volume, pan, expression...), a pitch bend, channel aftertouch or polyphonic aftertouch."""

    model_config = _strict
    tick: int = Field(ge=0)
    kind: ControlKind
    number: int | None = Field(
        default=None,
        ge=0,
        le=127,
        description="Controller number (control_change) or note (polytouch); null for the others.",
    )
    value: int = Field(ge=-8192, le=8191, description="0..127; a pitchwheel's bend is -8192..8191 (0: none).")

    @model_validator(mode="after")
    def _fits_its_kind(self) -> Control:
        if (self.number is not None) != (self.kind in _NUMBERED):
            needs = "needs a number" if self.kind in _NUMBERED else "takes no number"
            raise ValueError(f"a {self.kind} event {needs}")
        if self.kind != "pitchwheel" and not 0 <= self.value <= 127:
            raise ValueError(f"a {self.kind} value is 0..127, not {self.value}")
        return self

    @model_serializer(mode="wrap")
    def _without_empty_number(self, handler):
        # Pitch bends and aftertouch have no number: leave it out of JSON rather than write null.
        data = handler(self)
        if isinstance(data, dict) and data.get("number", "") is None:
            del data["number"]
        return data


class Track(BaseModel):
    model_config = _strict
    name: str = Field(default="", max_length=200)
    program: int = Field(default=0, ge=0, le=127, description="General MIDI program, 0-based.")
    channel: int | None = Field(
        default=None,
        ge=0,
        le=15,
        description="MIDI channel, 0-based (9: drums); null: the next free one when written.",
    )
    is_drum: bool = False
    role: str | None = Field(default=None, max_length=40)
    notes: list[Note] = Field(default_factory=list)
    controls: list[Control] = Field(
        default_factory=list,
        description="Controller events in tick order (events on one tick keep their order).",
    )

    def sorted_notes(self) -> list[Note]:
        return sorted(self.notes, key=Note.key)


@dataclass(frozen=True)
class Bar:
    index: int  # 0-based position in the piece
    number: int  # number as printed: a pickup bar is 0, the first full bar 1
    start: int
    end: int
    time_signature: TimeSignature

    @property
    def is_partial(self) -> bool:
        return self.end - self.start < self.time_signature.bar_ticks


class Score(BaseModel):
    """Tracks of notes plus the maps a musician reads: meter, key, tempo, fermatas, markers."""

    model_config = _strict
    format: Literal["scorehost-score"] = SCORE_FORMAT
    version: Literal[1] = SCORE_FORMAT_VERSION
    title: str = Field(default="", max_length=500)
    length: int = Field(ge=0, description="End of the piece in ticks.")
    tracks: list[Track] = Field(default_factory=list)
    time_signatures: list[TimeSignature] = Field(
        default_factory=lambda: [TimeSignature(tick=0, numerator=4, denominator=4)]
    )
    keys: list[KeySignature] = Field(default_factory=lambda: [KeySignature(tick=0, tonic=0)])
    tempos: list[Tempo] = Field(default_factory=lambda: [Tempo(tick=0, bpm=120.0)])
    fermatas: list[Fermata] = Field(default_factory=list)
    markers: list[Marker] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_maps(self) -> Score:
        for name in ("time_signatures", "keys", "tempos"):
            events = getattr(self, name)
            if not events or events[0].tick != 0:
                raise ValueError(f"{name} must start with an event at tick 0")
            ticks = [e.tick for e in events]
            if ticks != sorted(set(ticks)):
                raise ValueError(f"{name} must be in increasing tick order, one event per tick")
        for i, fermata in enumerate(self.fermatas):
            if fermata.track is not None and fermata.track >= len(self.tracks):
                raise ValueError(f"fermatas[{i}] names track {fermata.track}, which does not exist")
        check_limits(self)
        return self

    # ---- derived structure -------------------------------------------------------------

    def bars(self) -> list[Bar]:
        """Every bar from tick 0 to the end of the piece (the last one may be partial)."""
        bars: list[Bar] = []
        signatures = self.time_signatures
        end_of_piece = max(self.length, 1)
        for i, ts in enumerate(signatures):
            limit = signatures[i + 1].tick if i + 1 < len(signatures) else end_of_piece
            tick = ts.tick
            while tick < limit:
                end = min(tick + ts.bar_ticks, limit)
                bars.append(Bar(len(bars), 0, tick, end, ts))
                tick = end
        # A short first bar is a pickup, numbered 0 as in printed music.
        first = 0 if bars and bars[0].is_partial and len(bars) > 1 else 1
        return [Bar(b.index, b.index + first, b.start, b.end, b.time_signature) for b in bars]

    def bar_at(self, tick: int) -> Bar:
        bars = self.bars()
        starts = [b.start for b in bars]
        return bars[max(0, bisect_right(starts, tick) - 1)]

    def key_at(self, tick: int) -> KeySignature:
        return _event_at(self.keys, tick)

    def track_index(self, ref: str | int) -> int:
        """Resolve a track by index, name or role (case-insensitive)."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.strip().isdigit()):
            index = int(ref)
            if 0 <= index < len(self.tracks):
                return index
            raise KeyError(f"track {index} does not exist (the score has {len(self.tracks)})")
        wanted = ref.strip().lower()
        for attr in ("name", "role"):
            hits = [i for i, t in enumerate(self.tracks) if (getattr(t, attr) or "").lower() == wanted]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                raise KeyError(f"several tracks are called {ref!r}; use a track number")
        names = ", ".join(f"{i}={t.name or t.role or '?'}" for i, t in enumerate(self.tracks))
        raise KeyError(f"no track called {ref!r} (tracks: {names or 'none'})")

    def note_count(self) -> int:
        return sum(len(t.notes) for t in self.tracks)

    def control_count(self) -> int:
        return sum(len(t.controls) for t in self.tracks)

    def normalized(self) -> Score:
        """The same score with notes sorted and controls in tick order, so equal music compares equal."""
        tracks = [
            t.model_copy(update={"notes": t.sorted_notes(), "controls": sorted(t.controls, key=_tick)})
            for t in self.tracks
        ]
        fermatas = sorted(self.fermatas, key=lambda f: (f.tick, -1 if f.track is None else f.track))
        markers = sorted(self.markers, key=lambda m: (m.tick, m.text))
        return self.model_copy(update={"tracks": tracks, "fermatas": fermatas, "markers": markers})


def check_limits(score: Score) -> None:
    """Refuse, with a LimitExceeded naming the limit, a score too long or too big to serve.

    Costs one pass over the notes and the maps, and allocates nothing in proportion to ticks:
    the bars are counted, not made."""
    if len(score.tracks) > MAX_TRACKS:
        raise LimitExceeded(
            f"the score has {len(score.tracks):,} tracks; the limit is {MAX_TRACKS}", "tracks"
        )
    for i, track in enumerate(score.tracks):
        for j, note in enumerate(track.notes):
            if note.end > MAX_TICKS:
                raise LimitExceeded(
                    f"the note at tick {note.start:,} ends at tick {note.end:,}, past the limit of {_TICKS_LIMIT}",
                    f"tracks[{i}].notes[{j}]",
                )
    controls = score.control_count()
    if controls > MAX_CONTROLS:
        raise LimitExceeded(
            f"the score has {controls:,} controller events; the limit is {MAX_CONTROLS:,}", "tracks"
        )
    for i, track in enumerate(score.tracks):
        for j, control in enumerate(track.controls):
            check_tick(control.tick, f"tracks[{i}].controls[{j}].tick")
    check_tick(score.length, "length")
    for name in ("time_signatures", "keys", "tempos", "fermatas", "markers"):
        events = getattr(score, name)
        if len(events) > MAX_EVENTS:
            raise LimitExceeded(
                f"the score has {len(events):,} {name.replace('_', ' ')}; the limit is {MAX_EVENTS:,}", name
            )
        for k, event in enumerate(events):
            check_tick(event.tick, f"{name}[{k}].tick")
    for k, mark in enumerate(score.tempos):
        check_bpm(mark.bpm, f"tempos[{k}].bpm")
    bars = bar_count(score)
    if bars > MAX_BARS:
        raise LimitExceeded(f"the score has {bars:,} bars; the limit is {MAX_BARS:,}", "time_signatures")


_TICKS_LIMIT = f"{MAX_TICKS:,} ticks ({MAX_BARS:,} bars of 4/4 at {TICKS_PER_QUARTER} ticks per quarter)"


def check_tick(tick: int, field: str) -> None:
    if tick > MAX_TICKS:
        raise LimitExceeded(f"tick {tick:,} is past the limit of {_TICKS_LIMIT}", field)


def check_bpm(bpm: float, field: str) -> None:
    if not MIN_BPM <= bpm <= MAX_BPM:  # also refuses NaN
        raise LimitExceeded(f"a tempo of {bpm:g} bpm is outside the limits {MIN_BPM:g} to {MAX_BPM:g}", field)


def bar_count(score: Score) -> int:
    """len(score.bars()), counted without making them."""
    signatures = score.time_signatures
    end_of_piece = max(score.length, 1)
    count = 0
    for i, ts in enumerate(signatures):
        limit = signatures[i + 1].tick if i + 1 < len(signatures) else end_of_piece
        if limit > ts.tick:
            count += -(-(limit - ts.tick) // ts.bar_ticks)
    return count


def _tick(event) -> int:
    return event.tick


def _event_at(events: Iterable, tick: int):
    events = list(events)
    index = bisect_right([e.tick for e in events], tick) - 1
    return events[max(index, 0)]


def most_at_once(notes: list[Note]) -> int:
    """The most notes sounding at once (a note ending where another starts does not overlap it)."""
    events = sorted([(n.start, 1) for n in notes] + [(n.end, -1) for n in notes])
    most = now = 0
    for _, change in events:  # an end sorts before a start on the same tick
        now += change
        most = max(most, now)
    return most


def note_tuples(track: Track, start: int = 0, end: int | None = None) -> list[tuple[int, ...]]:
    """The notes of a track that start in [start, end), as sortable tuples for comparison."""
    stop = end if end is not None else 1 << 62
    return sorted(n.key() for n in track.notes if start <= n.start < stop)
