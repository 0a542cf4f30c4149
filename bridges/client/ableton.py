"""Fill Ableton Live clips through AbletonOSC (the remote script on UDP 11000, replies on 11001).

Reads the notes of the context and target clips (/live/clip/get/notes), the tempo and meter,
sends them inline to scorehost's /scorehost/edit, and writes the notes of the filled bars back
(/live/clip/remove/notes over those bars, then /live/clip/add/notes). Clips of one scene are
taken to start together, at beat 0 of bar 1.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from typing import Any

from scorehost.bridges.osc import protocol as p
from scorehost.core.errors import RequestError

NOTES_PER_MESSAGE = 100


@dataclass(frozen=True)
class ClipRef:
    track: int
    clip: int


@dataclass(frozen=True)
class FillRef:
    track: int
    clip: int
    first_bar: int
    last_bar: int


def parse_clip(text: str) -> ClipRef:
    match = re.fullmatch(r"\s*(\d+):(\d+)\s*", text)
    if not match:
        raise RequestError(
            f"write a clip as TRACK:SLOT (0-based, as AbletonOSC counts), not {text!r}", "--context"
        )
    return ClipRef(int(match.group(1)), int(match.group(2)))


def parse_fill(text: str) -> FillRef:
    match = re.fullmatch(r"\s*(\d+):(\d+):(\d+)(?:-(\d+))?\s*", text)
    if not match:
        raise RequestError(f"write a fill as TRACK:SLOT:BARS, e.g. 1:0:3-4, not {text!r}", "--fill")
    first, last = int(match.group(3)), int(match.group(4) or match.group(3))
    if first < 1 or last < first:
        raise RequestError(f"bars count from 1, and {last} comes before {first}", "--fill")
    return FillRef(int(match.group(1)), int(match.group(2)), first, last)


class LiveOsc:
    """A minimal AbletonOSC client: send to Live's port, read replies on the reply port."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 11000, reply_port: int = 11001, timeout: float = 5.0
    ):
        self.live = (host, port)
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind(("127.0.0.1" if host in ("127.0.0.1", "localhost") else "", reply_port))
        except OSError as exc:
            self.sock.close()
            raise RequestError(
                f"cannot listen for AbletonOSC's replies on port {reply_port} ({exc.strerror})"
            ) from None

    def close(self) -> None:
        self.sock.close()

    def send(self, address: str, *args: Any) -> None:
        self.sock.sendto(p.encode(address, *args), self.live)

    def query(self, address: str, *args: Any) -> list[Any]:
        """Send a getter and return its reply's arguments (those echoing the request included)."""
        self.send(address, *args)
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RequestError(
                    f"Ableton did not answer {address} in {self.timeout:g} s: is Live running with the "
                    f"AbletonOSC control surface, listening on port {self.live[1]}?"
                )
            self.sock.settimeout(left)
            try:
                data = self.sock.recvfrom(65_535)[0]
            except TimeoutError:
                continue
            for reply, values in p.decode(data):
                if reply == "/live/error":
                    raise RequestError(f"AbletonOSC: {' '.join(map(str, values))}")
                if reply == address and list(values[: len(args)]) == list(args):
                    return list(values)


def read_clip(live: LiveOsc, clip: ClipRef) -> list[tuple[int, float, float, int]]:
    values = live.query("/live/clip/get/notes", clip.track, clip.clip)[2:]
    notes = []
    for i in range(0, len(values) - 4, 5):
        pitch, start, duration, velocity, mute = values[i : i + 5]
        if not mute:
            notes.append((int(pitch), float(start), float(duration), int(velocity)))
    return notes


def fill(
    live: LiveOsc,
    scorehost,
    model: str,
    fills: list[FillRef],
    context: list[ClipRef],
    options: list[str],
    timeout: float,
    on_reply=None,
    drums: frozenset[int] = frozenset(),
) -> dict[FillRef, int]:
    """Fill the bars; returns how many notes each fill wrote.

    Live's clips carry no drum flag, so the tracks in `drums`, and those whose name says drums
    (a Drum Rack's usually does), go as drum tracks: a multi-track model writes drum keys there.
    """
    tempo = float(live.query("/live/song/get/tempo")[0])
    numerator = int(live.query("/live/song/get/signature_numerator")[0])
    denominator = int(live.query("/live/song/get/signature_denominator")[0])
    clips: list[ClipRef] = []
    for ref in [*context, *(ClipRef(f.track, f.clip) for f in fills)]:
        if ref not in clips:
            clips.append(ref)
    args: list[Any] = [
        f"model={model}",
        f"meter={numerator}/{denominator}",
        f"bpm={tempo:g}",
        "notes=regions",
    ]
    for ref in clips:
        name = str(live.query("/live/track/get/name", ref.track)[1])
        kit = ":drums" if ref.track in drums or "drum" in name.lower() else ""
        args.append(f"track={re.sub(r'[:,=]', ' ', name).strip() or f'track {ref.track}'}{kit}")
        for note in read_clip(live, ref):
            args += [note[0], note[1], note[2], note[3]]
    for f in fills:
        args.append(f"region={clips.index(ClipRef(f.track, f.clip))}:{f.first_bar}-{f.last_bar}")
    args += [f"option={o}" for o in options]
    written: dict[int, list[float]] = {}

    def collect(name: str, values: list) -> None:
        if name == "notes" and values[1] == 0:
            written.setdefault(values[2], []).extend(values[6:])
        if on_reply is not None:
            on_reply(name, values)

    scorehost.call("edit", *args, timeout=timeout, on_reply=collect)
    bar_beats = numerator * 4 / denominator
    counts = {}
    for f in fills:
        start, end = (f.first_bar - 1) * bar_beats, f.last_bar * bar_beats
        values = written.get(clips.index(ClipRef(f.track, f.clip)), [])
        notes = [values[i : i + 4] for i in range(0, len(values), 4)]
        notes = [n for n in notes if start <= n[1] < end]
        live.send("/live/clip/remove/notes", f.track, f.clip, 0, 128, float(start), float(end - start))
        for i in range(0, len(notes), NOTES_PER_MESSAGE):
            flat: list[Any] = []
            for pitch, begin, duration, velocity in notes[i : i + NOTES_PER_MESSAGE]:
                flat += [int(pitch), float(begin), float(min(duration, end - begin)), int(velocity), False]
            live.send("/live/clip/add/notes", f.track, f.clip, *flat)
        counts[f] = len(notes)
    return counts
