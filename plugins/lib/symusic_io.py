"""The core Score as a symusic Score and back, and a fast MIDI reader built on symusic.

symusic (a C++ MIDI library) reads a MIDI file in a fraction of mido's time, and miditok
tokenizes its scores; this module is the one bridge between it and the core Score.

`from_symusic(to_symusic(score))` equals `score.normalized()` except for what a symusic Score
has no place for:

- the title (pass it back with `from_symusic(..., title=...)`);
- track roles, which come back None;
- church-mode keys: symusic keeps sharps and a major/minor flag, so dorian, phrygian, aeolian
  and locrian come back as the minor key and lydian and mixolydian as the major key with the
  same signature (aeolian keeps its tonic; the others change it);
- fermatas: symusic has markers only for the whole score, so each fermata tick travels as one
  "fermata" marker (core/midifile's convention) and comes back as one fermata on every track
  (track None);
- the length of a score that has no tracks, or whose last time signature starts at or after
  its end (see below).

Everything else survives exactly: tracks (name, program, drum flag, empty ones included),
notes, the time-signature map with its pickup and irregular bars, keys, markers and tempos.
A tempo travels as MIDI's whole microseconds per quarter and comes back as the shortest
decimal (at most 3 places) with the same microseconds: every bpm of at most 3 decimals up to
about 245 bpm survives; above that, bpms 0.001 apart can share their microseconds, and the
shorter decimal comes back (900.001 as 900.0), as MIDI cannot tell them apart either.

The score's length travels as an All Notes Off controller (CC 123) at its end on every track,
since symusic has no end-of-piece field; it also survives a MIDI file written by symusic.
Reading any symusic score, the length is the end of its last event, or, when the last time
signature starts at or after that end (a bar the file opens but does not fill), the end of
that bar.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import numpy as np
import symusic
from symusic.core import ScoreTick, TrackTick

from scorehost.core.errors import ScoreReadError, first_line
from scorehost.core.score import (
    TICKS_PER_QUARTER,
    Fermata,
    KeySignature,
    Marker,
    Note,
    Score,
    Tempo,
    TimeSignature,
    Track,
)

ALL_NOTES_OFF = 123  # the controller that marks the end of the score on each track
FERMATA = "fermata"  # marker text core/midifile uses for a fermata
_MINOR_LIKE = frozenset({"minor", "aeolian", "dorian", "phrygian", "locrian"})  # minor third
_DENOMINATORS = (1, 2, 4, 8, 16, 32, 64)

E = TypeVar("E", TimeSignature, KeySignature, Tempo)

# ---- core -> symusic --------------------------------------------------------------------


def to_symusic(score: Score) -> ScoreTick:
    """The score at 480 ticks per quarter, one symusic track per core track."""
    sym = symusic.Score(TICKS_PER_QUARTER)
    for track in score.tracks:
        sym.tracks.append(_sym_track(track, score.length))
    for ts in score.time_signatures:
        sym.time_signatures.append(symusic.TimeSignature(ts.tick, ts.numerator, ts.denominator))
    for k in score.keys:
        sym.key_signatures.append(symusic.KeySignature(k.tick, k.sharps, int(k.mode in _MINOR_LIKE)))
    for t in score.tempos:
        sym.tempos.append(symusic.Tempo(t.tick, qpm=t.bpm))
    for m in score.markers:
        sym.markers.append(symusic.TextMeta(m.tick, m.text))
    for tick in sorted({f.tick for f in score.fermatas}):
        sym.markers.append(symusic.TextMeta(tick, FERMATA))
    return sym


def _sym_track(track: Track, length: int) -> TrackTick:
    out = symusic.Track(name=track.name, program=track.program, is_drum=track.is_drum)
    notes = track.sorted_notes()
    out.notes = symusic.Note.from_numpy(
        np.array([n.start for n in notes], dtype=np.int32),
        np.array([n.duration for n in notes], dtype=np.int32),
        np.array([n.pitch for n in notes], dtype=np.int8),
        np.array([n.velocity for n in notes], dtype=np.int8),
    )
    out.controls.append(symusic.ControlChange(length, ALL_NOTES_OFF, 0))
    return out


# ---- symusic -> core --------------------------------------------------------------------


def from_symusic(sym: symusic.types.Score, title: str = "") -> Score:
    """A core Score from a symusic score of any resolution and time unit."""
    if sym.ttype != symusic.TimeUnit.tick:
        sym = sym.to("tick")
    # Ticks scale the way core/midifile scales them, so both readers give the same notes.
    scale = TICKS_PER_QUARTER / sym.ticks_per_quarter
    tracks = [_core_track(t, scale) for t in sym.tracks]
    time_signatures = _time_signatures(sym, scale)
    markers = [m for m in sym.markers if m.text != FERMATA]
    fermata_ticks = sorted({_tick(m.time, scale) for m in sym.markers if m.text == FERMATA})
    score = Score(
        title=title[:500],
        length=_length(sym, scale, tracks, time_signatures[-1]),
        tracks=tracks,
        time_signatures=time_signatures,
        keys=_keys(sym, scale),
        tempos=_tempos(sym, scale),
        fermatas=[Fermata(tick=t) for t in fermata_ticks],
        markers=[Marker(tick=_tick(m.time, scale), text=m.text[:200]) for m in markers],
    )
    return score.normalized()


def read_midi_fast(path: str | Path) -> Score:
    """A MIDI file read by symusic, for reading thousands of training files quickly.

    Unlike core/midifile, symusic starts a new track at a program change inside a channel,
    drops notes never released and most tracks without notes (the conductor track with the
    title among them, so the title is the file's name), and ignores end-of-track and text events.
    """
    path = Path(path)
    try:
        sym = symusic.Score(path)
    except Exception as exc:  # symusic raises RuntimeError or ValueError on damaged files
        raise ScoreReadError(f"{path.name} is not a readable MIDI file ({first_line(exc)})") from exc
    return from_symusic(sym, title=path.stem)


def _tick(time: int, scale: float) -> int:
    return round(time * scale)


def _core_track(track: TrackTick, scale: float) -> Track:
    arrays = track.notes.numpy()
    starts = np.rint(arrays["time"] * scale).astype(np.int64)
    ends = np.rint((arrays["time"] + arrays["duration"].astype(np.int64)) * scale).astype(np.int64)
    durations = np.maximum(ends - starts, 1)  # a zero-length note lasts one tick, as in core/midifile
    velocities = np.clip(arrays["velocity"], 1, 127)
    notes = [
        Note(start=s, duration=d, pitch=p, velocity=v)
        for s, d, p, v in zip(
            starts.tolist(), durations.tolist(), arrays["pitch"].tolist(), velocities.tolist(), strict=True
        )
    ]
    return Track(name=track.name[:200], program=track.program, is_drum=track.is_drum, notes=notes)


def _time_signatures(sym: ScoreTick, scale: float) -> list[TimeSignature]:
    found = {
        _tick(ts.time, scale): TimeSignature(
            tick=_tick(ts.time, scale), numerator=min(64, max(1, ts.numerator)), denominator=ts.denominator
        )
        for ts in sym.time_signatures
        if ts.denominator in _DENOMINATORS
    }
    return _from_zero(found, TimeSignature(tick=0, numerator=4, denominator=4))


def _keys(sym: ScoreTick, scale: float) -> list[KeySignature]:
    found = {
        _tick(k.time, scale): KeySignature.from_sharps(
            _tick(k.time, scale), k.key, "minor" if k.tonality == 1 else "major"
        )
        for k in sym.key_signatures
    }
    return _from_zero(found, KeySignature(tick=0, tonic=0))


def _tempos(sym: ScoreTick, scale: float) -> list[Tempo]:
    found = {
        _tick(t.time, scale): Tempo(tick=_tick(t.time, scale), bpm=_bpm(t.mspq))
        for t in sym.tempos
        if t.mspq > 0
    }
    return _from_zero(found, Tempo(tick=0, bpm=120.0))


def _bpm(mspq: int) -> float:
    """The shortest decimal bpm that MIDI stores as these microseconds per quarter."""
    qpm = 60_000_000 / mspq
    for places in range(4):
        bpm = round(qpm, places)
        if round(60_000_000 / bpm) == mspq:
            return min(1000.0, float(bpm))
    return min(1000.0, round(qpm, 3))


def _from_zero(events: dict[int, E], default: E) -> list[E]:
    """Events in tick order, starting at tick 0 as the core maps must (later events on a tick win)."""
    if 0 not in events:
        events[0] = default
    return [events[t] for t in sorted(events)]


def _length(sym: ScoreTick, scale: float, tracks: list[Track], last_ts: TimeSignature) -> int:
    music_end = max(
        max((n.end for t in tracks for n in t.notes), default=0),
        max((_tick(t.end(), scale) for t in sym.tracks), default=0),
    )
    end = max(music_end, _tick(sym.end(), scale))
    if last_ts.tick > 0 and music_end <= last_ts.tick:  # a bar the file opens but does not fill
        end = max(end, last_ts.tick + last_ts.bar_ticks)
    return end
