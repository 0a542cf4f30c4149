"""Four voices on a sixteenth-note grid, with per-step metadata, and the way back to notes.

A grid is an int array of shape (4, T): one row per voice (S, A, T, B), one column per
sixteenth note (120 ticks). Each cell holds one token of a fixed vocabulary:

    PAD (past the end of the piece), MASK (network input only), REST, HOLD, then one token
    per MIDI pitch from vocab.low to vocab.high.

A note is a pitch token followed by HOLD tokens; a rest is REST at every step it lasts.
Per-step metadata (shape (META, T)): position in the bar in sixteenths counted from the
nominal bar start (so a pickup ends on the last sixteenth of a bar), bar length in
sixteenths (any meter), fermata, key tonic and key mode. Pitches are absolute; the key is
an input, so the model can tell D minor from F major.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from scorehost.core.errors import RequestError
from scorehost.core.score import MODE_SCALES, Note, Score, Track

STEP = 120  # ticks per sixteenth note
VOICES = ("soprano", "alto", "tenor", "bass")
PAD, MASK, REST, HOLD = 0, 1, 2, 3
FIRST_PITCH = 4
MODES = tuple(MODE_SCALES)  # fixed order of the core's mode names
MAX_POS = 32  # positions in a bar (sixteenths); longer bars are clipped
# metadata rows
POS, BAR_LEN, FERMATA, TONIC, MODE = range(5)
META = 5
# Index of the "padding" value in each metadata row (one past its largest real value).
META_SIZES = (MAX_POS + 1, MAX_POS + 2, 3, 13, len(MODES) + 1)
META_PAD = tuple(size - 1 for size in META_SIZES)


@dataclass(frozen=True)
class Vocab:
    """The token vocabulary and voice ranges; saved as JSON beside the weights."""

    low: int  # lowest MIDI pitch with a token
    high: int  # highest MIDI pitch with a token
    ranges: tuple[tuple[int, int], ...]  # per voice (low, high), S A T B

    @property
    def size(self) -> int:
        return FIRST_PITCH + self.high - self.low + 1

    def token(self, pitch: int) -> int:
        return FIRST_PITCH + pitch - self.low

    def pitch(self, token: int) -> int:
        return int(token) - FIRST_PITCH + self.low

    def to_json(self) -> dict:
        data = asdict(self)
        data["ranges"] = [list(r) for r in self.ranges]
        data["symbols"] = ["pad", "mask", "rest", "hold"]
        data["step_ticks"] = STEP
        data["modes"] = list(MODES)
        return data

    @classmethod
    def from_json(cls, data: dict) -> Vocab:
        if data.get("symbols") != ["pad", "mask", "rest", "hold"] or data.get("modes") != list(MODES):
            raise ValueError("the vocabulary file does not match this version of the encoding")
        return cls(int(data["low"]), int(data["high"]), tuple(tuple(r) for r in data["ranges"]))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls.from_json(json.loads(path.read_text()))


# ---- which tracks are the four voices ----------------------------------------------------


def voice_tracks(score: Score) -> list[int]:
    """Track indices of S, A, T, B: by role when every role is there once, else by order."""
    roles = [(t.role or "").lower() for t in score.tracks]
    if all(roles.count(v) == 1 for v in VOICES):
        return [roles.index(v) for v in VOICES]
    if len(score.tracks) == 4:
        return [0, 1, 2, 3]
    if len(score.tracks) > 4:
        raise RequestError(
            f"the score has {len(score.tracks)} tracks and no single soprano, alto, tenor and bass "
            "roles; deepbach writes four-voice (SATB) chorales only"
        )
    raise RequestError(
        f"the score has {len(score.tracks)} track(s); deepbach needs four (soprano, alto, tenor, "
        "bass), empty ones included"
    )


def check_voice(track: Track, name: str) -> None:
    """Refuse a voice that is a drum track or has notes that overlap (chords)."""
    if track.is_drum:
        raise RequestError(f"the {name} track is a drum track; deepbach writes pitched voices only")
    notes = track.sorted_notes()
    for before, after in zip(notes, notes[1:], strict=False):
        if after.start < before.end:
            raise RequestError(
                f"the {name} track has overlapping notes at tick {after.start} "
                f"(pitches {before.pitch} and {after.pitch}); each voice must sing one note at a time"
            )


# ---- beats ---------------------------------------------------------------------------------


def beat_ticks(numerator: int, denominator: int) -> int:
    """Ticks of one beat: the denominator's note, or its dotted value in compound meters (6/8,
    9/8, 12/8, 6/16...: the dotted quarter of 6/8)."""
    unit = 4 * 480 // denominator
    return 3 * unit if is_compound(numerator, denominator) else unit


def is_compound(numerator: int, denominator: int) -> bool:
    return denominator >= 8 and numerator > 3 and numerator % 3 == 0


def beat_starts(score: Score) -> list[int]:
    """The tick of every beat of the piece, counted from each bar's nominal start (a pickup's
    beats are the last ones of a full bar)."""
    ticks = []
    for bar in score.bars():
        ts = bar.time_signature
        nominal = bar.end - ts.bar_ticks if bar.index == 0 and bar.is_partial else bar.start
        beat = beat_ticks(ts.numerator, ts.denominator)
        first = bar.start + (-(bar.start - nominal)) % beat
        ticks.extend(range(first, bar.end, beat))
    return ticks


def compound_offbeats(score: Score, steps: int) -> np.ndarray:
    """(steps,) bool: the steps inside bars of a compound meter that do not start a beat."""
    out = np.zeros(steps, dtype=bool)
    for bar in score.bars():
        ts = bar.time_signature
        if is_compound(ts.numerator, ts.denominator):
            out[bar.start // STEP : min(steps, -(-bar.end // STEP))] = True
    beats = [t // STEP for t in beat_starts(score) if t // STEP < steps]
    out[beats] = False
    return out


# ---- score -> grid -----------------------------------------------------------------------


def steps_of(score: Score) -> int:
    return max(1, -(-score.length // STEP))


def encode_voice(track: Track, steps: int, vocab: Vocab) -> np.ndarray:
    """One voice as tokens; onsets are rounded down to the grid, pitches folded into the vocabulary."""
    row = np.full(steps, REST, dtype=np.int64)
    for note in track.sorted_notes():
        first = note.start // STEP
        last = max(first + 1, -(-note.end // STEP))
        if first >= steps:
            continue
        row[first] = vocab.token(fold_pitch(note.pitch, vocab))
        row[first + 1 : min(last, steps)] = HOLD
    return row


def fold_pitch(pitch: int, vocab: Vocab) -> int:
    """Move a pitch by octaves into the vocabulary (for context notes outside it)."""
    while pitch < vocab.low:
        pitch += 12
    while pitch > vocab.high:
        pitch -= 12
    return pitch


def encode_grid(score: Score, vocab: Vocab, tracks: list[int] | None = None) -> np.ndarray:
    tracks = voice_tracks(score) if tracks is None else tracks
    steps = steps_of(score)
    return np.stack([encode_voice(score.tracks[i], steps, vocab) for i in tracks])


def encode_meta(score: Score, tracks: list[int] | None = None) -> np.ndarray:
    """Per-step metadata, shape (META, T)."""
    tracks = voice_tracks(score) if tracks is None else tracks
    steps = steps_of(score)
    meta = np.zeros((META, steps), dtype=np.int64)
    for bar in score.bars():
        bar_steps = max(1, bar.time_signature.bar_ticks // STEP)
        offset = bar_steps - (bar.end - bar.start) // STEP if bar.index == 0 and bar.is_partial else 0
        for step in range(bar.start // STEP, min(steps, -(-bar.end // STEP))):
            meta[POS, step] = min(MAX_POS - 1, offset + step - bar.start // STEP)
            meta[BAR_LEN, step] = min(MAX_POS, bar_steps)
    for step in range(steps):
        key = score.key_at(step * STEP)
        meta[TONIC, step] = key.tonic
        meta[MODE, step] = MODES.index(key.mode)
    for step in fermata_steps(score, tracks, steps):
        meta[FERMATA, step] = 1
    return meta


def fermata_steps(score: Score, tracks: list[int], steps: int) -> set[int]:
    """Steps under a fermata: from its tick to the end of the longest note starting there."""
    marked: set[int] = set()
    for fermata in score.fermatas:
        if fermata.track is not None and fermata.track not in tracks:
            continue
        ends = [n.end for i in tracks for n in score.tracks[i].notes if n.start == fermata.tick]
        end = max(ends, default=fermata.tick + STEP)
        marked.update(range(fermata.tick // STEP, min(steps, -(-end // STEP))))
    return marked


# ---- grid -> notes -----------------------------------------------------------------------


def decode_voice(row: np.ndarray, vocab: Vocab, first: int = 0, stop: int | None = None) -> list[Note]:
    """Notes whose onsets lie in steps [first, stop); a note lasts through the HOLDs after it."""
    stop = len(row) if stop is None else stop
    notes = []
    for step in range(first, stop):
        token = int(row[step])
        if token < FIRST_PITCH:
            continue
        end = step + 1
        while end < len(row) and row[end] == HOLD:
            end += 1
        notes.append(Note(start=step * STEP, duration=(end - step) * STEP, pitch=vocab.pitch(token)))
    return notes


def grid_to_tracks(grid: np.ndarray, vocab: Vocab) -> list[list[Note]]:
    return [decode_voice(row, vocab) for row in grid]


def repair_holds(grid: np.ndarray) -> np.ndarray:
    """A HOLD after a REST (or at the start) continues silence: make it a REST."""
    grid = grid.copy()
    for row in grid:
        previous = REST
        for step, token in enumerate(row):
            if token == HOLD and previous in (REST, PAD):
                row[step] = REST
                token = REST
            previous = token
    return grid
