"""The theme model's promises, as properties over many seeds on tiny random networks: context
unchanged note for note, constraints held, outputs decode; retrieval when no theme is named;
one clear error for each request it cannot serve."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorehost.core.errors import RequestError
from scorehost.core.model import LocalJob
from scorehost.core.regions import constraint_violations, merge_result
from scorehost.core.requests import (
    EditRequest,
    Instrument,
    PinnedNote,
    PinnedNotes,
    PitchClasses,
    PitchRange,
    Region,
    Theme,
)
from scorehost.core.score import Note, Score, Track, note_tuples
from scorehost.plugins.theme.model import ThemeOptions

from .conftest import chorale, tiny_model, tune

SETTINGS = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TINY = tiny_model()
BASELINE = tiny_model(baseline=True)


def bars_span(score: Score, first: int, last: int) -> tuple[int, int]:
    """Ticks from the start of bar index first to the end of bar index last."""
    bars = score.bars()
    return bars[first].start, bars[last].end


def fill(model, request: EditRequest, seed: int, variations: int = 2, **options):
    opts = ThemeOptions(seed=seed, variations=variations, **options)
    model.check(request, opts)
    job = LocalJob()
    return model.inpaint(request, opts, job), job


def written(score: Score, region: Region) -> list[Note]:
    return [n for n in score.tracks[region.track].notes if region.start <= n.start < region.end]


def assert_context_kept(before: Score, after: Score, regions: list[Region]) -> None:
    for t, (old, new) in enumerate(zip(before.tracks, after.tracks, strict=True)):
        spans = [(r.start, r.end) for r in regions if r.track == t]
        assert outside(old.notes, spans) == outside(new.notes, spans)


def outside(notes: list[Note], spans: list[tuple[int, int]]) -> list[tuple]:
    return sorted(n.key() for n in notes if not any(s <= n.start < e for s, e in spans))


@SETTINGS
@given(seed=st.integers(0, 2**31), first=st.integers(9, 24), length=st.integers(1, 6), baseline=st.booleans())
def test_context_unchanged_and_constraints_hold(seed, first, length, baseline):
    score = tune()
    start, end = bars_span(score, first, first + length - 1)
    region = Region(track=0, start=start, end=end)
    theme = Theme(start=0, end=bars_span(score, 1, 4)[1] - 480, track=0)
    constraints = [
        theme,
        PitchRange(track=0, low=62, high=79),
        PitchClasses(pitch_classes=[2, 4, 6, 7, 9, 11, 1]),
    ]
    request = EditRequest(model="theme", score=score, regions=[region], constraints=constraints)
    results, _ = fill(BASELINE if baseline else TINY, request, seed)
    for variation in results:
        assert_context_kept(score, variation.score, [region])
        notes = written(variation.score, region)
        assert notes, "a filled region never comes back silent"
        assert all(n.end <= region.end for n in notes)
        assert constraint_violations(request, merge_result(score, variation.score, [region])) == []


@SETTINGS
@given(seed=st.integers(0, 2**31), bar=st.integers(5, 8))
def test_pins_and_instrument_hold_on_several_tracks(seed, bar):
    score = chorale()
    regions = [Region(track=t, start=s, end=e) for t in (1, 2) for s, e in [bars_span(score, bar, bar + 1)]]
    pin = PinnedNote(track=1, start=regions[0].start + 480, pitch=64, duration=240)
    constraints = [
        Theme(start=0, end=bars_span(score, 0, 1)[1]),
        PinnedNotes(notes=[pin]),
        Instrument(track=2, program=42),
    ]
    request = EditRequest(model="theme", score=score, regions=regions, constraints=constraints)
    results, _ = fill(TINY, request, seed)
    for variation in results:
        merged = merge_result(score, variation.score, regions)
        assert constraint_violations(request, merged) == []
        assert (pin.start, 64, 240) in [(n.start, n.pitch, n.duration) for n in merged.tracks[1].notes]
        assert merged.tracks[2].program == 42
        assert_context_kept(score, variation.score, regions)


def test_sixteen_bars_after_a_theme_in_one_batch_of_variations():
    score = tune()
    region = Region(track=0, start=bars_span(score, 13, 13)[0], end=score.bars()[28].end)
    theme = Theme(start=0, end=bars_span(score, 1, 4)[1] - 480)
    results, _ = fill(
        TINY, EditRequest(model="theme", score=score, regions=[region], constraints=[theme]), 3, 4
    )
    assert len(results) == 4 and all(r.seed == 3 + i for i, r in enumerate(results))
    for variation in results:
        assert_context_kept(score, variation.score, [region])
        bars = [b for b in score.bars() if region.start <= b.start < region.end]
        assert len(bars) == 16 and written(variation.score, region)
    again, _ = fill(
        TINY, EditRequest(model="theme", score=score, regions=[region], constraints=[theme]), 3, 1
    )
    assert note_tuples(again[0].score.tracks[0]) == note_tuples(results[0].score.tracks[0])  # seeded


def test_without_a_theme_the_opening_phrase_is_retrieved_and_reported():
    score = tune()
    bars = score.bars()
    region = Region(track=0, start=bars[13].start - 480, end=bars[20].end - 480)
    results, job = fill(TINY, EditRequest(model="theme", score=score, regions=[region]), 1, 1)
    assert job.warnings and job.warnings[0].startswith("theme: bars 1-4 of track 0")
    assert (
        "taken from the context before the region" in job.warnings[0]
        and "recurs at bars 9 and 26" in job.warnings[0]
    )
    assert_context_kept(score, results[0].score, [region])


def test_a_theme_that_recurs_only_after_the_region_is_retrieved():
    """Bars 9-24 written: the A phrase of bars 1-4 comes back before them nowhere (bars 5-8 are
    B), but at bar 26, after them; it is the theme, taken from before the region."""
    score = tune()
    bars = {b.number: b for b in score.bars()}
    region = Region(track=0, start=bars[9].start, end=bars[24].end)
    results, job = fill(TINY, EditRequest(model="theme", score=score, regions=[region]), 2, 1)
    assert job.warnings == [
        "theme: bars 1-4 of track 0 (Track 1), taken from the context before the region "
        "(retrieval; it recurs at bar 26)"
    ]
    assert_context_kept(score, results[0].score, [region])


def refusal(request: EditRequest) -> str:
    with pytest.raises(RequestError) as info:
        TINY.check(request, ThemeOptions())
    return str(info.value)


def test_a_theme_overlapping_the_region_is_refused():
    score = tune()
    region = Region(track=0, start=bars_span(score, 3, 6)[0], end=bars_span(score, 3, 6)[1])
    theme = Theme(start=0, end=bars_span(score, 1, 4)[1], track=0)
    assert "overlaps region 0" in refusal(
        EditRequest(model="theme", score=score, regions=[region], constraints=[theme])
    )


def test_a_theme_of_one_note_is_refused():
    score = tune()
    first = score.tracks[0].notes[0]
    theme = Theme(start=first.start, end=first.start + 1, track=0)
    region = Region(track=0, start=bars_span(score, 9, 12)[0], end=bars_span(score, 9, 12)[1])
    message = refusal(EditRequest(model="theme", score=score, regions=[region], constraints=[theme]))
    assert "holds 1 note" in message and "at least two" in message


def test_a_theme_longer_than_the_context_is_refused():
    score = chorale()
    theme = Theme(start=0, end=bars_span(score, 0, 6)[1])  # all four voices of 7 bars
    region = Region(track=0, start=bars_span(score, 8, 9)[0], end=bars_span(score, 8, 9)[1])
    message = refusal(EditRequest(model="theme", score=score, regions=[region], constraints=[theme]))
    assert "more than the 256 the model reads" in message


def test_a_region_on_a_drum_track_is_refused():
    score = tune()
    drums = Track(name="Kit", is_drum=True, notes=[Note(start=0, duration=240, pitch=36)])
    score = score.model_copy(update={"tracks": [*score.tracks, drums]})
    region = Region(track=1, start=bars_span(score, 9, 10)[0], end=bars_span(score, 9, 10)[1])
    assert "does not write drum tracks" in refusal(EditRequest(model="theme", score=score, regions=[region]))


def test_no_theme_named_and_none_repeating_is_refused():
    score = tune(4)  # The Fun at Donnybrook: nothing repeats
    region = Region(track=0, start=bars_span(score, 8, 9)[0], end=bars_span(score, 8, 9)[1])
    assert "no phrase before the region comes back elsewhere in the score" in refusal(
        EditRequest(model="theme", score=score, regions=[region])
    )


def test_requests_batched_together_get_what_each_gets_alone():
    score, other = tune(), chorale()
    first = EditRequest(
        model="theme",
        score=score,
        regions=[Region(track=0, start=bars_span(score, 13, 14)[0], end=bars_span(score, 13, 14)[1])],
        constraints=[Theme(start=0, end=bars_span(score, 1, 4)[1] - 480)],
    )
    second = EditRequest(
        model="theme",
        score=other,
        regions=[Region(track=3, start=bars_span(other, 4, 5)[0], end=bars_span(other, 4, 5)[1])],
        constraints=[Theme(start=0, end=bars_span(other, 0, 1)[1], track=0)],
    )
    options = [ThemeOptions(seed=5, variations=2), ThemeOptions(seed=9, variations=1, temperature=1.0)]
    together = TINY.inpaint_batch([(first, options[0], LocalJob()), (second, options[1], LocalJob())])
    alone = [TINY.inpaint(r, o, LocalJob()) for r, o in zip((first, second), options, strict=True)]
    for batched, single in zip(together, alone, strict=True):
        assert [note_tuples(v.score.tracks[t]) for v in batched for t in range(len(v.score.tracks))] == [
            note_tuples(v.score.tracks[t]) for v in single for t in range(len(v.score.tracks))
        ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_engine_contract_holds_for_a_new_track_and_a_retrieved_theme(seed):
    from scorehost.core.testing import check_model

    score = tune()
    score = score.model_copy(update={"tracks": [*score.tracks, Track(name="Second", program=41)]})
    bars = score.bars()
    regions = [
        Region(track=1, start=0, end=bars[12].end),  # a new track under the first strain
        Region(track=0, start=bars[13].start - 480, end=bars[16].end - 480),
    ]
    request = EditRequest(
        model="theme", score=score, regions=regions, constraints=[PitchRange(track=1, low=48, high=67)]
    )
    job = LocalJob()
    variations = check_model(TINY, request, {"seed": seed, "variations": 2}, job=job)
    assert any(w.startswith("theme: bars 1-4") for w in job.warnings)
    for variation in variations:
        new = variation.score.tracks[1].notes
        assert new and all(48 <= n.pitch <= 67 for n in new)


def test_context_bars_in_a_meter_without_a_token_are_read_and_written_bars_refused():
    from scorehost.core.score import TimeSignature

    score = tune()
    bars = score.bars()
    odd = TimeSignature(tick=bars[12].start, numerator=11, denominator=8)
    back = TimeSignature(tick=bars[12].start + 2640, numerator=3, denominator=4)
    changed = score.model_copy(update={"time_signatures": [*score.time_signatures[:2], odd, back]})
    later = changed.bars()
    theme = Theme(start=0, end=bars[5].start - 480, track=0)
    region = Region(track=0, start=later[13].start, end=later[14].end)  # right after the 11/8 bar
    results, _ = fill(
        TINY, EditRequest(model="theme", score=changed, regions=[region], constraints=[theme]), 2, 1
    )
    assert written(results[0].score, region)
    inside = Region(track=0, start=later[12].start, end=later[12].end)
    message = refusal(EditRequest(model="theme", score=changed, regions=[inside], constraints=[theme]))
    assert "11/8" in message
