"""How notes are spelled: E sharp or F, B flat or A sharp.

A note's spelling is its letter and accidental ("E#", "Bb", "C"); the octave follows from its
MIDI pitch. A score stores a spelling only where it differs from the key's own spelling of that
pitch (`key_spelling`), so a score read from MIDI, or made by hand, has none and compares equal
to itself after a trip through MusicXML. The key's spelling uses the scale's letters for the
scale's notes and, for the others, the alterations Bach's chorales use most (in major: #1, b3,
#4, #5, b7; in minor: b2, the major third, #4, the raised sixth and seventh), so that a score
read from MIDI is spelled as a musician would expect.

Notes a model writes are spelled for the key and for the harmony they sound in: the key's
spelling, unless another with at most one sharp or flat makes clearly fewer augmented or
diminished intervals with the notes sounding at its onset.
Pure Python: no music21, so the engine can spell results without loading it.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from .score import MODE_SCALES, KeySignature, Note, Score

LETTERS = "CDEFGAB"
NATURAL = (0, 2, 4, 5, 7, 9, 11)  # pitch class of each letter
_ACCIDENTALS = {"": 0, "#": 1, "##": 2, "b": -1, "bb": -2}
_SPELLING = re.compile(r"([A-G])(#{1,2}|b{1,2})?")
_MAJOR_TONICS = [
    "Cb",
    "Gb",
    "Db",
    "Ab",
    "Eb",
    "Bb",
    "F",
    "C",
    "G",
    "D",
    "A",
    "E",
    "B",
    "F#",
    "C#",
]  # by sharps, -7..7
_MODE_DEGREE = {"major": 0, "dorian": 1, "phrygian": 2, "lydian": 3, "mixolydian": 4}
_MODE_DEGREE |= {"minor": 5, "aeolian": 5, "locrian": 6}
# Letter steps above the tonic for the pitches outside the scale, by semitones above it.
_MAJOR_CHROMATIC = {1: 0, 3: 2, 6: 3, 8: 4, 10: 6}  # C#, Eb, F#, G#, Bb in C major
_MINOR_CHROMATIC = {1: 1, 4: 2, 6: 3, 9: 5, 11: 6}  # Db, E, F#, A, B in C minor
_MAJOR_LIKE = ("major", "lydian", "mixolydian")
# Semitones (mod 12) of the major, minor and perfect intervals, by letter steps (mod 7).
_PLAIN_INTERVALS = {0: {0}, 1: {1, 2}, 2: {3, 4}, 3: {5}, 4: {7}, 5: {8, 9}, 6: {10, 11}}


def parse_spelling(text: str) -> tuple[int, int]:
    """'Eb' -> (letter index 2, alter -1); ValueError if it is not a spelling."""
    match = _SPELLING.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a spelling (write a letter A-G and #, ##, b or bb)")
    return LETTERS.index(match.group(1)), _ACCIDENTALS[match.group(2) or ""]


def pitch_class(text: str) -> int:
    letter, alter = parse_spelling(text)
    return (NATURAL[letter] + alter) % 12


def name(letter: int, pitch: int) -> str:
    """The spelling of a pitch on a letter, e.g. (2, 63) -> 'Eb'."""
    alter = (pitch - NATURAL[letter] + 6) % 12 - 6
    accidental = "#" * alter if alter > 0 else "b" * -alter
    return LETTERS[letter] + accidental


def tonic_letter(key: KeySignature) -> int:
    major = _MAJOR_TONICS[max(-7, min(7, key.sharps)) + 7][0]
    return (LETTERS.index(major) + _MODE_DEGREE[key.mode]) % 7


def key_spelling(pitch: int, key: KeySignature) -> str:
    """The key's own spelling of a pitch: its scale letter, or the usual alteration."""
    offset = (pitch - key.tonic) % 12
    scale = MODE_SCALES[key.mode]
    if offset in scale:
        step = scale.index(offset)
    else:
        step = (_MAJOR_CHROMATIC if key.mode in _MAJOR_LIKE else _MINOR_CHROMATIC)[offset]
    return name((tonic_letter(key) + step) % 7, pitch)


def spelling_of(note: Note, score: Score) -> str:
    """The spelling a note is written with: its own, else its key's."""
    return note.spelling or key_spelling(note.pitch, score.key_at(note.start))


def canonical(score: Score) -> Score:
    """The score with each spelling that equals its key's own dropped (stored as None)."""
    tracks = []
    for track in score.tracks:
        notes = [
            n.model_copy(update={"spelling": None})
            if n.spelling is not None and n.spelling == key_spelling(n.pitch, score.key_at(n.start))
            else n
            for n in track.notes
        ]
        tracks.append(track.model_copy(update={"notes": notes}))
    return score.model_copy(update={"tracks": tracks})


def _candidates(pitch: int, preferred: str) -> list[str]:
    """The preferred spelling first, then every other with at most one sharp or flat."""
    others = [name(letter, pitch) for letter in range(7)]
    return [preferred] + [s for s in others if len(s) <= 2 and s != preferred]


def _clashes(spelled: str, pitch: int, sounding: list[tuple[str, int]]) -> int:
    """How many augmented or diminished intervals a spelling makes with the sounding notes."""
    letter = parse_spelling(spelled)[0]
    count = 0
    for other, other_pitch in sounding:
        low, high = sorted([(pitch, letter), (other_pitch, parse_spelling(other)[0])])
        steps, semitones = (high[1] - low[1]) % 7, (high[0] - low[0]) % 12
        count += semitones not in _PLAIN_INTERVALS[steps]
    return count


def _for_harmony(pitch: int, preferred: str, sounding: list[tuple[str, int]]) -> str:
    """The key's spelling unless another makes at least two fewer augmented or diminished
    intervals with the sounding notes: a diminished seventh chord holds one whichever way its
    notes are spelled, and on Bach's chorales (150 of them, every voice respelled) a margin of
    two agrees with his spelling of chromatic notes 99.2% of the time, one 98.4%, none 96.9%."""
    options = _candidates(pitch, preferred)
    clashes = {option: _clashes(option, pitch, sounding) for option in options}
    best = min(options, key=clashes.__getitem__)  # the first, the key's, on a tie
    return best if clashes[best] + 2 <= clashes[preferred] else preferred


def spell_written(score: Score, spans: dict[int, list[tuple[int, int]]]) -> Score:
    """The score with each note whose onset lies in a written span spelled for its key and the
    harmony at its onset; every other note keeps the spelling it has."""
    from .regions import in_spans  # regions imports requests, which imports this module's users

    sounding_at = _Sounding(score)
    tracks = []
    for index, track in enumerate(score.tracks):
        if track.is_drum or not spans.get(index):
            tracks.append(track)
            continue
        notes = []
        for n in track.notes:
            if in_spans(spans[index], n.start):
                key = score.key_at(n.start)
                others = [(s, p) for s, p, owner in sounding_at(n.start) if owner is not n]
                n = n.model_copy(
                    update={"spelling": _for_harmony(n.pitch, key_spelling(n.pitch, key), others)}
                )
            notes.append(n)
        tracks.append(track.model_copy(update={"notes": notes}))
    return canonical(score.model_copy(update={"tracks": tracks}))


class _Sounding:
    """The (spelling, pitch, note) of every pitched note sounding at a tick, as the score
    spells them before this pass (written notes by their key)."""

    def __init__(self, score: Score) -> None:
        entries = [
            (n.start, n.end, spelling_of(n, score), n.pitch, n)
            for track in score.tracks
            if not track.is_drum
            for n in track.notes
        ]
        self._entries = sorted(entries, key=lambda e: e[0])
        self._starts = [e[0] for e in self._entries]
        self._longest = max((e[1] - e[0] for e in self._entries), default=0)

    def __call__(self, tick: int) -> list[tuple[str, int, Note]]:
        stop = bisect_right(self._starts, tick)
        first = bisect_right(self._starts, tick - self._longest - 1)
        return [(s, p, n) for start, end, s, p, n in self._entries[first:stop] if end > tick]
