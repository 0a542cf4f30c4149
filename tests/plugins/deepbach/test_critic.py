"""The critic's faults per candidate token, on small hand-made grids (pitches as MIDI numbers)."""

from __future__ import annotations

import numpy as np

from scorehost.plugins.deepbach.critic import Context, Weights, _letters, costs
from scorehost.plugins.deepbach.encoding import HOLD, MASK

C_MAJOR, D_MINOR = (0, "major"), (2, "minor")


def _grid(vocab, voices):
    special = {0: HOLD, -2: MASK}
    return np.array([[special[p] if p <= 0 else vocab.token(p) for p in row] for row in voices])


def _context(steps: int, key=C_MAJOR, beats=None, cadence=(), final=()) -> Context:
    beats = np.ones(steps, dtype=bool) if beats is None else np.array(beats)
    marked = np.zeros(steps, dtype=bool)
    marked[list(cadence)] = True
    last = np.zeros(steps, dtype=bool)
    last[list(final)] = True
    onset = marked & ~np.concatenate([[False], marked[:-1]])
    before = np.full(steps, -1)
    for c in np.flatnonzero(onset):
        if c > 0:
            before[c - 1] = c
    tonic = np.full(steps, key[0])
    return Context(beats, marked, last, onset, before, tonic, np.stack([_letters(*key)] * steps))


def _cost(vocab, grid, voice, step, context, **weights) -> dict[int, float]:
    charged = costs(grid, np.array([voice]), np.array([step]), context, vocab, Weights(**weights))[0]
    return {p: float(charged[vocab.token(p)]) for p in range(vocab.low, vocab.high + 1)} | {
        "hold": float(charged[HOLD])
    }


def test_a_note_that_leaves_no_chord_on_a_beat_is_charged_and_off_the_beat_it_is_not(vocab):
    grid = _grid(vocab, [[72], [-2], [64], [48]])  # C E C under a hidden alto
    cost = _cost(vocab, grid, 1, 0, _context(1), harmony=1)
    assert cost[67] == cost[69] == cost[60] == 0  # C major, A minor, C-E (a triad without its fifth)
    assert cost[62] == 1 and cost[66] == 1 and cost[70] == 1  # C-D-E, C-E-F#, C-E-B flat (no fifth)
    assert _cost(vocab, grid, 1, 0, _context(1, beats=[False]), harmony=1)[62] == 0


def test_the_final_chord_wants_the_tonic_in_the_bass_in_root_position(vocab):
    grid = _grid(vocab, [[72, 72], [67, 67], [64, 64], [43, -2]])  # G7-less V, then the final chord
    cost = _cost(vocab, grid, 3, 1, _context(2, cadence=[1], final=[1]), cadence=1)
    assert cost[48] == 0 and cost[36] == 0  # C in the bass
    assert cost[52] == 2  # E: C major in first inversion, its bass not the tonic
    assert cost[45] >= 3  # A: A minor seventh, neither a consonant triad nor on the tonic


def test_the_chord_before_a_cadence_is_v_or_iv_in_root_position(vocab):
    grid = _grid(vocab, [[74, 72], [67, 67], [59, 64], [-2, 48]])  # ? then C major under a fermata
    cost = _cost(vocab, grid, 3, 0, _context(2, cadence=[1]), cadence=1)
    assert cost[43] == 0  # G major, root position: V-I
    assert cost[47] == 1  # G major over B: V6
    assert cost[50] == 1  # G major over D: V6/4
    assert cost[45] == 2  # A: D-G-B over A is no chord


def test_the_leading_tone_rises_to_the_tonic_at_a_cadence(vocab):
    grid = _grid(vocab, [[74, 72], [71, -2], [67, 64], [43, 48]])
    cost = _cost(vocab, grid, 1, 1, _context(2, cadence=[1]), leading_tone=1)
    assert cost[72] == 0 and cost[67] == 1 and cost["hold"] == 1


def test_cross_relations_in_the_chord_and_beside_it(vocab):
    # D minor: bass B flat; an alto B natural clashes with it, B flat or A do not
    grid = _grid(vocab, [[74, 74], [69, -2], [62, 62], [46, 46]])
    cost = _cost(vocab, grid, 1, 1, _context(2, key=D_MINOR), cross_relation=1)
    assert cost[71] == 2  # against the bass's B flat in this chord and the one before
    assert cost[70] == 0 and cost[69] == 0


def test_augmented_melodic_intervals_and_leaps_over_an_octave(vocab):
    grid = _grid(vocab, [[72, 72], [65, -2], [60, 60], [48, 48]])  # C major: alto F -> ?
    cost = _cost(vocab, grid, 1, 1, _context(2), melodic=1)
    assert cost[68] == 1  # F -> G sharp: an augmented second
    assert cost[67] == 0 and cost[64] == 0 and cost[53] == 0  # a second, a second down, an octave down
    assert cost[71] == 1 and cost[78] == 1  # F -> B: augmented fourth; F -> F#5... over an octave


def test_crossings_and_wide_spacing(vocab):
    grid = _grid(vocab, [[72], [-2], [60], [48]])
    cost = _cost(vocab, grid, 1, 0, _context(1), spacing=1)
    assert cost[67] == 0 and cost[58] == 2  # below the tenor, and more than an octave under the soprano
    assert cost[74] == 2  # above the soprano, and more than an octave above the tenor
    grid = _grid(vocab, [[79], [-2], [57], [48]])
    cost = _cost(vocab, grid, 1, 0, _context(1), spacing=1)
    assert cost[65] == 1 and cost[67] == 0  # A3 to F4 under G5: more than an octave from the soprano


def test_weights_of_zero_charge_nothing(vocab):
    grid = _grid(vocab, [[72, 74], [65, -2], [60, 62], [48, 50]])
    assert not costs(
        grid, np.array([1]), np.array([1]), _context(2, cadence=[1], final=[1]), vocab, Weights()
    ).any()


def test_inner_voice_rhythms_off_the_eighths_and_sixteenth_rests(vocab):
    offgrid = np.array([False, True, False, True])
    context = _context(4)
    context.offgrid = offgrid
    grid = _grid(vocab, [[72, 0, 0, 0], [64, -2, 0, 67], [60, 0, 0, 0], [48, 0, 0, 0]])
    cost = _cost(vocab, grid, 1, 1, context, rhythm=1)
    assert cost[65] == 1  # struck on the second sixteenth and held through the third
    grid = _grid(vocab, [[72, 0, 0, 0], [64, 65, -2, 67], [60, 0, 0, 0], [48, 0, 0, 0]])
    cost = _cost(vocab, grid, 1, 2, context, rhythm=1)
    assert cost["hold"] == 1 and cost[65] == 0  # holding the off-beat sixteenth; striking again
    rest = costs(grid, np.array([1]), np.array([2]), context, vocab, Weights(rhythm=1))[0]
    assert rest[2] == 1  # a sixteenth's rest between F and G
    assert _cost(vocab, grid, 0, 2, context, rhythm=1)[74] == 0  # the soprano is the user's
