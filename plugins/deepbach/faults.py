"""Voice-leading faults of a four-voice score, judged by music21.

Between each pair of consecutive sonorities (a sonority starts wherever any voice strikes
a note), every pair of voices that both strike a note is handed to music21's
VoiceLeadingQuartet: parallelFifth() and parallelUnisonOrOctave() (similar or contrary
motion, octave displacement allowed). In each sonority, a voice below the next lower one is
a crossing, and more than an octave between soprano and alto or alto and tenor is a
spacing fault; a note outside its voice's range is counted once. Pitches are spelled with
sharps in sharp keys and flats in flat keys (the key in force at each sonority), so a fifth
is spelled as one.
"""

from __future__ import annotations

from functools import cache

from music21 import interval, note, voiceLeading

from scorehost.core.musicxml import spell
from scorehost.core.score import Score

FAULTS = ("parallel_fifths", "parallel_octaves", "crossings", "spacing", "out_of_range")


@cache
def _note(midi: int, flats: bool) -> note.Note:
    return note.Note(spell(midi, -1 if flats else 0))


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


def count_faults(score: Score, tracks: list[int], ranges: list[tuple[int, int]]) -> dict[str, int]:
    """Fault counts of the voices tracks (soprano first), ranges[i] the (low, high) MIDI range of voice i."""
    counts = dict.fromkeys(FAULTS, 0)
    sonorities = _sonorities(score, tracks)
    for (_, before, _), (tick, after, struck) in zip(sonorities, sonorities[1:], strict=False):
        flats = score.key_at(tick).sharps < 0
        for upper in range(len(tracks)):
            for lower in range(upper + 1, len(tracks)):
                pitches = (before[upper], after[upper], before[lower], after[lower])
                if not (struck[upper] and struck[lower]) or None in pitches:
                    continue
                quartet = voiceLeading.VoiceLeadingQuartet(*(_note(p, flats) for p in pitches))
                counts["parallel_fifths"] += quartet.parallelFifth()
                counts["parallel_octaves"] += quartet.parallelUnisonOrOctave()
    for tick, sounding, _ in sonorities:
        flats = score.key_at(tick).sharps < 0
        for upper, lower in zip(sounding, sounding[1:], strict=False):
            if upper is not None and lower is not None:
                counts["crossings"] += (
                    interval.Interval(_note(lower, flats), _note(upper, flats)).semitones < 0
                )
        for upper, lower in zip(sounding[:3], sounding[1:3], strict=False):
            if upper is not None and lower is not None:
                counts["spacing"] += (
                    interval.Interval(_note(lower, flats), _note(upper, flats)).semitones > 12
                )
    for track, (low, high) in zip(tracks, ranges, strict=True):
        counts["out_of_range"] += sum(not low <= n.pitch <= high for n in score.tracks[track].notes)
    return counts
