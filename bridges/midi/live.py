"""Live MIDI, without ports: follow a DAW's clock, record what it plays, play results in time.

The MIDI clock runs at 24 pulses per quarter note, so one pulse is 20 ticks of scorehost's
480-per-quarter grid; between pulses a position is interpolated from the measured pulse
interval. Song position pointers (in sixteenths) move the position, as DAWs send them on
locate and loop. A pulse lost on the way (JACK drops a cycle's MIDI when a client misses it,
as on a loaded machine) is put back when the pulse times show it beyond doubt; see
Transport._steps. These classes are driven by messages and times given to them, so they can be
tested without any MIDI system; the bridge (server.py) connects them to real ports.
"""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

import mido

from scorehost.core.score import TICKS_PER_QUARTER, Note, Score, Tempo, TimeSignature, Track

PULSES_PER_QUARTER = 24
TICKS_PER_PULSE = TICKS_PER_QUARTER // PULSES_PER_QUARTER  # 20
DRUM_CHANNEL = 9
RETAKE_TICKS = 40  # a note replayed within this distance (a loop pass) replaces the earlier take
LOST_TOLERANCE = 1 / 3  # of an interval: how near a whole number of pulses a gap with lost pulses is
MAX_LOST = 3  # pulses one gap may be taken to have lost
STEADY_PULSES = PULSES_PER_QUARTER  # pulses (a beat) on one grid before lost ones are guessed
STEADY_SPREAD = 0.75  # of an interval: how far from that grid they may be


def channel_track_name(channel: int) -> str:
    return f"ch{channel + 1}"


def track_channel(name: str) -> int | None:
    match = re.fullmatch(r"ch(\d{1,2})", name.strip().lower())
    if match and 1 <= int(match.group(1)) <= 16:
        return int(match.group(1)) - 1
    return None


class Transport:
    """Where the DAW's playhead is, from start/stop/continue/songpos/clock messages."""

    def __init__(self) -> None:
        self.playing = False
        self.pulses = 0
        self.armed = True  # the next pulse marks the current position (after start or a locate)
        self.last_pulse: float | None = None
        self.interval = 60.0 / 120 / PULSES_PER_QUARTER  # until measured
        self.measured = 0  # pulse gaps measured since the clock (re)started
        # (time, pulses) of the last beat's pulses, for telling a lost pulse from a late one
        self.recent: deque[tuple[float, int]] = deque(maxlen=STEADY_PULSES)
        self.guessed = 0  # pulses the last clock was taken to have lost, until the next one confirms it
        self.guessed_gap = 0.0
        self.taken_back = 0  # pulses the last clock took back from the guess before it (0 mostly)

    def feed(self, msg: mido.Message, now: float) -> str | None:
        """Take a real-time message; returns 'jump' when the position changed other than by a pulse."""
        self.taken_back = 0
        if msg.type in ("start", "continue", "stop", "songpos"):
            self.recent.clear()  # the pulse grid starts again
            self.guessed = 0
        if msg.type == "start":
            self.playing, self.pulses, self.armed = True, 0, True
            return "jump"
        if msg.type == "continue":
            self.playing, self.armed = True, True
            return None
        if msg.type == "stop":
            self.playing = False
            return "stop"
        if msg.type == "songpos":
            self.pulses, self.armed = msg.pos * 6, True
            return "jump"
        if msg.type == "clock":
            counting = self.playing and not self.armed
            steps = self._steps(now, counting)
            self.last_pulse = now
            if not self.playing:
                return None
            if self.armed:
                self.armed = False
            else:
                self.pulses += steps
            self.recent.append((now, self.pulses))
        return None

    def _steps(self, now: float, counting: bool) -> int:
        """Measure the pulse interval (for the tempo and for interpolation); how many pulses this
        clock moves the position by: one, or more when pulses were lost on the way.

        Delivery jitters (JACK delivers once per period; a late client delivers later still), so
        a long gap is taken for lost pulses only when it is, within a third of a pulse, a whole
        number of intervals (two to four), after a beat of pulses that kept to one grid (each
        within three quarters of an interval of it, so a period near the interval, whose
        deliveries come in steps of it, never opens this). The guess counts at once, for the
        notes that follow, and the next clock must confirm it: its gap one interval, and the
        two gaps together the pulses counted. Otherwise (a pulse that was only late, a sudden
        tempo drop) the next clock takes the guess back (taken_back; the bridge records the
        notes that came in between only then, moved back with it).
        """
        gap = None if self.last_pulse is None else now - self.last_pulse
        if gap is None or not 0 < gap < 0.25:
            if gap is not None:
                self.measured = 0
                self.recent.clear()
            guessed, self.guessed = self.guessed, 0
            self.taken_back = guessed
            return 1 - guessed
        ratio = gap / self.interval if self.measured else 1.0
        if self.guessed:
            guessed, self.guessed = self.guessed, 0
            pair = (self.guessed_gap + gap) / self.interval
            if abs(ratio - 1) >= LOST_TOLERANCE or abs(pair - guessed - 2) >= LOST_TOLERANCE:
                self.taken_back = guessed
                self.interval = (self.guessed_gap + gap) / 2  # two pulses either way: late, or slower
                self.measured = 1
                self.recent.clear()
                return 1 - guessed
        steps = round(ratio)
        if counting and 2 <= steps <= 1 + MAX_LOST and abs(ratio - steps) < LOST_TOLERANCE and self._steady():
            self.guessed, self.guessed_gap = steps - 1, gap
            self.interval = 0.9 * self.interval + 0.1 * gap / steps
            return steps
        self.interval = 0.9 * self.interval + 0.1 * gap if self.measured else gap
        self.measured += 1
        return 1

    def _steady(self) -> bool:
        """Whether the last beat's pulses kept to one grid (a least-squares line through them)."""
        if len(self.recent) < STEADY_PULSES:
            return False
        times = [t for t, _ in self.recent]
        counts = [c for _, c in self.recent]
        mean_t, mean_c = sum(times) / len(times), sum(counts) / len(counts)
        spread = sum((c - mean_c) ** 2 for c in counts)
        if spread == 0:
            return False
        slope = sum((t - mean_t) * (c - mean_c) for t, c in self.recent) / spread
        residuals = [t - mean_t - slope * (c - mean_c) for t, c in self.recent]
        return max(residuals) - min(residuals) < STEADY_SPREAD * self.interval

    def position(self, now: float) -> int:
        """The playhead in ticks, interpolated between pulses."""
        tick = self.pulses * TICKS_PER_PULSE
        if self.armed or self.last_pulse is None or not self.playing:
            return tick
        fraction = min(0.95, max(0.0, (now - self.last_pulse) / self.interval))
        return tick + round(fraction * TICKS_PER_PULSE)

    @property
    def bpm(self) -> float:
        return round(60.0 / (self.interval * PULSES_PER_QUARTER), 2)


class Recorder:
    """Notes the DAW plays while its transport runs, one track per MIDI channel."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.notes: dict[int, list[Note]] = defaultdict(list)
            self.sounding: dict[tuple[int, int], tuple[int, int]] = {}
            self.programs: dict[int, int] = {}

    def feed(self, msg: mido.Message, tick: int, playing: bool) -> None:
        with self.lock:
            if msg.type == "program_change":
                self.programs[msg.channel] = msg.program
            elif not playing:
                return
            elif msg.type == "note_on" and msg.velocity > 0:
                self.sounding[(msg.channel, msg.note)] = (tick, msg.velocity)
            elif msg.type in ("note_off", "note_on"):
                started = self.sounding.pop((msg.channel, msg.note), None)
                if started is None:
                    return
                start, velocity = started
                take = self.notes[msg.channel]
                take[:] = [n for n in take if n.pitch != msg.note or abs(n.start - start) >= RETAKE_TICKS]
                take.append(
                    Note(start=start, duration=max(1, tick - start), pitch=msg.note, velocity=velocity)
                )

    def count(self) -> int:
        with self.lock:
            return sum(len(v) for v in self.notes.values())

    def score(self, meter: tuple[int, int], bpm: float, min_length: int = 0) -> Score:
        """What was recorded, as a score starting at bar 1, with empty bars up to min_length."""
        signature = TimeSignature(tick=0, numerator=meter[0], denominator=meter[1])  # type: ignore[arg-type]
        with self.lock:
            channels = sorted(set(self.notes) | set(self.programs))
            tracks = [
                Track(
                    name=channel_track_name(c),
                    program=self.programs.get(c, 0),
                    is_drum=c == DRUM_CHANNEL,
                    notes=sorted(self.notes.get(c, []), key=Note.key),
                )
                for c in channels
            ]
        end = max([min_length, 1] + [n.end for t in tracks for n in t.notes])
        bar = signature.bar_ticks
        return Score(
            title="live",
            length=-(-end // bar) * bar,
            tracks=tracks,
            time_signatures=[signature],
            tempos=[Tempo(tick=0, bpm=min(1000.0, max(1.0, bpm)))],
        )


class Player:
    """Plays notes at their ticks as the transport passes them, loop after loop.

    on_pulse() is called for every clock pulse with the position it marks; the events of the
    next pulse's span are then sent at their interpolated times by a scheduler thread. A span a
    pulse skipped (one that put back lost pulses) is sent at once; one already sent is not sent
    again (a pulse that took such a guess back).
    """

    def __init__(self, send: Callable[[mido.Message], None]):
        self._send = send
        self.lock = threading.Lock()
        self.events: list[tuple[int, ...]] = []  # (tick, off 0/on 1, channel, pitch, velocity, note start)
        self.sounding: set[tuple[int, int]] = set()
        self._heap: list[tuple[float, int, mido.Message]] = []
        self._counter = itertools.count()
        self._wake = threading.Condition(self.lock)
        self._stopped = False
        self.until: int | None = None  # where the spans scheduled end (None after a locate)
        self.thread = threading.Thread(target=self._run, name="scorehost-midi-player", daemon=True)
        self.thread.start()

    def set_notes(self, spans: list[tuple[int, int, int]], notes: dict[int, list[Note]]) -> None:
        """Replace what plays in these (channel, start, end) spans by these notes per channel."""
        with self.lock:
            kept = [e for e in self.events if not any(c == e[2] and s <= e[5] < end for c, s, end in spans)]
            for channel, channel_notes in notes.items():
                for n in channel_notes:
                    kept.append((n.start, 1, channel, n.pitch, n.velocity, n.start))
                    kept.append((n.end, 0, channel, n.pitch, 0, n.start))
            self.events = sorted(kept)

    def clear(self) -> None:
        with self.lock:
            self.events = []
        self.silence()

    def on_pulse(self, tick: int, interval: float, now: float) -> None:
        with self.lock:
            begin, end = tick, tick + TICKS_PER_PULSE
            if self.until is not None and abs(self.until - tick) <= TICKS_PER_QUARTER:
                begin = self.until
            self.until = max(begin, end)
            for event in self.events[_first_at(self.events, begin) :]:
                if event[0] >= end:
                    break
                at, order, channel, pitch, velocity = event[:5]
                when = now + (at - tick) / TICKS_PER_PULSE * interval
                kind = "note_on" if order else "note_off"
                msg = mido.Message(kind, channel=channel, note=pitch, velocity=velocity)
                heapq.heappush(self._heap, (when, next(self._counter), msg))
            self._wake.notify()

    def silence(self) -> None:
        """Drop what is scheduled and release every sounding note (on stop and on a locate)."""
        with self.lock:
            self._heap.clear()
            self.until = None
            sounding, self.sounding = self.sounding, set()
        for channel, pitch in sorted(sounding):
            self._send(mido.Message("note_off", channel=channel, note=pitch, velocity=0))

    def close(self) -> None:
        with self.lock:
            self._stopped = True
            self._wake.notify()
        self.thread.join(2)
        self.silence()

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    delay = None if not self._heap else self._heap[0][0] - time.monotonic()
                    self._wake.wait(delay)
                if self._stopped:
                    return
                _, _, msg = heapq.heappop(self._heap)
                key = (msg.channel, msg.note)
                if msg.type == "note_on":
                    self.sounding.add(key)
                elif key in self.sounding:
                    self.sounding.discard(key)
                else:
                    continue  # its note-on was dropped by a locate
            self._send(msg)


def _first_at(events: list[tuple], tick: int) -> int:
    low, high = 0, len(events)
    while low < high:
        mid = (low + high) // 2
        if events[mid][0] < tick:
            low = mid + 1
        else:
            high = mid
    return low
