"""A music-theory critic for the Gibbs sampler: soft energy terms on each candidate token.

The network writes the chorale style as well as its size allows; a small one writes far more
parallels, stray dissonances and weak endings than Bach. Like the parallel penalty, each term
here charges a hidden cell's candidate tokens for the faults writing them would make with the
other voices as they stand (the state at the start of the sweep), so the chain samples the
network's distribution reweighted by exp(-sum of weight x faults). Every term is a count of
faults per candidate, computed for all hidden cells at once with numpy (no loop over notes):

- `parallel`: parallel fifths and octaves (voiceleading.parallel_counts).
- `harmony`: on a beat (the denominator's note, the dotted one in compound meters), the notes
  sounding there with the candidate are neither a triad nor a seventh chord, nor an incomplete
  chord of one or two pitch classes a triad holds (measures.py judges beats the same way).
- `cadence`: under a fermata and through the final chord, the chord is not a root-position
  major or minor chord (one fault for the quality, one for the bass); through the final chord
  (from the beat its melody note is in), its root is not the tonic the melody ends in
  (ending_tonic: the key's, or the melody's last note after a modal ending), nor its bass; on
  the beat before a cadence chord, the chord is not a
  root-position chord (sevenths too) a fifth above or below the cadence chord's root (V-I, IV-I).
- `leading_tone`: a voice on the key's leading tone just before a cadence chord does not step
  up to the tonic.
- `cross_relation`: the candidate and another voice sound one letter with two accidentals
  (B and B flat, spelled for the key: core.spelling.key_spelling), in one chord or the chords
  on either side.
- `melodic`: an augmented melodic interval (second, third, fourth, fifth, sixth) or a leap
  of more than an octave, into the candidate or out of it to the voice's next note.
- `spacing`: the candidate crosses the voice above or below, or leaves more than an octave
  between soprano and alto or alto and tenor.
- `rhythm` (alto, tenor, bass): a note struck off the eighth-note grid and held past its
  sixteenth, or a rest of one sixteenth between two notes: rhythms a chorale voice does not
  sing (measures.py counts them, with odd lengths and 32nds, as inner-voice rhythm faults).

Voice ranges are not a term: they are hard (problem.py allows no token outside them).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

import numpy as np

from scorehost.core.score import KeySignature
from scorehost.core.spelling import LETTERS, key_spelling

from .encoding import FERMATA, FIRST_PITCH, HOLD, MODE, MODES, POS, REST, STEP, TONIC, beat_starts
from .voiceleading import next_change, parallel_counts, sounding, token_pitches

AUGMENTED = np.array([-1, 3, 5, 6, 8, 10, -1])  # semitones of the augmented interval, by letter steps
CONSONANT = ((4, 7), (3, 7))  # major and minor triads, above the root
# every triad and seventh chord music21 calls one: the consonant triads, the diminished and
# augmented ones, the dominant, major, minor, half-diminished, diminished, minor-major and
# augmented-major sevenths
CHORDS = (
    *CONSONANT,
    (3, 6),
    (4, 8),
    (4, 7, 10),
    (4, 7, 11),
    (3, 7, 10),
    (3, 6, 10),
    (3, 6, 9),
    (3, 7, 11),
    (4, 8, 11),
)
DYADS = (0, 3, 4, 5, 7, 8, 9)


@dataclass(frozen=True)
class Weights:
    """Nats subtracted from a candidate's logit per fault of each kind (0: the term is off)."""

    parallel: float = 0.0
    harmony: float = 0.0
    cadence: float = 0.0
    leading_tone: float = 0.0
    cross_relation: float = 0.0
    melodic: float = 0.0
    spacing: float = 0.0
    rhythm: float = 0.0

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))


def _mask(classes) -> int:
    return sum(1 << (c % 12) for c in set(classes))


@cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over the 4096 pitch-class sets: whether a set is a chord (CHORDAL), the root of a
    major/minor triad or consonant incomplete one (ROOT, else -1), the root of any triad or
    seventh chord or consonant incomplete one (ROOT7, else -1). A set that two roots spell (the
    diminished seventh) takes the first."""
    chordal = np.zeros(4096, dtype=bool)
    root = np.full(4096, -1, dtype=np.int64)
    root7 = np.full(4096, -1, dtype=np.int64)
    chordal[0] = True
    for r in range(12):
        for interval in DYADS:  # unisons, thirds, fourths, fifths, sixths: incomplete triads
            m = _mask((r, r + interval))
            chordal[m] = True
            root[m] = root7[m] = r if interval in (0, 3, 4, 7) else (r + interval) % 12
    for shape in CHORDS:  # consonant triads first: a set's root is the first shape's
        for r in range(12):
            m = _mask(r + i for i in (0, *shape))
            chordal[m] = True
            if root7[m] < 0:
                root7[m] = r
            if shape in CONSONANT and root[m] < 0:
                root[m] = r
    return chordal, root, root7


@cache
def _letters(tonic: int, mode: str) -> np.ndarray:
    """The letter (0-6, C-B) the key spells each pitch class with."""
    key = KeySignature(tick=0, tonic=tonic, mode=mode)
    return np.array([LETTERS.index(key_spelling(60 + pc, key)[0]) for pc in range(12)])


def beat_mask(score, steps: int) -> np.ndarray:
    """(steps,) bool: a beat starts at this step (encoding.beat_starts)."""
    beats = np.zeros(steps, dtype=bool)
    beats[[t // STEP for t in beat_starts(score) if t // STEP < steps]] = True
    return beats


def final_span(grid: np.ndarray, writable: np.ndarray, beats: np.ndarray) -> tuple[int, int] | None:
    """Steps [start, end) of the final chord: from the beat the last note struck in the context
    (the melody's last note, when a melody is harmonized) is in, to the end of what sounds then;
    None when the context strikes no note."""
    context = ~writable & (grid >= FIRST_PITCH)
    if not context.any():
        return None
    last = int(np.flatnonzero(context.any(axis=0))[-1])
    end = int(next_change(grid)[:, last][context[:, last]].max())
    beats_before = np.flatnonzero(beats[: last + 1])
    return (int(beats_before[-1]) if len(beats_before) else last), end


TONIC_TRIAD = (0, 3, 4, 7)  # above the tonic: either third (a Picardy third too) and the fifth


def ending_tonic(tonic: int, last: int | None) -> int:
    """The tonic a melody ends in, from the key's tonic there and the melody's last pitch: the
    key's, unless that note lies outside the key's tonic triad (either third, the fifth). Then the
    melody makes a modal ending, or one in a neighbouring key, and its last note is the final: a
    Dorian chorale read in A minor ends on D, one read in B flat major on G (Bach's bass ends on
    the melody's last note in each of the 40 test chorales but one, where it is the fifth)."""
    if last is None or last < 0 or (last - tonic) % 12 in TONIC_TRIAD:
        return tonic % 12
    return last % 12


def final_chord(problem) -> tuple[int, int, int] | None:
    """(start, end, tonic) of a problem's final chord (final_span) and the tonic it ends in
    (ending_tonic of the key map's tonic and the soprano at its last step); None without one."""
    span = final_span(problem.grid, problem.writable, beat_mask(problem.score, problem.grid.shape[1]))
    if span is None:
        return None
    start, end = span
    melody = int(sounding(problem.grid[:, :end], problem.vocab)[0, end - 1])
    return start, end, ending_tonic(int(problem.meta[TONIC, end - 1]), melody)


@dataclass
class Context:
    """What the critic reads of a problem besides the state: per step of the grid."""

    beats: np.ndarray  # (T,) bool: a beat starts here
    cadence: np.ndarray  # (T,) bool: under a fermata or in the final chord
    final: np.ndarray  # (T,) bool: in the final chord
    onset: np.ndarray  # (T,) bool: a cadence chord starts here
    before: np.ndarray  # (T,) int: the cadence onset this beat comes just before, else -1
    tonic: np.ndarray  # (T,) int
    letters: np.ndarray  # (T, 12) int
    offgrid: np.ndarray | None = None  # (T,) bool: an odd sixteenth of the bar (off the eighths)

    @classmethod
    def of(cls, problem) -> Context:
        steps = problem.grid.shape[1]
        beats = beat_mask(problem.score, steps)
        fermata = problem.meta[FERMATA] == 1
        final = np.zeros(steps, dtype=bool)
        tonic = problem.meta[TONIC].astype(np.int64) % 12
        ending = final_chord(problem)
        if ending is not None:
            final[ending[0] : ending[1]] = True
            tonic = np.where(final, ending[2], tonic)  # the tonic the melody ends in
        cadence = fermata | final
        onset = cadence & ~np.concatenate([[False], cadence[:-1]])
        before = np.full(steps, -1)
        beat_steps = np.flatnonzero(beats)
        for c in np.flatnonzero(onset):
            earlier = beat_steps[beat_steps < c]
            if len(earlier) and not cadence[earlier[-1]]:
                before[earlier[-1]] = c
        modes = problem.meta[MODE]
        letters = np.stack(
            [_letters(int(t), MODES[min(int(m), len(MODES) - 1)]) for t, m in zip(tonic, modes, strict=True)]
        ) if steps else np.zeros((0, 12), dtype=np.int64)  # fmt: skip
        offgrid = problem.meta[POS] % 2 == 1
        return cls(beats, cadence, final, onset, before, tonic, letters, offgrid)


def costs(
    grid: np.ndarray, voices: np.ndarray, steps: np.ndarray, context: Context, vocab, weights: Weights
) -> np.ndarray:
    """(n, V): the weighted faults of writing each token at each cell (voices[i], steps[i]) of a
    (4, T) grid, the other cells as they stand."""
    n, size = len(steps), vocab.size
    total = np.zeros((n, size))
    if not n or not weights:
        return total
    if weights.parallel:
        total += weights.parallel * parallel_counts(grid, voices, steps, vocab)
    chordal, root, root7 = _tables()
    pitch_of = token_pitches(vocab)
    pitch = sounding(grid, vocab)
    length = grid.shape[1]
    before = np.maximum(steps - 1, 0)
    prev_self = np.where(steps > 0, pitch[voices, before], -1)
    cand = np.broadcast_to(pitch_of, (n, size)).copy()
    cand[:, HOLD] = prev_self
    struck = np.where(grid >= FIRST_PITCH, pitch_of[grid], -1)
    nxt = next_change(grid)[voices, steps]
    at = np.minimum(nxt, length - 1)
    next_self = np.where(nxt < length, struck[voices, at], -1)
    others = np.array([[w for w in range(4) if w != v] for v in range(4)])[voices]  # (n, 3)
    now = pitch[others, steps[:, None]]  # (n, 3)
    chord = _set_with(now, cand)  # (n, V) pitch-class set of the chord with the candidate
    if weights.harmony:
        total += weights.harmony * (context.beats[steps][:, None] & ~chordal[chord])
    if weights.cadence:
        total += weights.cadence * _cadence(pitch, voices, steps, cand, chord, context, root, root7)
    if weights.leading_tone:
        total += weights.leading_tone * _leading_tone(prev_self, cand, next_self, nxt, steps, context, length)
    letters = context.letters[steps]  # (n, 12)
    if weights.cross_relation:
        near = [now, pitch[others, before[:, None]], pitch[others, at[:, None]]]
        near[1] = np.where((steps > 0)[:, None], near[1], -1)
        near[2] = np.where((nxt < length)[:, None], near[2], -1)
        total += weights.cross_relation * sum(_clashes(q, cand, letters) for q in near)
    if weights.melodic:
        is_struck = (np.arange(size) >= FIRST_PITCH)[None, :]
        into = is_struck & _bad_interval(prev_self[:, None], cand, letters)
        out = _bad_interval(cand, next_self[:, None], letters)
        total += weights.melodic * (into.astype(float) + out)
    if weights.spacing:
        total += weights.spacing * _spacing(pitch, voices, steps, cand)
    if weights.rhythm and context.offgrid is not None:
        total += weights.rhythm * _rhythm(grid, pitch, voices, steps, context.offgrid, size)
    return total


def _set_with(now: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """Pitch-class set masks of the notes now (n, 3) with each candidate (n, V) (-1: silent)."""
    others = np.bitwise_or.reduce(np.where(now >= 0, 1 << (np.maximum(now, 0) % 12), 0), axis=1)
    return others[:, None] | np.where(cand >= 0, 1 << (np.maximum(cand, 0) % 12), 0)


def _cadence(pitch, voices, steps, cand, chord, context: Context, root, root7) -> np.ndarray:
    bass = np.where((voices == 3)[:, None], cand, pitch[3, steps][:, None])  # (n, V)
    bass_pc = np.where(bass >= 0, bass % 12, -2)
    inside = context.cadence[steps][:, None]
    faults = inside * ((root[chord] < 0).astype(float) + (root[chord] != bass_pc))
    tonic = context.tonic[steps][:, None]
    faults += context.final[steps][:, None] * ((root[chord] != tonic).astype(float) + (bass_pc != tonic))
    # the beat before a cadence chord: a root-position chord on its fifth or fourth degree
    target = context.before[steps]
    pre = target >= 0
    if pre.any():
        goal = np.where(pre, target, 0)
        cadence_chord = np.bitwise_or.reduce(
            np.where(pitch[:, goal] >= 0, 1 << (np.maximum(pitch[:, goal], 0) % 12), 0), axis=0
        )
        goal_root = np.where(context.final[goal], context.tonic[goal], root[cadence_chord])
        degree = (root7[chord] - goal_root[:, None]) % 12
        wrong = (root7[chord] < 0) | ((goal_root[:, None] >= 0) & (degree != 5) & (degree != 7))
        faults += pre[:, None] * (wrong.astype(float) + (root7[chord] != bass_pc))
    return faults


def _leading_tone(prev_self, cand, next_self, nxt, steps, context: Context, length) -> np.ndarray:
    """A leading tone just before a cadence chord that does not rise to the tonic: into the
    cadence (the candidate after it) and out of the candidate (the next note after it)."""
    leading = (context.tonic[steps] + 11) % 12
    into = context.onset[steps] & (prev_self >= 0) & (prev_self % 12 == leading)
    faults = into[:, None] & (cand != prev_self[:, None] + 1)
    at = np.minimum(nxt, length - 1)
    out_leading = (context.tonic[at] + 11) % 12
    out = (nxt < length) & context.onset[at] & (next_self >= 0)
    faults |= (
        out[:, None] & (cand >= 0) & (cand % 12 == out_leading[:, None]) & (next_self[:, None] != cand + 1)
    )
    return faults


def _clashes(other: np.ndarray, cand: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """(n, V): voices of other (n, 3) sounding the candidate's letter with another accidental."""
    rows = np.arange(len(cand))[:, None]
    cand_pc = np.maximum(cand, 0) % 12
    other_pc = np.maximum(other, 0) % 12
    same_letter = letters[rows, other_pc][:, :, None] == letters[rows, cand_pc][:, None, :]  # (n, 3, V)
    clash = same_letter & (other_pc[:, :, None] != cand_pc[:, None, :])
    return (clash & (other >= 0)[:, :, None] & (cand >= 0)[:, None, :]).sum(axis=1)


def _bad_interval(first: np.ndarray, second: np.ndarray, letters: np.ndarray) -> np.ndarray:
    """Whether first -> second (broadcast to (n, V)) is augmented or a leap over an octave."""
    first, second = np.broadcast_arrays(first, second)
    rows = np.arange(len(letters))[:, None]
    known = (first >= 0) & (second >= 0)
    up = second >= first
    low, high = np.where(up, first, second), np.where(up, second, first)
    steps = (letters[rows, np.maximum(high, 0) % 12] - letters[rows, np.maximum(low, 0) % 12]) % 7
    span = high - low
    augmented = (span % 12 == AUGMENTED[steps]) & (span > 0)
    return known & (augmented | (span > 12))


def _spacing(pitch, voices, steps, cand) -> np.ndarray:
    above = np.where(voices > 0, pitch[np.maximum(voices - 1, 0), steps], -1)[:, None]
    below = np.where(voices < 3, pitch[np.minimum(voices + 1, 3), steps], -1)[:, None]
    sounding_ = cand >= 0
    faults = sounding_ & (above >= 0) & (cand > above)
    faults = faults.astype(float) + (sounding_ & (below >= 0) & (cand < below))
    wide_above = (voices[:, None] >= 1) & (voices[:, None] <= 2) & (above >= 0) & (above - cand > 12)
    wide_below = (voices[:, None] <= 1) & (below >= 0) & (cand - below > 12)
    return faults + (sounding_ & wide_above) + (sounding_ & wide_below)


def _rhythm(grid, pitch, voices, steps, offgrid, size) -> np.ndarray:
    """(n, V) inner-voice rhythm faults: a note struck off the eighths and held on (the
    candidate strikes it, or holds one struck just before), a one-sixteenth rest between notes."""
    length = grid.shape[1]
    prev_i, next_i = np.maximum(steps - 1, 0), np.minimum(steps + 1, length - 1)
    after = np.where(steps + 1 < length, grid[voices, next_i], REST)
    before = np.where(steps >= 1, grid[voices, prev_i], REST)
    two_back = np.where(steps >= 2, pitch[voices, np.maximum(steps - 2, 0)], -1)
    sounding_before = np.where(steps >= 1, pitch[voices, prev_i], -1)
    is_pitch = (np.arange(size) >= FIRST_PITCH)[None, :]
    faults = np.zeros((len(steps), size))
    faults += (offgrid[steps] & (after == HOLD))[:, None] & is_pitch  # struck off the eighths, held
    faults[:, HOLD] += (steps >= 1) & offgrid[prev_i] & (before >= FIRST_PITCH)  # holding one
    faults[:, REST] += (sounding_before >= 0) & (after >= FIRST_PITCH)  # a sixteenth's rest
    faults += ((before == REST) & (two_back >= 0))[:, None] & is_pitch  # striking after one
    return faults * (voices >= 1)[:, None]
