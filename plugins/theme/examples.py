"""Training examples: a window of bars of a labelled piece with bars to fill, and its theme.

Each example is a window of 1-8 bars, mostly (EXAMPLES_NEAR_OCCURRENCE) one that holds an
occurrence of the theme other than the theme itself, of the melody and up to three other
tracks, transposed by up to a fourth (the theme with it). The bars to fill are a span of the
melody, a span of another track, or a whole track. The theme is the theme's bars of the
melody alone, or of every track the window shows, at random: a request may name either.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scorehost.plugins.lib.bartokens import transposed
from scorehost.plugins.lib.vocab import Vocab

from .data import Piece
from .sequence import Cell, TrackRow, fill_section, theme_sequence, window_prompt

MAX_WINDOW_BARS = 8
MAX_TRACKS = 4
TRANSPOSE = (-5, 6)
NEAR_OCCURRENCE = 0.75


@dataclass
class Example:
    tokens: list[int]  # the decoder's sequence (the theme model's; the baseline's adds the theme)
    theme: list[int]  # the encoder's
    fill_from: int  # index of the first FillBar_Start: the tokens after it are scored


def sample_example(piece: Piece, vocab: Vocab, rng: np.random.Generator, context: int,
                   theme_context: int, augment: bool) -> Example:  # fmt: skip
    bars = len(piece.timesigs)
    length = int(rng.integers(1, min(MAX_WINDOW_BARS, bars) + 1))
    start = _window_start(piece, rng, length)
    others = [t for t in rng.permutation(len(piece.tracks)) if t != piece.melody]
    tracks = [*others[: int(rng.integers(0, MAX_TRACKS))], piece.melody]  # written ones sit last
    shift = int(rng.integers(TRANSPOSE[0], TRANSPOSE[1] + 1)) if augment else 0
    theme_tracks = [piece.melody] if rng.random() < 0.5 else sorted(tracks)
    theme = _theme(piece, theme_tracks, vocab, shift, theme_context)
    mask_kind = rng.random()
    while True:
        rows, answers = _window(piece, vocab, rng, tracks, start, length, shift, mask_kind)
        timesigs = piece.timesigs[start : start + length]
        prompt = window_prompt(timesigs, rows, vocab)
        tokens = prompt + fill_section(answers, vocab)
        if len(tokens) + len(theme) + 2 <= context:  # the baseline's prefix must fit too
            return Example(tokens, theme, len(prompt))
        if length > 1:
            length = max(1, length // 2)
        elif len(tracks) > 1:
            tracks = tracks[1:]
        else:
            return Example(tokens[: context - len(theme) - 3] + [vocab["EOS_None"]], theme, len(prompt))


def _window_start(piece: Piece, rng: np.random.Generator, length: int) -> int:
    later = [first for first, _, _ in piece.occurrences[1:]]
    bars = len(piece.timesigs)
    if later and rng.random() < NEAR_OCCURRENCE:
        first = later[int(rng.integers(len(later)))]
        low, high = max(0, first - length + 1), min(first, bars - length)
        return int(rng.integers(low, high + 1))
    return int(rng.integers(0, bars - length + 1))


def _theme(piece: Piece, tracks: list[int], vocab: Vocab, shift: int, limit: int) -> list[int]:
    first, count = piece.theme
    timesigs = piece.timesigs[first : first + count]
    while True:
        rows = [
            TrackRow(piece.tracks[t].program, piece.tracks[t].is_drum, [Cell(c) for c in _cells(piece, t, first, count, shift, vocab)])
            for t in tracks
        ]  # fmt: skip
        theme = theme_sequence(timesigs, rows, vocab)
        if len(theme) <= limit or len(tracks) == 1:
            return theme[: limit - 1] + [vocab["EOS_None"]] if len(theme) > limit else theme
        tracks = [piece.melody]


def _cells(piece: Piece, t: int, start: int, length: int, shift: int, vocab: Vocab) -> list[list[int]]:
    track = piece.tracks[t]
    cells = track.cells[start : start + length]
    return cells if track.is_drum else [transposed(c, shift, vocab) for c in cells]


def _window(piece, vocab, rng, tracks, start, length, shift, mask_kind) -> tuple[list[TrackRow], list[Cell]]:
    marks = piece.occurrence_bars()
    mask = _mask(rng, len(tracks), length, mask_kind)
    rows, answers = [], []
    for r, t in enumerate(tracks):
        track = piece.tracks[t]
        row = TrackRow(track.program, track.is_drum)
        for b, cell in enumerate(_cells(piece, t, start, length, shift, vocab)):
            opens, closes = marks.get(start + b, (False, False))
            if mask[r, b]:
                answers.append(Cell(cell, opens, closes))
                row.cells.append(Cell(None))
            else:
                row.cells.append(Cell(cell, opens, closes))
        rows.append(row)
    return rows, answers


def _mask(rng: np.random.Generator, tracks: int, bars: int, kind: float) -> np.ndarray:
    """Which cells to fill: a span of the melody (the last track), of another track, or a
    whole track."""
    mask = np.zeros((tracks, bars), dtype=bool)
    row = tracks - 1 if kind < 0.6 or tracks == 1 else int(rng.integers(0, tracks - 1))
    if kind < 0.85:
        a = int(rng.integers(0, bars))
        mask[row, a : int(rng.integers(a, bars)) + 1] = True
    else:
        mask[row] = True
    return mask
