"""One bar of one track as tokens, and back: REMI as miditok writes it (Position, Pitch or
PitchDrum, Velocity, Duration), with bars taken from the core score's own bar map.

The core score's bars (pickups, meter changes, partial bars) decide where a bar starts;
miditok computes bars itself and assumes every time-signature change falls on a bar line,
which a pickup map does not. So the bar is cut here and only its notes are tokenized, in
miditok's order and vocabulary (tests check the two agree on plain pieces).
"""

from __future__ import annotations

from scorehost.core.score import Bar, Note

from .vocab import Vocab, ticks_per_beat, ticks_per_position


def bar_positions(bar: Bar) -> int:
    """How many positions the bar has (a partial bar has fewer)."""
    step = ticks_per_position(bar.time_signature.denominator)
    return max(1, -(-(bar.end - bar.start) // step))


def bar_tokens(notes: list[Note], bar: Bar, is_drum: bool, vocab: Vocab) -> list[int]:
    """The tokens of the notes that start in the bar, sorted by onset, pitch and length.

    Onsets go to the nearest position of the bar, lengths and velocities to the nearest
    token; a note whose pitch has no token (a drum key outside General MIDI's percussion
    range) is left out, and so is a second note of the same pitch at the same position.
    """
    denominator = bar.time_signature.denominator
    step, beat = ticks_per_position(denominator), ticks_per_beat(denominator)
    table = vocab.drum_ids if is_drum else vocab.pitch_ids
    out: list[int] = []
    seen: set[tuple[int, int]] = set()
    last_position = -1
    # Sorted by position, then pitch: notes a few ticks apart (a strummed chord, mma's random
    # timing) share a position and are written low to high, the one order the decoding grammar
    # allows. By tick (as miditok keeps them) a quarter of mma's chords read high to low, the
    # network learned that, the grammar forbade it, and chord and drum fills came out half as
    # dense as their tracks. Notes on the same tick are in the same order either way.
    for note in sorted(notes, key=lambda n: (_position(n, bar, step, vocab), n.pitch, n.duration)):
        if not bar.start <= note.start < bar.end or table[note.pitch] < 0:
            continue
        position = _position(note, bar, step, vocab)
        if (position, note.pitch) in seen:
            continue
        seen.add((position, note.pitch))
        if position != last_position:
            out.append(int(vocab.positions[position]))
            last_position = position
        out += [
            int(table[note.pitch]),
            vocab.velocity_token(note.velocity),
            vocab.duration_token(note.duration / beat),
        ]
    return out


def _position(note: Note, bar: Bar, step: int, vocab: Vocab) -> int:
    """The nearest position of the bar (not the one before: a note played or rendered a few
    ticks early, as mma's grooves and human players put them, belongs on the beat it leads)."""
    last = min(bar_positions(bar), len(vocab.positions)) - 1
    return min(max(0, note.start - bar.start + step // 2) // step, last)


def bar_notes(tokens: list[int], bar: Bar, vocab: Vocab) -> list[Note]:
    """The notes a bar's tokens spell (the inverse of bar_tokens up to its rounding).

    Reads what a grammar-masked decoder writes: Position, then Pitch/PitchDrum, Velocity,
    Duration per note; anything else is skipped.
    """
    denominator = bar.time_signature.denominator
    step, beat = ticks_per_position(denominator), ticks_per_beat(denominator)
    kinds, names = vocab.token_kind, vocab.tokens
    velocities = dict((i, v) for v, i in vocab.velocities)
    durations = dict((i, d) for d, i in vocab.durations)
    notes: list[Note] = []
    position, pitch, velocity = 0, None, 80
    for token in tokens:
        kind = kinds[token]
        if kind == "Position":
            position = int(names[token].split("_")[1])
        elif kind in ("Pitch", "PitchDrum"):
            pitch = int(names[token].split("_")[1])
        elif kind == "Velocity":
            velocity = velocities[token]
        elif kind == "Duration" and pitch is not None:
            length = max(1, round(durations[token] * beat))
            notes.append(
                Note(start=bar.start + position * step, duration=length, pitch=pitch, velocity=velocity)
            )
            pitch = None
    return notes


def transposed(tokens: list[int], shift: int, vocab: Vocab) -> list[int]:
    """A bar's tokens moved by shift semitones; a pitch that would leave the range stays
    (training augmentation: the tokens of Pitch_0..Pitch_127 are consecutive)."""
    if not shift:
        return tokens
    low, high = int(vocab.pitch_ids[0]), int(vocab.pitch_ids[127])
    return [t + shift if low <= t <= high and low <= t + shift <= high else t for t in tokens]
