"""Parallel fifths and octaves on the grid, as a cost per candidate token for the sampler.

The network learns the chorale style, parallels included, only as well as its size and
training allow; a small one writes them far more often than Bach. The sampler can subtract
a penalty from the logit of each token in proportion to the parallels that writing it
would make with the other voices (the state of the others as they stand), which turns
"no parallels" into a soft constraint of the Gibbs chain: the chain then samples from the
network's distribution reweighted by exp(-penalty * parallels).

A parallel is two voices that both move, in the same or contrary direction, from one
perfect interval to the same perfect interval class (unison/octave, or fifth), as music21's
VoiceLeadingQuartet.parallelFifth and parallelUnisonOrOctave judge them.
"""

from __future__ import annotations

import numpy as np

from .encoding import FIRST_PITCH, HOLD, Vocab

PERFECT = (0, 7)  # interval classes in semitones mod 12: unison/octave, fifth


def token_pitches(vocab: Vocab) -> np.ndarray:
    """MIDI pitch of each token, -1 for the non-pitch tokens."""
    pitches = np.arange(vocab.size) - FIRST_PITCH + vocab.low
    pitches[:FIRST_PITCH] = -1
    return pitches


def sounding(grid: np.ndarray, vocab: Vocab) -> np.ndarray:
    """MIDI pitch sounding in each cell of a (4, T) grid, -1 for silence (rest, mask, padding)."""
    struck = np.where(grid >= FIRST_PITCH, token_pitches(vocab)[grid], -1)
    # each cell takes the pitch of the last cell at or before it that is not a HOLD
    last = np.where(grid != HOLD, np.arange(grid.shape[1]), 0)
    last = np.maximum.accumulate(last, axis=1)
    return np.take_along_axis(struck, last, axis=1)


def next_change(grid: np.ndarray) -> np.ndarray:
    """For each cell, the first later step of its voice that is not a HOLD (T if none)."""
    steps = grid.shape[1]
    after = np.where(grid != HOLD, np.arange(steps), steps)
    after = np.minimum.accumulate(after[:, ::-1], axis=1)[:, ::-1]  # first non-HOLD at or after
    return np.concatenate([after[:, 1:], np.full((grid.shape[0], 1), steps)], axis=1)


def parallels(u1, l1, u2, l2) -> np.ndarray:
    """Whether the motion u1->u2 against l1->l2 is a parallel (or antiparallel) perfect interval."""
    known = (u1 >= 0) & (l1 >= 0) & (u2 >= 0) & (l2 >= 0)
    moving = (u1 != u2) & (l1 != l2)
    first, second = np.abs(u1 - l1) % 12, np.abs(u2 - l2) % 12
    return known & moving & (first == second) & ((first == PERFECT[0]) | (first == PERFECT[1]))


def parallel_counts(grid: np.ndarray, voices: np.ndarray, steps: np.ndarray, vocab: Vocab) -> np.ndarray:
    """(n, V): how many parallels writing each token at each cell (voices[i], steps[i]) would make.

    A pitch token is checked on the way in (the voice's previous pitch to it, against every
    voice that strikes a note at the same step) and on the way out (to the voice's next note,
    if the cells between hold it). A HOLD is checked on the way out with the pitch it holds.
    Rests and everything else cost nothing. The other cells are taken as they stand."""
    pitch_of = token_pitches(vocab)
    pitch = sounding(grid, vocab)
    struck = np.where(grid >= FIRST_PITCH, pitch_of[grid], -1)
    steps_total = grid.shape[1]
    others = np.array([[w for w in range(4) if w != v] for v in range(4)])[voices]  # (n, 3)
    before = np.maximum(steps - 1, 0)
    first = (steps == 0)[:, None]
    prev_self = np.where(first[:, 0], -1, pitch[voices, before])  # (n,)
    prev_other = np.where(first, -1, pitch[others, before[:, None]])  # (n, 3)
    new_other = struck[others, steps[:, None]]  # (n, 3)
    candidates = np.broadcast_to(pitch_of, (len(steps), vocab.size))  # (n, V)
    into = parallels(
        prev_self[:, None, None], prev_other[:, :, None], candidates[:, None, :], new_other[:, :, None]
    ).sum(axis=1)

    held = candidates.copy()
    held[:, HOLD] = prev_self  # a HOLD carries the previous pitch to the next note
    nxt = next_change(grid)[voices, steps]  # (n,)
    inside = nxt < steps_total
    at = np.minimum(nxt, steps_total - 1)
    next_self = np.where(inside, struck[voices, at], -1)
    last_other = np.where(inside[:, None], pitch[others, at[:, None] - 1], -1)
    next_other = np.where(inside[:, None], struck[others, at[:, None]], -1)
    out = parallels(
        held[:, None, :], last_other[:, :, None], next_self[:, None, None], next_other[:, :, None]
    ).sum(axis=1)
    return into + out
