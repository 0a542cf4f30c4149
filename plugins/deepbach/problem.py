"""An edit request as a grid problem: which cells to sample and which tokens each may take.

Writable cells are the region cells of the four voices, less those still sounding a
context note that began before the region. Constraints become per-cell token masks, so
the sampler can only ever write what they allow: voice ranges (or a pitch_range
constraint, which replaces the voice's range), pitch_classes, keep_rhythm (the region's
own onsets and lengths, pitches only) and pinned notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scorehost.core.errors import RequestError
from scorehost.core.regions import merge_result, spans_by_track
from scorehost.core.requests import EditRequest, KeepRhythm, PinnedNotes, PitchClasses, PitchRange
from scorehost.core.score import Note, Score

from .critic import final_chord
from .encoding import (
    FIRST_PITCH,
    HOLD,
    MASK,
    REST,
    STEP,
    VOICES,
    Vocab,
    check_voice,
    compound_offbeats,
    decode_voice,
    encode_grid,
    encode_meta,
    is_compound,
    voice_tracks,
)  # fmt: skip


@dataclass
class Problem:
    score: Score
    tracks: list[int]  # track index of each voice, S A T B
    grid: np.ndarray  # (4, T) tokens; writable cells hold MASK
    meta: np.ndarray  # (META, T)
    writable: np.ndarray  # (4, T) bool
    allowed: np.ndarray  # (4, T, V) bool; meaningful on writable cells
    vocab: Vocab
    keep_rhythm: dict[int, list[Note]] = field(default_factory=dict)  # voice -> its region notes
    pinned: set[tuple[int, int]] = field(default_factory=set)  # (voice, step) of pinned notes' cells


def build_problem(
    request: EditRequest, vocab: Vocab, shift: int = 0, final_tonic_bass: bool = True
) -> Problem:
    """The request as a grid problem. shift: semitones the request was transposed by for
    sampling (transpose.melody_shift); the written voices then keep inside their ranges at the
    user's pitch as well as at the sampling pitch. final_tonic_bass: the bass of the final chord
    sounds the key's tonic (_tonic_bass_at_the_end)."""
    score = request.score
    tracks = voice_tracks(score)
    spans = spans_by_track(request.regions)
    for track in spans:
        if track not in tracks:
            what = "a drum track" if score.tracks[track].is_drum else "not one of the four voices"
            raise RequestError(
                f"track {track} ({score.tracks[track].name or '?'}) is {what}; deepbach writes S, A, T, B"
            )
    for index, name in zip(tracks, VOICES, strict=True):
        check_voice(score.tracks[index], name)
    grid = encode_grid(score, vocab, tracks)
    writable = _writable(grid, tracks, spans)
    for track, track_spans in spans.items():
        voice = tracks.index(track)
        for start, end in track_spans:
            if not writable[voice, start // STEP : -(-end // STEP)].any():
                raise RequestError(
                    f"the region {start}..{end} of the {VOICES[voice]} covers no sixteenth-note step to write"
                )
    _clear_cut_holds(grid, writable)
    grid[writable] = MASK
    problem = Problem(
        score,
        tracks,
        grid,
        encode_meta(score, tracks),
        writable,
        _base_allowed(vocab, writable, shift),
        vocab,
    )
    _apply_constraints(problem, request, vocab)
    _rest_after_the_melody(problem)
    _chords_on_compound_beats(problem)
    if final_tonic_bass:
        _tonic_bass_at_the_end(problem)
    if shift:
        _check_register(problem, request, shift)
    _check_satisfiable(problem)
    return problem


def register_ranges(vocab: Vocab, shift: int) -> list[tuple[int, int]]:
    """Each voice's range at the sampling pitch that is inside its range at the user's pitch too
    (the request was moved by shift semitones to sample it, and the result moves back)."""
    return [(max(low, low + shift), min(high, high + shift)) for low, high in vocab.ranges]


def _check_register(problem: Problem, request: EditRequest, shift: int) -> None:
    """Refuse when a written voice would keep less than an octave of its range at the user's
    pitch: the melody then lies too far from the soprano range for a four-voice chorale under it."""
    ranged = {c.track for c in request.constraints if isinstance(c, PitchRange)}
    for voice, (low, high) in enumerate(register_ranges(problem.vocab, shift)):
        if problem.writable[voice].any() and problem.tracks[voice] not in ranged and high - low < 12:
            where = "below" if shift > 0 else "above"
            raise RequestError(
                f"the melody lies {abs(shift)} semitones {where} the soprano range deepbach writes, too far "
                f"for the {VOICES[voice]} to stay in its range under it; transpose the melody by an octave, "
                f"or give the {VOICES[voice]} a pitch_range constraint"
            )


def _rest_after_the_melody(problem: Problem) -> None:
    """Written voices rest once a soprano that is context has sounded its last note: deepbach
    harmonizes a melody, and a score that runs on past its melody gets no bass under nothing
    (the network mostly rested there by itself, not always; transpose.silent_melody warns)."""
    if problem.writable[0].any():
        return  # the soprano is written too: the music does not end with it
    notes = problem.score.tracks[problem.tracks[0]].notes
    if not notes:
        return
    end = -(-max(n.end for n in notes) // STEP)
    after = np.zeros(problem.allowed.shape[:2], dtype=bool)
    after[1:, end:] = True
    _only(problem, after, (REST,))


def _chords_on_compound_beats(problem: Problem) -> None:
    """In compound meters (6/8, 9/8, 12/8) the alto, tenor and bass strike notes only on the
    dotted beats: the network learnt chorales in simple meters, where a 6/8 bar looks like a
    3/4 one, and would change chords in the middle of a dotted beat (compound_warning says so).
    A written voice's first cell after context may strike anywhere; keep_rhythm keeps its own."""
    offbeats = compound_offbeats(problem.score, problem.grid.shape[1])
    if not offbeats.any():
        return
    cells = np.zeros(problem.writable.shape, dtype=bool)
    cells[1:] = offbeats & problem.writable[1:] & problem.allowed[1:, :, HOLD]
    for voice in problem.keep_rhythm:
        cells[voice] = False
    _only(problem, cells, (HOLD, REST))


def _tonic_bass_at_the_end(problem: Problem) -> None:
    """A hard rule: through the final chord (critic.final_chord: from the beat of the melody's last
    note to its end) the bass sounds the tonic the melody ends in, as the eval measures it
    (critic.ending_tonic: the key's tonic there, or the melody's last note when that lies outside
    the tonic triad, a modal ending). The bass strikes a tonic at the chord's first step (its
    kept onsets do, under keep_rhythm) and only holds it or strikes another tonic after it.
    Applied only where the soprano is given to the end (a melody's ending is harmonized), every
    bass cell of the final chord is written and none is pinned (a bass that is context, pinned
    or only partly rewritten there is left as it is), and only where the other constraints
    leave a tonic to write; else the cadence term alone asks for it."""
    ending = final_chord(problem)
    if ending is None:
        return
    start, end, tonic = ending
    bass = 3
    melody_ends = not problem.writable[0, start:].any()  # the melody is given to the end
    pinned = any(v == bass and start <= s < end for v, s in problem.pinned)
    if not melody_ends or pinned or not problem.writable[bass, start:end].all():
        return
    pitches = np.arange(problem.vocab.size) - FIRST_PITCH + problem.vocab.low
    tonics = (np.arange(problem.vocab.size) >= FIRST_PITCH) & (pitches % 12 == tonic)
    allowed = problem.allowed[bass]
    if bass in problem.keep_rhythm:  # the kept notes sounding in the final chord take a tonic
        kept = problem.keep_rhythm[bass]
        onsets = [n.start // STEP for n in kept if n.end > start * STEP and n.start < end * STEP]
        free = not any((bass, s) in problem.pinned for s in onsets)
        if free and all((allowed[s] & tonics).any() for s in onsets):
            for s in onsets:
                allowed[s] &= tonics
        return
    rows = allowed[start:end] & (tonics | (np.arange(problem.vocab.size) == HOLD))
    rows[0] &= tonics  # strike it on the chord's first step
    if rows.any(axis=-1).all():
        allowed[start:end] = rows


def compound_warning(request: EditRequest) -> str | None:
    """A warning when a written alto, tenor or bass lies in a compound meter."""
    score = request.score
    tracks = voice_tracks(score)
    meters = sorted(
        {
            f"{b.time_signature.numerator}/{b.time_signature.denominator}"
            for r in request.regions
            if r.track in tracks[1:]
            for b in score.bars()
            if b.start < r.end
            and b.end > r.start
            and is_compound(b.time_signature.numerator, b.time_signature.denominator)
        }
    )
    if not meters:
        return None
    return (
        f"deepbach learnt chorales in simple meters; in {', '.join(meters)} its alto, tenor and bass "
        "change notes only on the dotted beats"
    )


def _only(problem: Problem, cells: np.ndarray, tokens: tuple[int, ...]) -> None:
    """Allow exactly tokens on cells (a (4, T) mask), except on pinned cells."""
    for voice, step in problem.pinned:
        cells[voice, step] = False
    voices, steps = np.nonzero(cells)
    problem.allowed[voices, steps] = False
    for token in tokens:
        problem.allowed[voices, steps, token] = True


def _writable(grid: np.ndarray, tracks: list[int], spans: dict) -> np.ndarray:
    writable = np.zeros(grid.shape, dtype=bool)
    for voice, track in enumerate(tracks):
        for start, end in spans.get(track, []):
            writable[voice, -(-start // STEP) : -(-end // STEP)] = True
        for step in range(grid.shape[1]):  # a context note sounding into the region stays
            held = grid[voice, step] == HOLD and step > 0
            if writable[voice, step] and held and not writable[voice, step - 1]:
                writable[voice, step] = False
    return writable


def _clear_cut_holds(grid: np.ndarray, writable: np.ndarray) -> None:
    """Context cells that held a rewritten note fall silent (the engine cuts it at the region end)."""
    for voice in range(4):
        for step in range(1, grid.shape[1]):
            if not writable[voice, step] and grid[voice, step] == HOLD:
                before = writable[voice, step - 1] or grid[voice, step - 1] == REST
                if before:
                    grid[voice, step] = REST


def _base_allowed(vocab: Vocab, writable: np.ndarray, shift: int) -> np.ndarray:
    allowed = np.zeros((*writable.shape, vocab.size), dtype=bool)
    allowed[:, :, REST] = True
    allowed[:, :, HOLD] = True
    for voice, (low, high) in enumerate(register_ranges(vocab, shift)):
        allowed[voice, :, vocab.token(low) : vocab.token(high) + 1] = True
    starts = writable & ~np.concatenate([np.zeros((4, 1), dtype=bool), writable[:, :-1]], axis=1)
    allowed[starts, HOLD] = False  # a written note cannot continue a context note
    return allowed


def _voice(problem: Problem, track: int, field_name: str) -> int:
    if track not in problem.tracks:
        raise RequestError(f"track {track} is not one of the four voices", field_name)
    return problem.tracks.index(track)


def _written_voices(problem: Problem, tracks: list[int] | None, field_name: str) -> list[int]:
    if tracks is None:
        return [v for v in range(4) if problem.writable[v].any()]
    return [_voice(problem, t, field_name) for t in tracks]


def _apply_constraints(problem: Problem, request: EditRequest, vocab: Vocab) -> None:
    pitches = np.arange(vocab.size) - FIRST_PITCH + vocab.low  # pitch of each token (junk below FIRST_PITCH)
    is_pitch = np.arange(vocab.size) >= FIRST_PITCH
    for i, constraint in enumerate(request.constraints):
        name = f"constraints[{i}]"
        if isinstance(constraint, PitchRange):  # replaces the voice's range
            voice = _voice(problem, constraint.track, name)
            inside = is_pitch & (pitches >= constraint.low) & (pitches <= constraint.high)
            if not inside.any():
                raise RequestError(
                    f"the range {constraint.low}..{constraint.high} has no pitch deepbach knows ({vocab.low}..{vocab.high})",
                    name,
                )
            problem.allowed[voice][:, is_pitch] = inside[is_pitch]
    for i, constraint in enumerate(request.constraints):
        name = f"constraints[{i}]"
        if isinstance(constraint, PitchClasses):
            bad = is_pitch & ~np.isin(pitches % 12, constraint.pitch_classes)
            for voice in _written_voices(problem, constraint.tracks, name):
                problem.allowed[voice][:, bad] = False
    for i, constraint in enumerate(request.constraints):
        if isinstance(constraint, KeepRhythm):
            for voice in _written_voices(problem, constraint.tracks, f"constraints[{i}]"):
                _keep_rhythm(problem, voice, f"constraints[{i}]")
    for i, constraint in enumerate(request.constraints):
        if isinstance(constraint, PinnedNotes):
            for j, pin in enumerate(constraint.notes):
                _pin(problem, vocab, pin, f"constraints[{i}].notes[{j}]")


def _keep_rhythm(problem: Problem, voice: int, name: str) -> None:
    track = problem.score.tracks[problem.tracks[voice]]
    notes = [n for n in track.sorted_notes() if problem.writable[voice, n.start // STEP]]
    if any(n.start % STEP or n.duration % STEP for n in notes):
        raise RequestError("keep_rhythm needs the region's notes on the sixteenth-note grid", name)
    problem.keep_rhythm[voice] = notes
    row = problem.allowed[voice]
    fixed = np.full(row.shape[0], REST)
    for note in notes:
        fixed[note.start // STEP : note.end // STEP] = HOLD
    for step in np.flatnonzero(problem.writable[voice]):
        keep = row[step].copy()
        row[step] = False
        if any(n.start // STEP == step for n in notes):
            row[step, FIRST_PITCH:] = keep[FIRST_PITCH:]
        else:
            row[step, fixed[step]] = True


def _pin(problem: Problem, vocab: Vocab, pin, name: str) -> None:
    voice = _voice(problem, pin.track, name)
    if pin.start % STEP or (pin.duration or 0) % STEP:
        raise RequestError(
            "a pinned note must start and last on the sixteenth-note grid (multiples of 120 ticks)", name
        )
    if not vocab.low <= pin.pitch <= vocab.high:
        raise RequestError(
            f"pitch {pin.pitch} is outside what deepbach can write ({vocab.low}..{vocab.high})", name
        )
    step = pin.start // STEP
    if voice in problem.keep_rhythm and not any(n.start == pin.start for n in problem.keep_rhythm[voice]):
        raise RequestError("the pinned note does not start on an onset that keep_rhythm keeps", name)
    problem.allowed[voice, step] = False
    problem.allowed[voice, step, vocab.token(pin.pitch)] = True
    problem.pinned.add((voice, step))
    if pin.duration:
        last = step + pin.duration // STEP
        if not problem.writable[voice, step:last].all():
            raise RequestError("the pinned note runs past the end of its region", name)
        for hold in range(step + 1, last):
            problem.allowed[voice, hold] = False
            problem.allowed[voice, hold, HOLD] = True
            problem.pinned.add((voice, hold))
        if last < problem.grid.shape[1] and problem.writable[voice, last]:
            problem.allowed[voice, last, HOLD] = False


def _check_satisfiable(problem: Problem) -> None:
    empty = problem.writable & ~problem.allowed.any(axis=-1)
    if empty.any():
        voice, step = (int(x) for x in np.argwhere(empty)[0])
        raise RequestError(
            f"the constraints leave no note or rest for the {VOICES[voice]} at tick {step * STEP}"
        )


# ---- grid -> score ---------------------------------------------------------------------------


def to_score(problem: Problem, grid: np.ndarray, vocab: Vocab, request: EditRequest) -> Score:
    """The request's score with the written cells of grid turned into notes."""
    tracks = [t.model_copy() for t in problem.score.tracks]
    for voice, track in enumerate(problem.tracks):
        if not problem.writable[voice].any():
            continue
        notes = [n for n in tracks[track].notes if not problem.writable[voice, n.start // STEP]]
        if voice in problem.keep_rhythm:
            written = [
                n.model_copy(update={"pitch": vocab.pitch(grid[voice, n.start // STEP])})
                for n in problem.keep_rhythm[voice]
            ]
        else:
            written = [
                n for n in decode_voice(grid[voice], vocab) if problem.writable[voice, n.start // STEP]
            ]
        tracks[track] = tracks[track].model_copy(update={"notes": notes + written})
    generated = problem.score.model_copy(update={"tracks": tracks})
    return merge_result(problem.score, generated, request.regions)
