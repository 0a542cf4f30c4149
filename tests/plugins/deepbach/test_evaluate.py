from __future__ import annotations

import numpy as np

from scorehost.plugins.deepbach.encoding import HOLD, REST, encode_grid
from scorehost.plugins.deepbach.evaluate import faults, per_100_beats


def _grid(vocab, voices: list[list[int]]) -> np.ndarray:
    return np.array(
        [[vocab.token(p) if p > 0 else (HOLD if p == 0 else REST) for p in row] for row in voices]
    )


def test_parallel_fifths_and_octaves_are_counted(vocab):
    grid = _grid(vocab, [[72, 74], [65, 67], [60, 62], [48, 50]])  # every voice up a tone
    counts = faults(grid, vocab)
    assert counts["parallel_fifths"] == 1  # S-A (a fifth apart)
    assert counts["parallel_octaves"] == 3  # S-T, S-B and T-B (octaves apart)


def test_contrary_motion_and_held_notes_are_not_parallels(vocab):
    grid = _grid(vocab, [[72, 0, 71], [65, 0, 64], [60, 0, 62], [48, 0, 43]])
    counts = faults(grid, vocab)
    assert counts["parallel_octaves"] == 0


def test_bach_has_few_faults(chorale, vocab):
    score = chorale("bach/bwv66.6")
    counts = faults(encode_grid(score, vocab), vocab)
    assert counts["out_of_range"] == 0 and counts["crossings"] <= 2
    rates = per_100_beats({"model": counts, "bach": counts, "beats": 36.0})
    assert rates["model"] == rates["bach"]
