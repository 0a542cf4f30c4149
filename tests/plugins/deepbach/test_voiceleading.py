"""The sampler's parallel-fifth/octave cost per candidate token, on small hand-made grids."""

from __future__ import annotations

import numpy as np

from scorehost.plugins.deepbach.encoding import HOLD, MASK, REST
from scorehost.plugins.deepbach.voiceleading import next_change, parallel_counts, sounding


def _grid(vocab, voices: list[list[int]]) -> np.ndarray:
    """Pitches as MIDI numbers; 0 is a HOLD, -1 a REST, -2 a MASK."""
    special = {0: HOLD, -1: REST, -2: MASK}
    return np.array([[special[p] if p <= 0 else vocab.token(p) for p in row] for row in voices])


def _cost(vocab, grid, voice: int, step: int) -> dict:
    counts = parallel_counts(grid, np.array([voice]), np.array([step]), vocab)[0]
    return {name: int(counts[token]) for name, token in _tokens(vocab).items()}


def _tokens(vocab) -> dict:
    return {"hold": HOLD, "rest": REST, **{p: vocab.token(p) for p in range(vocab.low, vocab.high + 1)}}


def test_sounding_carries_pitches_through_holds_and_silences_rests_and_masks(vocab):
    grid = _grid(vocab, [[72, 0, -1, 0, -2, 74], [65, 0, 0, 67, 0, 0], [60] * 6, [48] * 6])
    assert sounding(grid, vocab)[0].tolist() == [72, 72, -1, -1, -1, 74]
    assert sounding(grid, vocab)[1].tolist() == [65, 65, 65, 67, 67, 67]
    assert next_change(grid)[1].tolist() == [3, 3, 3, 6, 6, 6]


def test_a_note_moving_into_a_parallel_fifth_costs_one(vocab):
    # soprano C5 -> D5 above alto F4 -> ?
    grid = _grid(vocab, [[72, 74], [65, -2], [60, 0], [48, 0]])
    cost = _cost(vocab, grid, voice=1, step=1)
    assert cost[67] == 1  # G4: a fifth to a fifth
    assert cost[69] == 0 and cost[62] == 0  # A4: a fourth; D4: a fifth to an octave
    assert cost["rest"] == 0 and cost[65] == 0  # silence; a repeated note does not move


def test_contrary_motion_into_the_same_octave_counts(vocab):
    # soprano C5 -> D5, bass C3 -> D2 or D3: both octaves (compound), similar or contrary
    grid = _grid(vocab, [[72, 74], [67, 0], [64, 0], [48, -2]])
    cost = _cost(vocab, grid, voice=3, step=1)
    assert cost[50] == 1 and cost[38] == 1
    assert cost[47] == 0  # B2: a sixth


def test_a_note_moving_out_into_a_parallel_counts(vocab):
    # alto's next note is fixed at G4 when the soprano moves C5 -> D5: the cell before it decides
    grid = _grid(vocab, [[72, 0, 74], [-2, 0, 67], [60, 0, 0], [48, 0, 0]])
    cost = _cost(vocab, grid, voice=1, step=0)
    assert cost[65] == 1  # F4 -> G4 under C5 -> D5: fifths
    assert cost[64] == 0


def test_a_hold_is_charged_for_the_pitch_it_carries(vocab):
    grid = _grid(vocab, [[72, 0, 74], [65, -2, 67], [60, 0, 0], [48, 0, 0]])
    cost = _cost(vocab, grid, voice=1, step=1)
    assert cost["hold"] == 1  # holding F4 into G4 under C5 -> D5
    assert cost[65] == 1  # striking F4 again: the same way out
    assert cost[64] == 0  # E4 moves in under a held soprano and out by a sixth to a fifth


def test_several_voices_add_up(vocab):
    # every voice moves up a tone; a tenor C4 -> D4 makes octaves with the soprano and the bass
    grid = _grid(vocab, [[72, 74], [65, 67], [60, -2], [48, 50]])
    assert _cost(vocab, grid, voice=2, step=1)[62] == 2
