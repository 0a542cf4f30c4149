"""Keys with their mode, for sources (a key signature, an editor's cursor) that give only sharps."""

from __future__ import annotations

from fractions import Fraction

from .score import TICKS_PER_QUARTER, KeySignature, Track


def infer_mode(sharps: int, tracks: list[Track], start: int, end: int | None) -> str:
    """Major or its relative minor, for a signature that does not say which.

    The lowest note of the section's last onset settles it when it is one of the two tonics
    (the cadence names the key); otherwise music21's key analysis ranks the two.
    """
    major = KeySignature.from_sharps(0, sharps, "major")
    minor = KeySignature.from_sharps(0, sharps, "minor")
    stop = end if end is not None else 1 << 62
    notes = [n for t in tracks if not t.is_drum for n in t.notes if start <= n.start < stop]
    if not notes:
        return "major"
    last_onset = max(n.start for n in notes)
    bass = min(n.pitch for n in notes if n.start == last_onset) % 12
    if bass in (major.tonic, minor.tonic) and major.tonic != minor.tonic:
        return "major" if bass == major.tonic else "minor"
    from music21 import stream  # slow to import: only when the cadence does not settle it

    section = stream.Stream()
    for n in notes:
        section.insert(n.start / TICKS_PER_QUARTER, _plain_note(n.pitch, n.duration))
    analysed = section.analyze("key")
    for candidate in [analysed, *getattr(analysed, "alternateInterpretations", [])]:
        if candidate.sharps == sharps and candidate.mode in ("major", "minor"):
            return candidate.mode
    return "major"


def _plain_note(pitch: int, ticks: int):
    from music21 import duration, note

    n = note.Note(pitch)
    n.duration = duration.Duration(Fraction(ticks, TICKS_PER_QUARTER))
    return n


def keys_from_sharps(signatures: list[tuple[int, int]], tracks: list[Track]) -> list[KeySignature]:
    """Keys for (tick, sharps) pairs, each section's mode inferred from its notes."""
    ordered = sorted(dict(signatures).items()) or [(0, 0)]
    if ordered[0][0] != 0:
        ordered.insert(0, (0, ordered[0][1]))
    keys = []
    for index, (tick, sharps) in enumerate(ordered):
        end = ordered[index + 1][0] if index + 1 < len(ordered) else None
        keys.append(KeySignature.from_sharps(tick, sharps, infer_mode(sharps, tracks, tick, end)))
    return keys
