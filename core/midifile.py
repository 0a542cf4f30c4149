"""Standard MIDI files in and out through mido.

Written files are type 1 at 480 ticks per quarter: a conductor track with title, meter, key,
tempo and markers, then one track per score track, on the track's channel (see
write_channels), with its notes and its controller events (control changes, pitch bends,
aftertouch) at their ticks. What MIDI cannot say by itself (a track's role, a key's church mode,
fermatas) travels in text and marker events that other programs show harmlessly, so a score
survives score -> MIDI -> score exactly.
"""

from __future__ import annotations

import io
from collections import defaultdict, deque
from pathlib import Path

import mido

from .errors import LimitExceeded, ScoreReadError, first_line
from .score import (
    MAX_CONTROLS,
    TICKS_PER_QUARTER,
    Control,
    Fermata,
    KeySignature,
    Marker,
    Note,
    Score,
    Tempo,
    TimeSignature,
    Track,
)

DRUM_CHANNEL = 9
_MELODIC_CHANNELS = [c for c in range(16) if c != DRUM_CHANNEL]
_ROLE_PREFIX = "scorehost:role="
_MODE_PREFIX = "scorehost:mode="
_FERMATA = "fermata"
_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_MINOR_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_PITCH_CLASS = {
    "C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6,
    "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11, "Cb": 11,
}  # fmt: skip


# ---- reading ----------------------------------------------------------------------------


def read_midi(path: Path) -> Score:
    data = path.read_bytes()
    _check_header(data[:14], path.name)
    _check_controls(data, path.name)
    try:
        midi = mido.MidiFile(file=io.BytesIO(data), clip=True)
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError...
        raise ScoreReadError(f"{path.name} is not a readable MIDI file ({first_line(exc)})") from exc
    return score_from_midi(midi, title_fallback=path.stem)


def _check_controls(data: bytes, name: str) -> None:
    """Refuse a file with more controller events than a score may hold before mido reads it:
    mido makes an object of every event, some 10 us and 600 bytes each, so a file of millions
    of pitch bends (3 bytes each, under the file limit) took minutes and gigabytes before the
    score's limit refused it. The scan walks the events as mido does and stops at the limit;
    where the file stops making sense it stops too and leaves the verdict to mido."""
    if len(data) < 2 * MAX_CONTROLS:  # an event takes 2 bytes or more: it cannot hold more
        return
    count = 0
    tracks = int.from_bytes(data[10:12], "big")
    pos = 8 + int.from_bytes(data[4:8], "big")
    for _ in range(tracks):
        if data[pos : pos + 4] != b"MTrk":
            return
        end = min(len(data), pos + 8 + int.from_bytes(data[pos + 4 : pos + 8], "big"))
        i, status = pos + 8, 0
        pos = end
        while i < end:
            while i < end and data[i] & 0x80:  # the delta time
                i += 1
            i += 1
            if i >= end:
                break
            byte = data[i]
            if byte & 0x80:
                i += 1
                if byte == 0xFF:  # meta: type, length, data; no running status
                    i += 1
                    length, i = _variable_int(data, i, end)
                    i += length
                    continue
                status = byte
            if status >= 0xF0 or not status:
                if status in (0xF0, 0xF7) and byte & 0x80:  # sysex: length, data
                    length, i = _variable_int(data, i, end)
                    i += length
                    continue
                break  # running status without a status, or after sysex: mido decides
            high = status & 0xF0
            if high in _CONTROL_STATUS:
                count += 1
                if count > MAX_CONTROLS:
                    raise LimitExceeded(
                        f"{name} holds more than {MAX_CONTROLS:,} controller events (control changes, "
                        f"pitch bends, aftertouch); the limit is {MAX_CONTROLS:,}"
                    )
            i += 1 if high in (0xC0, 0xD0) else 2


_CONTROL_STATUS = frozenset({0xA0, 0xB0, 0xD0, 0xE0})  # polytouch, control change, aftertouch, bend


def _variable_int(data: bytes, i: int, end: int) -> tuple[int, int]:
    value = 0
    while i < end:
        byte = data[i]
        i += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            break
    return value, i


def _check_header(header: bytes, name: str) -> None:
    """Refuse, before mido reads the file, what the header says scorehost cannot read: the
    chunk 'MThd', its length (6 or more), the file type (0 or 1) and the time division."""
    if header[:4] != b"MThd":
        raise ScoreReadError(f"{name} is not a MIDI file (it does not start with the MIDI header 'MThd')")
    if len(header) < 14 or int.from_bytes(header[4:8], "big") < 6:
        raise ScoreReadError(f"{name} is not a readable MIDI file (its header is cut short)")
    kind, division = int.from_bytes(header[8:10], "big"), int.from_bytes(header[12:14], "big")
    if kind == 2:
        raise ScoreReadError(f"{name} is a type 2 MIDI file (independent patterns); save it as type 0 or 1")
    if kind > 2:
        raise ScoreReadError(f"{name} says it is a type {kind} MIDI file; there are types 0, 1 and 2")
    if division & 0x8000:
        raise ScoreReadError(
            f"{name} uses SMPTE time, which scorehost does not read; save it with ticks per beat"
        )
    if division == 0:
        raise ScoreReadError(f"{name} says a beat has 0 ticks; a MIDI file needs at least 1")


class _Reader:
    def __init__(self, ticks_per_beat: int):
        self.scale = TICKS_PER_QUARTER / ticks_per_beat
        self.signatures: dict[int, TimeSignature] = {}
        self.keys: dict[int, KeySignature] = {}
        self.modes: dict[int, str] = {}
        self.tempos: dict[int, Tempo] = {}
        self.markers: list[Marker] = []
        self.fermatas: list[tuple[int, int | None]] = []  # (tick, midi track index or None)
        self.title = ""
        self.length = 0

    def tick(self, raw: int) -> int:
        return round(raw * self.scale)

    def meta(self, msg, tick: int, owner: int | None) -> None:
        if msg.type == "time_signature" and msg.denominator in (1, 2, 4, 8, 16, 32, 64):
            self.signatures[tick] = TimeSignature(
                tick=tick, numerator=max(1, min(64, msg.numerator)), denominator=msg.denominator
            )
        elif msg.type == "key_signature":
            name = msg.key
            minor = name.endswith("m")
            tonic = _PITCH_CLASS.get(name[:-1] if minor else name)
            if tonic is not None:
                self.keys[tick] = KeySignature(tick=tick, tonic=tonic, mode="minor" if minor else "major")
        elif msg.type == "set_tempo" and msg.tempo > 0:
            self.tempos[tick] = Tempo(tick=tick, bpm=min(1000.0, round(mido.tempo2bpm(msg.tempo), 3)))
        elif msg.type == "text" and msg.text.startswith(_MODE_PREFIX):
            self.modes[tick] = msg.text[len(_MODE_PREFIX) :]
        elif msg.type == "marker":
            if msg.text == _FERMATA:
                self.fermatas.append((tick, owner))
            else:
                self.markers.append(Marker(tick=tick, text=msg.text[:200]))


def score_from_midi(midi: mido.MidiFile, title_fallback: str = "") -> Score:
    reader = _Reader(midi.ticks_per_beat)
    tracks: list[Track] = []
    first_track_of: dict[int, int] = {}  # MIDI track number -> its first score track
    strays: list[tuple[int, str, list[Control]]] = []  # controls of a channel their track does not play
    for number, midi_track in enumerate(midi.tracks):
        conductor = number == 0 and midi.type == 1
        found, stray = _read_track(reader, midi_track, None if conductor else number)
        if found:
            first_track_of[number] = len(tracks)
        tracks += found
        strays += stray
    tracks = _with_strays(tracks, strays)
    unset = [t.model_copy(update={"channel": None}) for t in tracks]
    if [t.channel for t in tracks] == write_channels(unset):
        tracks = unset  # the channels the writer picks anyway: so score -> MIDI -> score is exact
    keys = {t: k for t, k in reader.keys.items()}
    for tick, mode in reader.modes.items():
        if tick in keys and mode in (
            "dorian",
            "phrygian",
            "lydian",
            "mixolydian",
            "locrian",
            "aeolian",
        ):
            keys[tick] = KeySignature.from_sharps(tick, keys[tick].sharps, mode)
    fermatas = [
        Fermata(tick=t, track=None if owner is None else first_track_of.get(owner))
        for t, owner in reader.fermatas
    ]
    length = max([reader.length] + [n.end for t in tracks for n in t.notes])
    score = Score(
        title=reader.title or title_fallback,
        length=length,
        tracks=tracks,
        time_signatures=_with_start(reader.signatures, TimeSignature(tick=0, numerator=4, denominator=4)),
        keys=_with_start(keys, KeySignature(tick=0, tonic=0)),
        tempos=_with_start(reader.tempos, Tempo(tick=0, bpm=120.0)),
        fermatas=fermatas,
        markers=reader.markers,
    )
    return score.normalized()


def _with_start(events: dict[int, object], default):
    if 0 not in events:
        events = {0: default, **events}
    return [events[t] for t in sorted(events)]


def _with_strays(tracks: list[Track], strays: list[tuple[int, str, list[Control]]]) -> list[Track]:
    """The tracks with the controls of MIDI tracks that do not play their channel (a DAW's setup
    track, a conductor track's volumes, a reset sent on all channels) moved onto the first track
    that plays that channel: a channel's controls act on it from any MIDI track, so they are
    written back with the same effect. Controls of a channel no track plays make a track of
    their own, at the end."""
    tracks = list(tracks)
    for channel, name, controls in strays:
        index = next((i for i, t in enumerate(tracks) if t.channel == channel), None)
        if index is None:
            tracks.append(
                Track(name=name, channel=channel, is_drum=channel == DRUM_CHANNEL, controls=controls)
            )
        else:
            merged = sorted([*tracks[index].controls, *controls], key=lambda c: c.tick)
            tracks[index] = tracks[index].model_copy(update={"controls": merged})
    return tracks


def _read_track(
    reader: _Reader, midi_track, number: int | None
) -> tuple[list[Track], list[tuple[int, str, list[Control]]]]:
    """Score tracks found in one MIDI track, one per channel that plays or sets a program, and
    the controls of channels it does not play, as (channel, track name, controls).

    number is the MIDI track's position, None for the conductor track of a type 1 file.
    """
    raw = 0
    name, role = "", None
    programs: dict[int, int] = {}
    notes: dict[int, list[Note]] = defaultdict(list)
    controls: dict[int, list[Control]] = defaultdict(list)
    sounding: dict[tuple[int, int], deque] = defaultdict(deque)
    for msg in midi_track:
        raw += msg.time
        tick = reader.tick(raw)
        if msg.is_meta:
            if msg.type == "track_name":
                name = msg.name.strip()[:200]
            elif msg.type == "text" and msg.text.startswith(_ROLE_PREFIX):
                role = msg.text[len(_ROLE_PREFIX) :][:40] or None
            else:
                reader.meta(msg, tick, number)
            continue
        if msg.type == "program_change":
            programs.setdefault(msg.channel, msg.program)
        elif msg.type == "note_on" and msg.velocity > 0:
            sounding[(msg.channel, msg.note)].append((tick, msg.velocity))
        elif msg.type in ("note_off", "note_on"):
            queue = sounding.get((msg.channel, msg.note))
            if queue:
                start, velocity = queue.popleft()
                notes[msg.channel].append(_note(start, tick, msg.note, velocity))
        elif msg.type in _CONTROL_KINDS:
            controls[msg.channel].append(_control(msg, tick))
    end = reader.tick(raw)
    reader.length = max(reader.length, end)
    for (channel, pitch), queue in sounding.items():  # notes never released end with the track
        for start, velocity in queue:
            notes[channel].append(_note(start, end, pitch, velocity))
    if number is None and not notes:  # the conductor track: its name is the title
        reader.title = name
        return [], [(channel, "", controls[channel]) for channel in sorted(controls)]
    channels = sorted(set(notes) | set(programs))
    strays = [(channel, name, controls[channel]) for channel in sorted(set(controls) - set(channels))]
    return [
        Track(
            name=name,
            program=programs.get(channel, 0),
            channel=channel,
            is_drum=channel == DRUM_CHANNEL,
            role=role,
            notes=notes.get(channel, []),
            controls=controls.get(channel, []),
        )
        for channel in channels
    ], strays


_CONTROL_KINDS = frozenset({"control_change", "pitchwheel", "aftertouch", "polytouch"})


def _control(msg: mido.Message, tick: int) -> Control:
    if msg.type == "control_change":
        return Control(tick=tick, kind="control_change", number=msg.control, value=msg.value)
    if msg.type == "polytouch":
        return Control(tick=tick, kind="polytouch", number=msg.note, value=msg.value)
    if msg.type == "pitchwheel":
        return Control(tick=tick, kind="pitchwheel", value=msg.pitch)
    return Control(tick=tick, kind="aftertouch", value=msg.value)


def _control_message(control: Control, channel: int) -> mido.Message:
    if control.kind == "control_change":
        return mido.Message("control_change", channel=channel, control=control.number, value=control.value)
    if control.kind == "polytouch":
        return mido.Message("polytouch", channel=channel, note=control.number, value=control.value)
    if control.kind == "pitchwheel":
        return mido.Message("pitchwheel", channel=channel, pitch=control.value)
    return mido.Message("aftertouch", channel=channel, value=control.value)


def _note(start: int, end: int, pitch: int, velocity: int) -> Note:
    return Note(start=start, duration=max(1, end - start), pitch=pitch, velocity=max(1, velocity))


# ---- writing ----------------------------------------------------------------------------


def write_midi(score: Score, path: Path) -> None:
    score_to_midi(score).save(str(path))


def score_to_midi(score: Score) -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    midi.tracks.append(_conductor(score))
    for index, (track, channel) in enumerate(zip(score.tracks, write_channels(score.tracks), strict=True)):
        midi.tracks.append(_track_events(score, index, track, channel))
    return midi


def write_channels(tracks: list[Track]) -> list[int]:
    """The channel each track is written on: 9 for drums, else its own, else the next melodic
    channel that no track names (cycling when tracks outnumber channels)."""
    named = {t.channel for t in tracks if t.channel is not None and not t.is_drum}
    free = [c for c in _MELODIC_CHANNELS if c not in named] or _MELODIC_CHANNELS
    picked = iter(free * (len(tracks) // len(free) + 1))
    return [
        DRUM_CHANNEL
        if t.is_drum
        else t.channel
        if t.channel is not None and t.channel != DRUM_CHANNEL
        else next(picked)
        for t in tracks
    ]


def _conductor(score: Score) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.MetaMessage]] = []
    if score.title:
        events.append((0, 0, mido.MetaMessage("track_name", name=score.title)))
    for ts in score.time_signatures:
        events.append(
            (
                ts.tick,
                1,
                mido.MetaMessage("time_signature", numerator=ts.numerator, denominator=ts.denominator),
            )
        )
    for k in score.keys:
        events.append((k.tick, 1, mido.MetaMessage("key_signature", key=_midi_key_name(k))))
        if k.mode not in ("major", "minor"):
            events.append((k.tick, 1, mido.MetaMessage("text", text=_MODE_PREFIX + k.mode)))
    for t in score.tempos:
        events.append((t.tick, 1, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(t.bpm))))
    for m in score.markers:
        events.append((m.tick, 1, mido.MetaMessage("marker", text=m.text)))
    for f in score.fermatas:
        if f.track is None:
            events.append((f.tick, 1, mido.MetaMessage("marker", text=_FERMATA)))
    return _as_track(events, score.length)


def _midi_key_name(k: KeySignature) -> str:
    """The signature as mido names it: church modes are written as their major or minor twin."""
    if k.mode in ("minor", "aeolian"):
        return _MINOR_NAMES[k.tonic] + "m"
    if k.mode == "major":
        return _NAMES[k.tonic]
    sharps = k.sharps
    return _NAMES[(sharps * 7) % 12] if -6 <= sharps <= 6 else _NAMES[k.tonic]


def _track_events(score: Score, index: int, track: Track, channel: int) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
    events.append((0, 0, mido.MetaMessage("track_name", name=track.name)))
    if track.role:
        events.append((0, 0, mido.MetaMessage("text", text=_ROLE_PREFIX + track.role)))
    if not track.is_drum:
        events.append((0, 1, mido.Message("program_change", channel=channel, program=track.program)))
    for f in score.fermatas:
        if f.track == index:
            events.append((f.tick, 1, mido.MetaMessage("marker", text=_FERMATA)))
    # At equal ticks, releases go before controls, and controls before onsets: repeated notes do
    # not overlap, a pedal pressed at a tick holds the notes starting there and not those
    # ending there. Controls on one tick keep their order (sorting is stable).
    for control in track.controls:
        events.append((control.tick, 3, _control_message(control, channel)))
    for n in track.notes:
        events.append((n.end, 2, mido.Message("note_off", channel=channel, note=n.pitch, velocity=0)))
        events.append(
            (
                n.start,
                4,
                mido.Message("note_on", channel=channel, note=n.pitch, velocity=n.velocity),
            )
        )
    return _as_track(events, score.length)


def _as_track(events, length: int) -> mido.MidiTrack:
    track = mido.MidiTrack()
    now = 0
    for tick, _order, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=max(0, length - now)))
    return track
