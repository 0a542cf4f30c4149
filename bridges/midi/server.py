"""The live MIDI bridge: virtual ports 'scorehost in' and 'scorehost out'.

A DAW sends a track's notes and its MIDI clock to 'scorehost in'. On a trigger (a CC chosen in
the settings, or /scorehost/live/fill over OSC) scorehost fills the requested bars of the
recording with a model, and plays the written notes out of 'scorehost out' in time with the
clock, on each pass, so a DAW track that records 'scorehost out' gets them.

Ports come from python-rtmidi (the live extra: pip install 'scorehost[live]' from the package
index, pip install '.[live]' in a checkout; messages are parsed by mido):
ALSA on Linux desktops, CoreMIDI on macOS; on a machine without sound hardware, JACK's dummy
driver with MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK (the backend setting names the rtmidi
API). The input port is polled rather than given a callback, so no Python runs in the MIDI
system's thread: a busy interpreter delays messages but cannot make JACK drop them, and each
keeps the time the MIDI system stamped it with. JACK itself drops a cycle's MIDI when a
client's JACK thread (the DAW's or this one's) misses the cycle, as on a loaded machine
without realtime scheduling; Transport (live.py) puts back the clock pulses so lost when
their times show it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import mido

from scorehost.core.bridge import Bridge, LiveFill, LiveState
from scorehost.core.cliparse import build_request
from scorehost.core.engine import Engine, Job, Status
from scorehost.core.errors import RequestError, ScorehostError
from scorehost.core.meter import parse_meter
from scorehost.core.paths import PathPolicy, free_names
from scorehost.core.requests import EditRequest
from scorehost.core.score import Score, Track
from scorehost.core.scoreio import write_score
from scorehost.core.settings import Settings

from .live import (
    DRUM_CHANNEL,
    TICKS_PER_PULSE,
    Player,
    Recorder,
    Transport,
    channel_track_name,
    track_channel,
)
from .settings import MidiSettings

log = logging.getLogger("scorehost.midi")

REALTIME = {"clock", "start", "stop", "continue", "songpos"}
DEFAULT_BACKEND = "mido.backends.rtmidi"


class MidiBridge(Bridge, LiveFill):
    name = "midi"
    description = "Live MIDI: virtual ports 'scorehost in'/'scorehost out' that record, fill and play in time with the DAW's clock"
    settings_model = MidiSettings

    def __init__(self) -> None:
        self.running = False
        self.engine: Engine | None = None
        self.settings: Settings | None = None
        self.own: MidiSettings | None = None  # the midi_* settings
        self.transport = Transport()
        self.recorder = Recorder()
        self._held: list[tuple[mido.Message, int]] = []  # notes waiting for a guessed pulse's confirmation
        self.player: Player | None = None
        self.inport = self.outport = None
        self.last_job: Job | None = None
        self.saved: list[Path] = []  # files written by triggered fills
        self._send_lock = threading.Lock()

    # ---- Bridge -------------------------------------------------------------------------

    def start(self, engine: Engine, settings: Settings) -> None:
        own = self.own_settings(settings)
        self.engine, self.settings, self.own = engine, settings, own
        self.meter = parse_meter(own.midi_meter, "midi_meter")
        api = _rtmidi_api(own.midi_backend or os.environ.get("MIDO_BACKEND") or DEFAULT_BACKEND)
        self.transport, self.recorder, self._held = Transport(), Recorder(), []
        try:
            self.outport = PortOut(api, own.midi_out)
            self.inport = PolledIn(api, own.midi_in, self._receive)
        except Exception as exc:
            self._close_ports()
            raise ScorehostError(
                f"cannot open the virtual MIDI ports ({type(exc).__name__}: {exc}). Linux needs an ALSA "
                "sequencer (/dev/snd/seq) or a JACK server: JACK_NO_AUDIO_RESERVATION=1 jackd -d dummy & "
                "and MIDO_BACKEND=mido.backends.rtmidi/UNIX_JACK"
            ) from exc
        self.player = Player(self._send)
        self.running = True

    def stop(self) -> None:
        self.running = False
        if self.inport is not None:
            self.inport.close()
            self.inport = None
        if self.player is not None:
            self.player.close()
            self.player = None
        self._close_ports()

    def address(self) -> str:
        if not self.own:
            return ""
        trigger = self.own.midi_trigger_cc
        return f"ports {self.own.midi_in!r} and {self.own.midi_out!r}" + (
            f", trigger CC {trigger}" if trigger is not None else ""
        )

    def _close_ports(self) -> None:
        for port in (self.inport, self.outport):
            if port is not None:
                try:
                    port.close()
                except Exception:
                    log.debug("closing %s failed", port, exc_info=True)
        self.inport = self.outport = None

    # ---- what the DAW sends -------------------------------------------------------------

    def _receive(self, msg: mido.Message, stamp: float | None = None) -> None:
        """One message, with the time the MIDI system received it; never raises."""
        try:
            now = time.monotonic() if stamp is None else stamp
            if msg.type in REALTIME:
                change = self.transport.feed(msg, now)
                self._release_held()
                if self.player is None:
                    return
                if change in ("jump", "stop"):
                    self.player.silence()
                if msg.type == "clock" and self.transport.playing:
                    self.player.on_pulse(self.transport.position(now), self.transport.interval, now)
                return
            own = self.own
            if (
                msg.type == "control_change"
                and own is not None
                and msg.control == own.midi_trigger_cc
                and msg.value >= 64
            ):
                threading.Thread(target=self._triggered, name="scorehost-midi-fill", daemon=True).start()
                return
            tick = self.transport.position(now)
            if self.transport.guessed and msg.type in ("note_on", "note_off"):
                self._held.append((msg, tick))  # placed when the next clock confirms the guess
                return
            self.recorder.feed(msg, tick, self.transport.playing)
        except Exception:
            log.exception("live MIDI message %s failed", msg)

    def _release_held(self) -> None:
        """Record the notes held while the transport's guess of lost pulses was unconfirmed,
        moved back by the pulses the clock after it took back."""
        held, self._held = self._held, []
        back = self.transport.taken_back * TICKS_PER_PULSE
        for msg, tick in held:
            self.recorder.feed(msg, tick - back, True)

    def _triggered(self) -> None:
        assert self.settings is not None and self.own is not None
        if not self.own.midi_fill:
            log.warning("MIDI trigger received, but no region is set: serve --midi-fill ch2:1-4")
            return
        try:
            job, _ = self.fill([self.own.midi_fill])
            result = job.wait(self.settings.timeout + 5)
            if self.own.midi_save_dir is not None:
                self.saved.append(self._save(result.variations[0].score))
        except ScorehostError as exc:
            log.warning("live fill failed: %s", exc)

    def _save(self, score: Score) -> Path:
        """Write a fill into midi_save_dir under a new name (it must be an allowed folder)."""
        assert self.settings is not None and self.own is not None and self.own.midi_save_dir is not None
        paths = PathPolicy(self.settings.allowed_dirs)
        (name,) = free_names(self.own.midi_save_dir, f"live-{time.strftime('%Y%m%d-%H%M%S')}", ".mid")
        return write_score(score, paths.writable(str(name), "midi_save_dir"))

    def _send(self, msg: mido.Message) -> None:
        with self._send_lock:
            if self.outport is not None:
                self.outport.send(msg)

    # ---- fills (the CC trigger and /scorehost/live/fill) --------------------------------

    @property
    def default_region(self) -> str:
        return self.own.midi_fill if self.own else ""

    def fill(
        self,
        specs: list[str],
        model: str | None = None,
        constraints: list[str] = (),  # type: ignore[assignment]
        options: dict[str, Any] | None = None,
        timeout: float | None = None,
        play: bool = True,
    ) -> tuple[Job, EditRequest]:
        """Submit a fill of the recording; its result plays on each pass once it is done."""
        assert self.engine is not None and self.own is not None
        model = model or self.own.midi_model
        if not model:
            raise RequestError("name the model: model=ID, or start serve with --midi-model", "model")
        score = self.recorder.score(self.meter, self.transport.bpm, _last_bar_end(specs, self.meter))
        score = _with_channel_tracks(score, specs)
        request = build_request(model, score, specs, constraints, options, timeout, add_roles=False)
        job = self.engine.submit(request)
        self.last_job = job
        if play:
            job.on_change(lambda j: j.done and j.status == Status.DONE and self._play(j, request))
        return job, request

    def _play(self, job: Job, request: EditRequest) -> None:
        if self.player is None or job.result is None:
            return
        score = job.result.variations[0].score
        spans, notes = [], {}
        for region in request.regions:
            track = score.tracks[region.track]
            channel = _channel_of(track, region.track)
            spans.append((channel, region.start, region.end))
            notes.setdefault(channel, []).extend(
                n for n in track.notes if region.start <= n.start < region.end
            )
        self.player.set_notes(spans, notes)

    def clear(self) -> None:
        self.recorder.clear()
        if self.player is not None:
            self.player.clear()

    def state(self) -> LiveState:
        now = time.monotonic()
        return {
            "playing": self.transport.playing,
            "position": self.transport.position(now),
            "notes": self.recorder.count(),
            "bpm": float(self.transport.bpm),
            "tracks": ",".join(sorted(channel_track_name(c) for c in self.recorder.notes)),
        }


# ---- ports (python-rtmidi) --------------------------------------------------------------


def _rtmidi_api(backend: str):
    """The rtmidi API of a mido backend name: mido.backends.rtmidi[/UNIX_JACK|LINUX_ALSA|...]."""
    module, _, api_name = backend.partition("/")
    if module != DEFAULT_BACKEND:
        raise ScorehostError(
            f"live MIDI uses python-rtmidi: set the backend to {DEFAULT_BACKEND}[/API], not {backend!r}"
        )
    try:
        import rtmidi
    except ImportError as exc:
        raise ScorehostError(
            f"live MIDI needs python-rtmidi ({exc}); install scorehost's live extra: "
            "pip install 'scorehost[live]' (from the package index), or pip install '.[live]' "
            "in a scorehost checkout"
        ) from exc
    if not api_name:
        return rtmidi.API_UNSPECIFIED
    api = getattr(rtmidi, f"API_{api_name.upper()}", None)
    if api is None:
        known = ", ".join(n[4:] for n in dir(rtmidi) if n.startswith("API_"))
        raise ScorehostError(f"no rtmidi API {api_name!r} (known: {known})")
    return api


class PolledIn:
    """A virtual input port read by polling: no Python runs in the MIDI system's own thread (JACK's
    process cycle), so a busy interpreter (a model sampling) cannot make it drop clock pulses or
    notes, and each message keeps the time the MIDI system stamped it with."""

    def __init__(self, api, name: str, handler):
        import rtmidi

        self.rt = rtmidi.MidiIn(api, "scorehost", queue_size_limit=16384)
        self.rt.ignore_types(sysex=True, timing=False, active_sense=True)
        self.rt.open_virtual_port(name)
        self.handler = handler
        self.running = True
        self.thread = threading.Thread(target=self._run, name="scorehost-midi-in", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        stamp: float | None = None
        parser = mido.Parser()
        while self.running:
            batch = []
            while (item := self.rt.get_message()) is not None:
                batch.append(item)
            if not batch:
                time.sleep(0.0005)
                continue
            stamps = message_times([delta for _, delta in batch], stamp, time.monotonic())
            stamp = stamps[-1]
            for (data, _), at in zip(batch, stamps, strict=True):
                parser.feed(data)
                for msg in parser:
                    self.handler(msg, at)

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.rt.close_port()
        self.rt.delete()


def message_times(deltas: list[float], last: float | None, now: float) -> list[float]:
    """When the MIDI system received each message of a batch read at once, on time.monotonic()'s
    scale: from rtmidi's deltas (each from the message before; the MIDI system's times, exact
    however late the batch is read), after the last message's time (None: the first batch).
    The batch ends no later than now (the first batch ends at now) and not more than 2 s
    before it; a correction moves the whole batch, keeping its gaps."""
    times, at = [], 0.0
    for i, delta in enumerate(deltas):
        at += delta if last is not None or i else 0.0
        times.append(at)
    base = now - times[-1] if last is None else last
    base = min(base, now - times[-1])  # never in the future
    base = max(base, now - 2.0 - times[-1])  # never far behind
    return [base + t for t in times]


class PortOut:
    def __init__(self, api, name: str):
        import rtmidi

        self.rt = rtmidi.MidiOut(api, "scorehost")
        self.rt.open_virtual_port(name)

    def send(self, msg: mido.Message) -> None:
        self.rt.send_message(msg.bytes())

    def close(self) -> None:
        self.rt.close_port()
        self.rt.delete()


def _last_bar_end(specs: list[str], meter: tuple[int, int]) -> int:
    """How long the recording must be for the spans the specs name (bar 1 starts at tick 0)."""
    bar = meter[0] * 1920 // meter[1]
    end = 0
    for spec in specs:
        span = spec.partition(":")[2].strip().lower()
        if ticks := re.fullmatch(r"t(\d+)-(\d+)", span):
            end = max(end, int(ticks.group(2)))
        elif bars := re.fullmatch(r"(\d+)(?:-(\d+))?", span):
            end = max(end, int(bars.group(2) or bars.group(1)) * bar)
    return end


def _with_channel_tracks(score: Score, specs: list[str]) -> Score:
    """Add an empty track for each chN a region names that the recording lacks (track infill)."""
    tracks = list(score.tracks)
    names = {t.name for t in tracks}
    for spec in specs:
        for ref in spec.partition(":")[0].split(","):
            channel = track_channel(ref)
            if channel is not None and channel_track_name(channel) not in names:
                tracks.append(Track(name=channel_track_name(channel), is_drum=channel == DRUM_CHANNEL))
                names.add(channel_track_name(channel))
    return score.model_copy(update={"tracks": tracks})


def _channel_of(track: Track, index: int) -> int:
    channel = track_channel(track.name)
    return channel if channel is not None else index % 16
