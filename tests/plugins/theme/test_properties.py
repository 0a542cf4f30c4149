"""The theme model's promises over many seeds, sampling settings and regions, on tiny random
networks (the theme network and the prompt baseline): whatever the weights draw, the notes
outside the regions come back note for note, the constraints hold, and what is written decodes:
each written bar is notes the model's tokens spell (onsets on the bar's grid, pitches and
velocities it has tokens for), inside the region, of positive length."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scorehost.core.model import LocalJob
from scorehost.core.regions import constraint_violations, merge_result
from scorehost.core.requests import EditRequest, PitchClasses, PitchRange, Region, Theme
from scorehost.plugins.lib.bartokens import bar_notes, bar_tokens
from scorehost.plugins.theme.model import ThemeOptions

from .conftest import tiny_model, tune, vocabulary
from .test_model import assert_context_kept, written

SEEDS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODELS = {False: tiny_model(1), True: tiny_model(1, baseline=True)}
D_MAJOR = [2, 4, 6, 7, 9, 11, 1]


@SEEDS
@given(
    seed=st.integers(0, 2**32 - 1),
    first=st.integers(9, 26),
    length=st.integers(1, 8),
    temperature=st.floats(0.3, 2.0),
    top_p=st.floats(0.3, 1.0),
    named=st.booleans(),
    low=st.integers(55, 67),
    keyed=st.booleans(),
    baseline=st.booleans(),
)
def test_outside_kept_constraints_held_and_every_bar_decodes(
    seed, first, length, temperature, top_p, named, low, keyed, baseline
):
    score = tune()
    bars = {b.number: b for b in score.bars()}
    last = min(first + length - 1, max(bars))
    region = Region(track=0, start=bars[first].start, end=bars[last].end)
    constraints = [PitchRange(track=0, low=low, high=low + 14)]
    if named:
        constraints.append(Theme(start=bars[1].start, end=bars[4].end, track=0))
    if keyed:
        constraints.append(PitchClasses(pitch_classes=D_MAJOR))
    request = EditRequest(model="theme", score=score, regions=[region], constraints=constraints)
    model = MODELS[baseline]
    options = ThemeOptions(seed=seed, variations=2, temperature=temperature, top_p=top_p)
    model.check(request, options)
    results = model.inpaint(request, options, LocalJob())
    assert [v.seed for v in results] == options.seeds()
    vocab = vocabulary()
    for variation in results:
        assert_context_kept(score, variation.score, [region])
        assert constraint_violations(request, merge_result(score, variation.score, [region])) == []
        notes = written(variation.score, region)
        assert notes and all(n.duration > 0 and n.end <= region.end for n in notes)
        for bar in (b for b in score.bars() if region.start <= b.start < region.end):
            inside = sorted(
                (n for n in notes if bar.start <= n.start < bar.end), key=lambda n: (n.start, n.pitch)
            )
            decoded = bar_notes(bar_tokens(inside, bar, False, vocab), bar, vocab)
            assert [(n.start, n.pitch, n.velocity) for n in decoded] == [
                (n.start, n.pitch, n.velocity) for n in inside
            ]
