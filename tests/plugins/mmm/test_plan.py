"""Passes over windows: long regions are written left to right, and no pass reads bars a
later pass will rewrite."""

from __future__ import annotations

from scorehost.core.requests import Region
from scorehost.core.score import Note, Score, Track
from scorehost.plugins.mmm.plan import FILL_BARS, FILL_TRACKS, WINDOW_BARS, plan_passes, written_cells

BAR = 1920


def song(bars: int, tracks: int) -> Score:
    notes = [Note(start=b * BAR, duration=BAR, pitch=60) for b in range(bars)]
    return Score(length=bars * BAR, tracks=[Track(notes=notes) for _ in range(tracks)])


def test_a_long_region_is_cut_into_passes_in_time_order():
    score = song(64, 4)
    passes = plan_passes(score, [Region(track=3, start=0, end=64 * BAR)], context_bars=4)
    assert [p.fill_bars[0] for p in passes] == list(range(0, 64, FILL_BARS))
    for p in passes:
        assert p.after == () or p.after[0] > 63  # later bars of the track are still to be written
        assert all(b < p.fill_bars[0] for b in p.before)


def test_context_on_both_sides_within_the_trained_window():
    score = song(16, 2)
    (p,) = plan_passes(score, [Region(track=1, start=4 * BAR, end=6 * BAR)], context_bars=4)
    assert p.fill_bars == (4, 5) and p.before == (1, 2, 3) and p.after == (6, 7, 8)
    (p,) = plan_passes(score, [Region(track=1, start=14 * BAR, end=16 * BAR)], context_bars=4)
    assert p.before == (10, 11, 12, 13) and p.after == ()  # no bars after: the room goes before
    assert len(p.before) + len(p.fill_bars) + len(p.after) <= WINDOW_BARS


def test_many_written_tracks_are_split_into_groups():
    score = song(4, 16)
    regions = [Region(track=t, start=0, end=2 * BAR) for t in range(16)]
    passes = plan_passes(score, regions, context_bars=2)
    assert [len(p.tracks) for p in passes] == [FILL_TRACKS, FILL_TRACKS, 16 - 2 * FILL_TRACKS]


def test_part_of_a_bar_counts_as_that_bar():
    score = song(4, 1)
    assert written_cells(score, [Region(track=0, start=BAR + 480, end=BAR + 960)]) == {0: [1]}


def test_written_tracks_come_last_in_the_window_right_before_their_fills():
    from scorehost.core.requests import EditRequest
    from scorehost.plugins.mmm.constraints import rules_for
    from scorehost.plugins.mmm.options import MMMOptions
    from scorehost.plugins.mmm.window import Working, build_rows

    from .conftest import vocabulary

    score = song(8, 4)
    score = score.model_copy(
        update={"tracks": [t.model_copy(update={"program": 40 + i}) for i, t in enumerate(score.tracks)]}
    )
    request = EditRequest(model="mmm", score=score, regions=[Region(track=0, start=2 * BAR, end=4 * BAR)])
    vocab = vocabulary()
    rules = rules_for(request, vocab)
    (p,) = plan_passes(score, request.regions, context_bars=2)
    row, specs = build_rows(Working.start(request, rules, MMMOptions(), 0), p, rules, vocab, 1024)
    programs = [vocab.tokens[t] for t in row.prompt if vocab.tokens[t].startswith("Program_")]
    assert programs == ["Program_41", "Program_42", "Program_43", "Program_40"]  # track 0 last
    assert {t for t, _, _ in specs} == {0}
