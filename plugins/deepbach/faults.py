"""Voice-leading faults of a four-voice score, judged by music21.

Between each pair of consecutive sonorities (a sonority starts wherever any voice strikes
a note), every pair of voices that both strike a note is handed to music21's
VoiceLeadingQuartet: parallelFifth() and parallelUnisonOrOctave() (similar or contrary
motion, octave displacement allowed). In each sonority, a voice below the next lower one is
a crossing, and more than an octave between soprano and alto or alto and tenor is a
spacing fault; a note outside its voice's range is counted once. Pitches are spelled for
the key in force (core.musicxml.spell: sharps in sharp keys, flats in flat keys), so that
music21 sees a fifth spelled as one.
"""

from __future__ import annotations

from functools import cache

from music21 import note, voiceLeading

from scorehost.core.musicxml import spell
from scorehost.core.score import Score

FAULTS = ("parallel_fifths", "parallel_octaves", "crossings", "spacing", "out_of_range")


@cache
def _note(midi: int, sharps: int) -> note.Note:
    return note.Note(spell(midi, sharps))


@cache
def _parallels(u1: int, u2: int, l1: int, l2: int, sharps: int) -> tuple[bool, bool]:
    """music21's parallelFifth() and parallelUnisonOrOctave() of one motion (cached: a score
    repeats its motions, and music21 takes a millisecond a quartet)."""
    quartet = voiceLeading.VoiceLeadingQuartet(*(_note(p, sharps) for p in (u1, u2, l1, l2)))
    return quartet.parallelFifth(), quartet.parallelUnisonOrOctave()


def _sonorities(score: Score, tracks: list[int]) -> list[tuple[int, list[int | None], list[bool]]]:
    """(tick, pitch sounding in each voice or None, whether each voice strikes there), in time order."""
    voices = [sorted(score.tracks[t].notes, key=lambda n: n.start) for t in tracks]
    onsets = sorted({n.start for notes in voices for n in notes})
    out = []
    for tick in onsets:
        sounding, struck = [], []
        for notes in voices:
            here = [n for n in notes if n.start <= tick < n.end]
            sounding.append(max(n.pitch for n in here) if here else None)
            struck.append(any(n.start == tick for n in here))
        out.append((tick, sounding, struck))
    return out


def count_faults(
    score: Score, tracks: list[int], ranges: list[tuple[int, int]], ranged: tuple[int, ...] = (0, 1, 2, 3)
) -> dict[str, int]:
    """Fault counts of the voices tracks (soprano first), ranges[i] the (low, high) MIDI range of
    voice i; notes out of range are counted in the voices ranged (a user's melody is its own)."""
    counts = dict.fromkeys(FAULTS, 0)
    sonorities = _sonorities(score, tracks)
    for (_, before, _), (tick, after, struck) in zip(sonorities, sonorities[1:], strict=False):
        sharps = score.key_at(tick).sharps
        for upper in range(len(tracks)):
            for lower in range(upper + 1, len(tracks)):
                pitches = (before[upper], after[upper], before[lower], after[lower])
                if not (struck[upper] and struck[lower]) or None in pitches:
                    continue
                fifth, octave = _parallels(*pitches, sharps)
                counts["parallel_fifths"] += fifth
                counts["parallel_octaves"] += octave
    for _, sounding, _ in sonorities:
        for upper, lower in zip(sounding, sounding[1:], strict=False):
            counts["crossings"] += upper is not None and lower is not None and upper < lower
        for upper, lower in zip(sounding[:3], sounding[1:3], strict=False):
            counts["spacing"] += upper is not None and lower is not None and upper - lower > 12
    for voice in ranged:
        low, high = ranges[voice]
        counts["out_of_range"] += sum(not low <= n.pitch <= high for n in score.tracks[tracks[voice]].notes)
    return counts
