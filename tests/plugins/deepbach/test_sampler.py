from __future__ import annotations

import numpy as np
import pytest

from scorehost.core.errors import RequestError
from scorehost.core.regions import constraint_violations, is_written, spans_by_track
from scorehost.core.requests import (
    EditRequest,
    KeepRhythm,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Region,
)  # fmt: skip
from scorehost.core.score import Track
from scorehost.plugins.deepbach.encoding import HOLD, MASK, REST
from scorehost.plugins.deepbach.model import DeepBach
from scorehost.plugins.deepbach.problem import build_problem
from scorehost.plugins.deepbach.sampler import Schedule, gibbs


def _bars(score):
    return score.bars()


def _partial_request(score, constraints=()) -> EditRequest:
    """The alto of bar 3, one bass note of bar 6 and the tenor of bars 5-6."""
    bars = _bars(score)
    bass_note = next(n for n in score.tracks[3].sorted_notes() if n.start >= bars[6].start)
    regions = [
        Region(track=1, start=bars[3].start, end=bars[3].end),
        Region(track=3, start=bass_note.start, end=bass_note.end),
        Region(track=2, start=bars[5].start, end=bars[7].end),
    ]
    return EditRequest(model="deepbach", score=score, regions=regions, constraints=list(constraints))


def _outside(score, regions):
    spans = spans_by_track(regions)
    return [
        sorted(n.key() for n in t.notes if not is_written(spans, i, n.start))
        for i, t in enumerate(score.tracks)
    ]


def test_cells_outside_regions_never_change_and_constraints_hold(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv66.6")
    bars = _bars(score)
    constraints = [
        PinnedNotes(notes=[PinnedNote(track=1, start=bars[3].start, pitch=61, duration=480)]),
        PitchRange(track=1, low=57, high=66),
        PitchClasses.from_key(6, "minor"),
    ]
    request = _partial_request(score, constraints)
    model = DeepBach(net=tiny_net(), vocab=vocab)
    problem = build_problem(request, vocab)
    for seed in range(0, 40, 4):
        options = model.Options(seed=seed, variations=4, iterations=8)
        grids, _ = gibbs(model.net, problem, options.seeds(), options.schedule())
        for grid in grids:
            assert (grid[~problem.writable] == problem.grid[~problem.writable]).all()
        for variation in model.inpaint(request, options, job):
            assert _outside(variation.score, request.regions) == _outside(score, request.regions)
            assert constraint_violations(request, variation.score) == []
            assert variation.log_prob is not None and variation.log_prob <= 0


def test_keep_rhythm_rewrites_pitches_only(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv66.6")
    request = _partial_request(score, [KeepRhythm()])
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for seed in range(5):
        for variation in model.inpaint(request, model.Options(seed=seed, iterations=6), job):
            assert constraint_violations(request, variation.score) == []


def test_written_notes_stay_in_voice_ranges(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv269")
    regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
    request = EditRequest(model="deepbach", score=score, regions=regions)
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for variation in model.inpaint(request, model.Options(seed=3, variations=3, iterations=6), job):
        assert variation.score.tracks[0].notes == score.tracks[0].notes
        for t in (1, 2, 3):
            low, high = vocab.ranges[t]
            assert all(low <= n.pitch <= high for n in variation.score.tracks[t].notes)


def test_same_seed_same_result_and_progress_reported(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv66.6")
    request = _partial_request(score)
    model = DeepBach(net=tiny_net(), vocab=vocab)
    options = model.Options(seed=7, variations=2, iterations=5)
    first = model.inpaint(request, options, job)
    second = model.inpaint(request, options, job)
    assert [v.score for v in first] == [v.score for v in second]
    assert [v.seed for v in first] == [7, 8]
    assert job.fractions[0] == 0.0 and job.fractions[-1] == 1.0


def test_melody_only_score_with_empty_voices_is_harmonized(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv66.6")
    tracks = [score.tracks[0]] + [Track(name=n) for n in ("Alto", "Tenor", "Bass")]
    melody = score.model_copy(update={"tracks": tracks, "fermatas": []})
    regions = [Region(track=t, start=0, end=melody.length) for t in (1, 2, 3)]
    request = EditRequest(model="deepbach", score=melody, regions=regions)
    model = DeepBach(net=tiny_net(), vocab=vocab)
    (variation,) = model.inpaint(request, model.Options(seed=1, iterations=4), job)
    assert variation.score.tracks[0] == melody.tracks[0]
    assert all(variation.score.tracks[t].notes for t in (1, 2, 3))


def test_holds_never_continue_a_context_note(chorale, tiny_net, vocab):
    score = chorale("bach/bwv66.6")
    problem = build_problem(_partial_request(score), vocab)
    grids, _ = gibbs(tiny_net(), problem, [0, 1, 2], Schedule(iterations=4))
    for grid in grids:
        for voice, step in np.argwhere(problem.writable):
            if grid[voice, step] == HOLD:
                assert step > 0 and problem.writable[voice, step - 1]
                assert grid[voice, step - 1] != REST


def test_region_too_short_for_a_step_is_refused(chorale, vocab):
    score = chorale("bach/bwv66.6")
    request = EditRequest(model="deepbach", score=score, regions=[Region(track=1, start=10, end=100)])
    with pytest.raises(RequestError, match="covers no sixteenth"):
        build_problem(request, vocab)


def test_region_on_a_drum_track_is_refused(chorale, vocab):
    score = chorale("bach/bwv66.6")
    score = score.model_copy(update={"tracks": [*score.tracks, Track(name="Kit", is_drum=True)]})
    request = EditRequest(model="deepbach", score=score, regions=[Region(track=4, start=0, end=960)])
    with pytest.raises(RequestError, match="drum track"):
        build_problem(request, vocab)


def test_pinned_note_off_the_grid_is_refused(chorale, vocab):
    score = chorale("bach/bwv66.6")
    pin = PinnedNotes(notes=[PinnedNote(track=1, start=1930, pitch=61)])
    request = EditRequest(
        model="deepbach", score=score, regions=[Region(track=1, start=1920, end=3840)], constraints=[pin]
    )
    with pytest.raises(RequestError, match="sixteenth-note grid"):
        build_problem(request, vocab)


def test_contradictory_constraints_are_refused(chorale, vocab):
    score = chorale("bach/bwv66.6")
    constraints = [KeepRhythm(), PitchRange(track=1, low=60, high=61), PitchClasses(pitch_classes=[2])]
    request = EditRequest(
        model="deepbach",
        score=score,
        regions=[Region(track=1, start=1920, end=3840)],
        constraints=constraints,
    )
    with pytest.raises(RequestError, match="leave no note"):
        build_problem(request, vocab)


def test_melody_outside_the_soprano_range_is_transposed_and_back(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv66.6")
    high = [
        t.model_copy(update={"notes": [n.model_copy(update={"pitch": n.pitch + 12}) for n in t.notes]})
        for t in score.tracks
    ]
    score = score.model_copy(update={"tracks": high})  # the soprano now reaches above its range
    regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
    request = EditRequest(
        model="deepbach", score=score, regions=regions, constraints=[PitchClasses.from_key(6, "minor")]
    )
    model = DeepBach(net=tiny_net(), vocab=vocab)
    (variation,) = model.inpaint(request, model.Options(seed=2, iterations=4), job)
    assert variation.score.tracks[0] == score.tracks[0]
    assert constraint_violations(request, variation.score) == []
    assert any("transposed -" in w for w in job.warnings)


def test_melody_too_wide_for_any_transposition_is_refused(chorale, tiny_net, vocab, job):
    score = chorale("bach/bwv66.6")
    notes = list(score.tracks[0].notes)
    notes[0] = notes[0].model_copy(update={"pitch": 30})
    score = score.model_copy(
        update={"tracks": [score.tracks[0].model_copy(update={"notes": notes}), *score.tracks[1:]]}
    )
    request = EditRequest(model="deepbach", score=score, regions=[Region(track=1, start=0, end=score.length)])
    with pytest.raises(RequestError, match="no transposition fits"):
        DeepBach(net=tiny_net(), vocab=vocab).inpaint(request, DeepBach.Options(seed=1), job)


def test_every_writable_cell_is_sampled(chorale, tiny_net, vocab):
    score = chorale("bach/bwv269")
    regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
    problem = build_problem(EditRequest(model="deepbach", score=score, regions=regions), vocab)
    grids, _ = gibbs(tiny_net(), problem, list(range(6)), Schedule(iterations=2))
    assert not (grids[:, problem.writable] == MASK).any()


def test_a_batch_serves_several_requests_and_drops_a_cancelled_one(chorale, tiny_net, vocab, job):
    from scorehost.core.errors import JobCancelled

    class CancelledJob(type(job)):
        def progress(self, fraction: float) -> None:
            if fraction > 0.3:
                raise JobCancelled("cancelled")

    score = chorale("bach/bwv66.6")
    model = DeepBach(net=tiny_net(), vocab=vocab)
    options = model.Options(seed=4, variations=2, iterations=6)
    request = _partial_request(score)
    alone = model.inpaint(request, options, job)
    results = model.inpaint_batch([(request, options, job), (request, options, CancelledJob())])
    assert results[1] == []
    assert [v.score for v in results[0]] == [v.score for v in alone]
    with pytest.raises(JobCancelled):
        model.inpaint(request, options, CancelledJob())


def test_check_refuses_bad_requests_before_queueing(chorale, vocab):
    score = chorale("bach/bwv66.6")
    request = EditRequest(model="deepbach", score=score, regions=[Region(track=1, start=10, end=100)])
    with pytest.raises(RequestError, match="covers no sixteenth"):
        DeepBach().check(request, DeepBach.Options())


def _melody_lowered(score, lowest: int):
    """The score's soprano alone, moved down so its lowest note is `lowest`, over empty voices."""
    soprano = score.tracks[0]
    down = min(n.pitch for n in soprano.notes) - lowest
    notes = [n.model_copy(update={"pitch": n.pitch - down}) for n in soprano.notes]
    voices = [Track(name=r.capitalize(), role=r) for r in ("alto", "tenor", "bass")]
    keys = [k.model_copy(update={"tonic": (k.tonic - down) % 12}) for k in score.keys]
    melody = soprano.model_copy(update={"notes": notes, "role": "soprano"})
    return score.model_copy(update={"tracks": [melody, *voices], "keys": keys, "fermatas": []})


def test_a_low_melody_is_harmonized_with_every_voice_in_its_range_at_its_own_pitch(
    chorale, tiny_net, vocab, job, tmp_path
):
    from music21 import clef, converter

    from scorehost.core.musicxml import write_musicxml

    score = _melody_lowered(chorale("bach/bwv66.6"), 53)  # F3: seven semitones below the soprano range
    regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
    request = EditRequest(model="deepbach", score=score, regions=regions)
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for seed in range(0, 24, 3):
        job.warnings.clear()
        for variation in model.inpaint(request, model.Options(seed=seed, variations=3, iterations=4), job):
            assert variation.score.tracks[0] == score.tracks[0]
            for t in (1, 2, 3):
                low, high = vocab.ranges[t]
                pitches = [n.pitch for n in variation.score.tracks[t].notes]
                assert pitches and low <= min(pitches) and max(pitches) <= high
        assert any("transposed +7" in w and "kept inside their ranges" in w for w in job.warnings)
    write_musicxml(variation.score, tmp_path / "out.musicxml")
    alto = converter.parse(str(tmp_path / "out.musicxml")).parts[1]
    assert not isinstance(alto.recurse().getElementsByClass(clef.Clef).first(), clef.BassClef)


def test_a_melody_too_low_for_the_voices_under_it_is_refused(chorale, tiny_net, vocab, job):
    score = _melody_lowered(chorale("bach/bwv66.6"), 48)  # C3: an octave below the soprano range
    regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
    request = EditRequest(model="deepbach", score=score, regions=regions)
    with pytest.raises(RequestError, match="12 semitones below the soprano range"):
        DeepBach(net=tiny_net(), vocab=vocab).check(request, DeepBach.Options())
    request = request.model_copy(
        update={"constraints": [PitchRange(track=t, low=36 + 6 * t, high=60 + 4 * t) for t in (1, 2, 3)]}
    )
    DeepBach(net=tiny_net(), vocab=vocab).check(request, DeepBach.Options())  # ranges given: served


def test_a_6_8_melody_changes_chords_only_on_the_dotted_beats(tiny_net, vocab, job):
    from scorehost.plugins.deepbach.encoding import beat_starts
    from scorehost.plugins.deepbach.evaluate import folk_melody

    score = folk_melody("kinder0", 10)  # "Schlaf du kleine Seele", 6/8, eighths in the melody
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (6, 8)
    beats = set(beat_starts(score))
    assert any(n.start not in beats for n in score.tracks[0].notes)  # the melody itself moves inside beats
    regions = [Region(track=t, start=0, end=score.length) for t in (1, 2, 3)]
    request = EditRequest(model="deepbach", score=score, regions=regions)
    model = DeepBach(net=tiny_net(), vocab=vocab)
    for seed in range(0, 30, 5):
        for variation in model.inpaint(request, model.Options(seed=seed, variations=2, iterations=4), job):
            assert variation.score.tracks[0] == score.tracks[0]
            for t in (1, 2, 3):
                onsets = {n.start for n in variation.score.tracks[t].notes}
                assert onsets and onsets <= beats | {0}, sorted(onsets - beats)
    assert any("6/8" in w and "dotted beats" in w for w in job.warnings)
