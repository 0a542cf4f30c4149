"""The grammar of one filled bar, as a logit mask: every sequence it allows is a valid bar
that keeps the hard constraints, so decoding never needs to reject and retry.

A bar is written as (Position (Pitch Velocity Duration)+)* FillBar_End, with an optional
Theme_Start before its first note and Theme_End before FillBar_End where the spec allows theme
markers (the theme plugin: the network says where an occurrence of the theme begins and ends).
The mask allows
only onsets inside the written span and later than the last one, pitches in range, in the
allowed pitch classes and of the right kind (PitchDrum on drum tracks), ascending at one
onset, durations that end inside the span, no onset that would exceed the polyphony limit,
and it forces pinned notes and, for keep-rhythm, the original onsets and lengths.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scorehost.core.score import Bar

from .bartokens import bar_positions
from .vocab import Vocab, ticks_per_beat, ticks_per_position


@dataclass
class Sounding:
    """Notes already written on a track, for the polyphony limit (shared by its bars)."""

    limit: int | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)

    def count(self, tick: int) -> int:
        return sum(1 for start, end in self.spans if start <= tick < end)

    def room(self, tick: int) -> bool:
        return self.limit is None or self.count(tick) < self.limit


@dataclass
class BarSpec:
    """What one filled bar may hold."""

    bar: Bar
    is_drum: bool
    span_ends: dict[int, int]  # allowed onset position -> tick the note must end by
    pitch_ok: np.ndarray  # (128,) bool
    sounding: Sounding = field(default_factory=Sounding)
    pins: dict[int, list[int]] = field(default_factory=dict)  # position -> pitches that must sound
    pin_lengths: dict[tuple[int, int], int] = field(default_factory=dict)  # (position, pitch) -> ticks
    rhythm: list[tuple[int, int]] | None = None  # keep-rhythm: (position, ticks) of each note, in order
    must_write: bool = False  # the bar may not stay empty while its track has no note yet
    min_notes: int = 0  # the bar may not end with fewer notes (when onsets are left for them)
    max_notes: int = 48
    markers: bool = False  # Theme_Start may open the bar and Theme_End close it (theme vocabulary)
    copy: list[int] | None = None  # tokens of a bar of the track this one may repeat (see Copy)
    copy_weight: tuple[float, float] = (0.0, 0.0)  # the copy's share: (onsets and lengths, pitches)


@dataclass
class WrittenNote:
    position: int
    pitch: int
    velocity: int
    ticks: int


class Copy:
    """Follows a source bar while a bar is drawn, and says which of its tokens would come next
    if the bar repeated it: the copy half of a neural-cache mixture (Grave et al. 2017).

    A drawn token that is the suggested one, or of its kind (another pitch for the source's
    pitch), moves the pointer on; a drawn onset finds its place in the source (the notes the
    source has there, else the source's next onset); anything else leaves the pointer waiting
    for the next onset.
    """

    def __init__(self, tokens: list[int], weights: tuple[float, float], vocab: Vocab) -> None:
        self.tokens, self.weights, self.at = tokens, weights, 0
        self._kinds, self._end = vocab.token_kind, vocab["FillBar_End"]
        self._positions = vocab.position_of

    def suggestion(self) -> tuple[int, float, float]:
        """(token, the copy's share of the mixture, the share of the copy's mass on that very
        token). The copy repeats the source's events (an onset, one more note at it, a length,
        the bar's end) with the onset weight; of a note, it repeats the pitch only as far as
        pitches repeat more than onsets do, and lets the network choose the rest among pitches."""
        token = self.tokens[self.at] if self.at < len(self.tokens) else self._end
        rhythm, pitch = self.weights
        if self._kinds[token] in ("Pitch", "PitchDrum"):
            return token, rhythm, min(1.0, pitch / rhythm) if rhythm > 0 else 0.0
        return token, rhythm, 1.0

    def follow(self, token: int) -> None:
        kinds, tokens = self._kinds, self.tokens
        ahead = tokens[self.at] if self.at < len(tokens) else None
        if (
            ahead is not None
            and kinds[ahead] == kinds[token]
            and (kinds[token] != "Position" or ahead == token)
        ):
            self.at += 1  # the suggested token, or another of its kind in its place
        elif kinds[token] == "Position":  # an onset the source reaches later, or never
            here = self._positions[token]
            onsets = (
                i for i, t in enumerate(tokens) if kinds[t] == "Position" and self._positions[t] >= here
            )
            self.at = next(onsets, len(tokens))
            if self.at < len(tokens) and tokens[self.at] == token:
                self.at += 1
        elif ahead is not None and kinds[ahead] != "Position":
            # an extra note, or a note the source does not have: wait for the next onset
            onsets = (i for i in range(self.at, len(tokens)) if kinds[tokens[i]] == "Position")
            self.at = next(onsets, len(tokens))


class BarGrammar:
    """Feed it the tokens drawn after FillBar_Start; it says which may come next."""

    def __init__(self, spec: BarSpec, vocab: Vocab) -> None:
        self.spec, self.vocab = spec, vocab
        den = spec.bar.time_signature.denominator
        self.step, self.beat = ticks_per_position(den), ticks_per_beat(den)
        self.phase = "pos"  # pos -> pitch -> vel -> dur -> pos ... (-> closing) -> end
        self.theme_start = self.theme_end = False  # the markers drawn in this bar
        self.position = -1
        self.last_pitch = -1
        self.notes: list[WrittenNote] = []
        self._pitch = self._velocity = 0
        self.pending = {p: sorted(ps) for p, ps in spec.pins.items()}
        self._kinds = vocab.token_kind
        self._pitch_table = vocab.drum_ids if spec.is_drum else vocab.pitch_ids
        self._pitch_of = {int(t): p for p, t in enumerate(self._pitch_table) if t >= 0}
        self._position_of = vocab.position_of
        self._ticks_of = {i: round(beats * self.beat) for beats, i in vocab.durations}
        self._velocity_of = {i: v for v, i in vocab.velocities}
        self.copy = Copy(spec.copy, spec.copy_weight, vocab) if spec.copy is not None else None

    @property
    def done(self) -> bool:
        return self.phase == "end"

    # ---- what may come next ---------------------------------------------------------------

    def allowed(self) -> np.ndarray:
        mask = np.zeros(len(self.vocab), dtype=bool)
        if self.phase == "pos":
            self._allow_onsets(mask)
        elif self.phase == "pitch":
            self._allow_pitches(mask)
        elif self.phase == "vel":
            mask[[i for _, i in self.vocab.velocities]] = True
        elif self.phase == "dur":
            self._allow_durations(mask)
        elif self.phase == "closing":  # after Theme_End only the bar's end
            mask[self.vocab["FillBar_End"]] = True
        if self.spec.markers and self.phase == "pos":
            self._allow_markers(mask)
        if not mask.any():  # cannot happen with checked constraints; never leave the sampler stuck
            mask[self.vocab["FillBar_End"]] = True
        return mask

    def _allow_markers(self, mask: np.ndarray) -> None:
        """Theme_Start before the bar's first note; Theme_End wherever the bar may end."""
        if not self.notes and self.position < 0 and not self.theme_start:
            mask[self.vocab["Theme_Start"]] = True
        if mask[self.vocab["FillBar_End"]]:
            mask[self.vocab["Theme_End"]] = True

    def _rhythm_next(self) -> tuple[int, int] | None:
        rhythm = self.spec.rhythm
        return rhythm[len(self.notes)] if rhythm is not None and len(self.notes) < len(rhythm) else None

    def _allow_onsets(self, mask: np.ndarray) -> None:
        spec = self.spec
        if spec.rhythm is not None:
            nxt = self._rhythm_next()
            if nxt is None:
                mask[self.vocab["FillBar_End"]] = True
            elif nxt[0] == self.position:
                self._allow_pitches(mask)
            else:
                mask[self.vocab.positions[nxt[0]]] = True
            return
        silent = spec.must_write and not spec.sounding.spans
        if not self.pending and not silent and len(self.notes) >= spec.min_notes:
            mask[self.vocab["FillBar_End"]] = True
        if len(self.notes) >= spec.max_notes:
            return
        next_pin = min(self.pending, default=None)
        here = self.position >= 0 and (next_pin is None or next_pin == self.position)
        if here and (spec.sounding.room(self._tick(self.position)) or self.position in self.pending):
            self._allow_pitches(mask)
        for position in spec.span_ends:
            if position <= self.position or (next_pin is not None and position > next_pin):
                continue
            if spec.sounding.room(self._tick(position)) or position in self.pending:
                mask[self.vocab.positions[position]] = True

    def _allow_pitches(self, mask: np.ndarray) -> None:
        ok = self.spec.pitch_ok.copy()
        ok[: self.last_pitch + 1] = False  # ascending at one onset, as the training data
        pins = self.pending.get(self.position)
        if pins:
            ok[pins[0] + 1 :] = False  # nothing may jump over a pinned pitch still to come
            ok[pins[0]] = True
            limit, now = self.spec.sounding.limit, self.spec.sounding.count(self._tick(self.position))
            if limit is not None and now + len(pins) >= limit:
                ok[: pins[0]] = False  # the room left at this onset belongs to the pins
        later = self._rhythm_later()
        if later:  # leave higher pitches for the notes the rhythm still puts at this onset
            ok[np.flatnonzero(ok)[-later:]] = False
        tokens = self._pitch_table[ok]
        mask[tokens[tokens >= 0]] = True

    def _rhythm_later(self) -> int:
        """Notes the kept rhythm puts at this onset after the one being drawn."""
        rhythm = self.spec.rhythm
        if rhythm is None:
            return 0
        return sum(1 for position, _ in rhythm[len(self.notes) + 1 :] if position == self.position)

    def _allow_durations(self, mask: np.ndarray) -> None:
        forced = self.spec.pin_lengths.get((self.position, self._pitch))
        nxt = self._rhythm_next()
        if nxt is not None:
            forced = nxt[1]
        if forced is not None:
            mask[self.vocab.duration_token(forced / self.beat)] = True
            return
        room = self.spec.span_ends[self.position] - self._tick(self.position)
        room = min(room, self._pin_clearance())
        shortest = self.vocab.durations[0][1]
        for ticks_token, ticks in self._ticks_of.items():
            if ticks <= room or ticks_token == shortest:
                mask[ticks_token] = True

    def _pin_clearance(self) -> int:
        """Ticks a note starting now may last without crowding out a later pin under the
        polyphony limit."""
        sounding = self.spec.sounding
        if sounding.limit is None:
            return 1 << 30
        for position in sorted(p for p in self.pending if p > self.position):
            tick = self._tick(position)
            if sounding.count(tick) + len(self.pending[position]) >= sounding.limit:
                return tick - self._tick(self.position)
        return 1 << 30

    # ---- taking a token -------------------------------------------------------------------

    def advance(self, token: int) -> None:
        kind = self._kinds[token]
        if self.copy is not None:
            self.copy.follow(token)
        if token == self.vocab["FillBar_End"]:
            self.phase = "end"
        elif kind == "Theme":
            self._marker(self.vocab.tokens[token])
        elif kind == "Position":
            self.position, self.last_pitch, self.phase = self._position_of[token], -1, "pitch"
        elif kind in ("Pitch", "PitchDrum"):
            self._pitch = self.last_pitch = self._pitch_of[token]
            self.phase = "vel"
        elif kind == "Velocity":
            self._velocity, self.phase = self._velocity_of[token], "dur"
        elif kind == "Duration":
            self._write(self._ticks_of[token])
            self.phase = "pos"

    def _marker(self, name: str) -> None:
        if name == "Theme_Start":
            self.theme_start = True
        else:
            self.theme_end, self.phase = True, "closing"

    def _write(self, ticks: int) -> None:
        position, pitch = self.position, self._pitch
        exact = self.spec.pin_lengths.get((position, pitch))
        nxt = self._rhythm_next()
        if nxt is not None:
            exact = nxt[1]
        end = min(self._tick(position) + (exact or ticks), self.spec.span_ends[position])
        ticks = max(1, end - self._tick(position))
        self.notes.append(WrittenNote(position, pitch, self._velocity, ticks))
        self.spec.sounding.spans.append((self._tick(position), self._tick(position) + ticks))
        pins = self.pending.get(position)
        if pins and pitch in pins:
            pins.remove(pitch)
            if not pins:
                del self.pending[position]

    def _tick(self, position: int) -> int:
        return self.spec.bar.start + position * self.step


def pin_positions(pins, bar: Bar) -> tuple[dict[int, list[int]], dict[tuple[int, int], int]]:
    """A BarSpec's pins and pin_lengths from pinned notes (anything with track-free start,
    pitch and duration): those starting in the bar, by grid position."""
    step = ticks_per_position(bar.time_signature.denominator)
    positions: dict[int, list[int]] = {}
    lengths: dict[tuple[int, int], int] = {}
    for pin in pins:
        if bar.start <= pin.start < bar.end:
            position = (pin.start - bar.start) // step
            positions.setdefault(position, []).append(pin.pitch)
            if pin.duration is not None:
                lengths[(position, pin.pitch)] = pin.duration
    return positions, lengths


def onset_spans(bar: Bar, spans: list[tuple[int, int]]) -> dict[int, int]:
    """Positions of the bar whose onset lies in a written span, with the tick that span ends."""
    step = ticks_per_position(bar.time_signature.denominator)
    out: dict[int, int] = {}
    for position in range(bar_positions(bar)):
        tick = bar.start + position * step
        for start, end in spans:
            if start <= tick < end and tick < bar.end:
                out[position] = end
    return out
