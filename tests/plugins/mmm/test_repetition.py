"""The copy half of the sampling mixture: each filled bar's source, and how much a track repeats."""

from __future__ import annotations

import statistics

from scorehost.core.model import LocalJob
from scorehost.core.requests import EditRequest, Region
from scorehost.core.score import Note, Score, TimeSignature, Track
from scorehost.plugins.lib.bartokens import bar_tokens
from scorehost.plugins.mmm.evaluate import groove_similarity
from scorehost.plugins.mmm.model import MMMOptions
from scorehost.plugins.mmm.repetition import repeats, source_tokens

from .conftest import tiny_model, vocabulary

GROOVE = [(0, 36), (0, 42), (240, 42), (480, 38), (480, 42), (720, 42), (840, 36), (960, 36), (1440, 38)]


def drum_score(bars: int = 8, skip: frozenset[int] = frozenset()) -> Score:
    notes = [
        Note(start=b * 1920 + t, duration=120, pitch=p, velocity=90)
        for b in range(bars)
        if b not in skip
        for t, p in GROOVE
    ]
    return Score(
        tracks=[Track(name="drums", program=0, is_drum=True, notes=notes)],
        time_signatures=[TimeSignature(tick=0, numerator=4)],
        length=bars * 1920,
    )


def test_a_track_that_repeats_exactly_repeats_fully_and_a_changing_one_less():
    vocab = vocabulary()
    score = drum_score(4)
    bars = score.bars()
    cells = [bar_tokens(score.tracks[0].notes, b, True, vocab) for b in bars]
    assert repeats(cells, vocab) == (1.0, 1.0)
    other = [Note(start=1920 + 120 * i, duration=120, pitch=40 + i, velocity=90) for i in range(3)]
    changing = [cells[0], bar_tokens(other, bars[1], True, vocab)]
    rhythm, pitch = repeats(changing, vocab)
    assert 0 < pitch <= rhythm < 1
    assert repeats(cells[:1], vocab) == (0.0, 0.0)  # one bar says nothing about repeating


def test_the_source_is_the_nearest_known_bar_with_notes_in_the_same_meter():
    vocab = vocabulary()
    score = drum_score(8, skip=frozenset({2}))  # bar 3 is silent
    bars = score.bars()
    notes = score.tracks[0].notes
    expect = bar_tokens(notes, bars[0], True, vocab)
    assert source_tokens(notes, bars, bars[3], True, {3, 4}, vocab) == expect  # 4 is being written, 2 silent
    assert source_tokens(notes, bars, bars[3], True, set(range(8)) - {3}, vocab) is None


def test_a_fill_of_a_repeating_groove_follows_it_more_closely_with_repetition():
    """Tiny random weights draw noise; the copy's share pulls the fill toward the groove."""
    model = tiny_model()
    score = drum_score(8)
    start, end = 4 * 1920, 6 * 1920
    emptied = score.model_copy(
        update={
            "tracks": [
                score.tracks[0].model_copy(
                    update={"notes": [n for n in score.tracks[0].notes if not start <= n.start < end]}
                )
            ]
        }
    )
    request = EditRequest(model="mmm", score=emptied, regions=[Region(track=0, start=start, end=end)])
    truth = [n for n in score.tracks[0].notes if start <= n.start < end]

    def similarity(repetition: float) -> float:
        options = MMMOptions(seed=1, variations=6, repetition=repetition)
        model.check(request, options)
        fills = model.inpaint(request, options, LocalJob())
        return statistics.fmean(
            groove_similarity(
                [n for n in v.score.tracks[0].notes if start <= n.start < end], truth, start, end
            )
            for v in fills
        )

    assert similarity(0.9) > similarity(0.0) + 0.1
