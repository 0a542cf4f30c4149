"""The measures of `scorehost eval mmm` and its baseline."""

from __future__ import annotations

from scorehost.core.score import Note, Score, Track
from scorehost.plugins.mmm.evaluate import (
    groove_similarity,
    nearest_bar_copy,
    paired_differences,
    pc_similarity,
    pick_cases,
    source_of,
)


def n(start: int, pitch: int, duration: int = 240) -> Note:
    return Note(start=start, duration=duration, pitch=pitch)


def test_pitch_class_similarity():
    assert pc_similarity([n(0, 60), n(240, 64)], [n(0, 72), n(480, 76)]) == 1.0
    assert pc_similarity([n(0, 60)], [n(0, 61)]) == 0.0
    assert pc_similarity([], []) == 1.0


def test_groove_similarity_counts_onset_slots():
    assert groove_similarity([n(0, 60), n(480, 60)], [n(0, 40), n(480, 50)], 0, 1920) == 1.0
    assert groove_similarity([n(0, 60)], [n(120, 60)], 0, 1920) == 1 - 2 / 16
    assert (
        groove_similarity([n(468, 60), n(1915, 60)], [n(480, 62), n(1800, 60)], 0, 1920) == 1.0
    )  # nearest slot


def test_baseline_copies_the_nearest_bar_outside_the_span():
    score = Score(length=4 * 1920, tracks=[Track(notes=[n(0, 60), n(1920, 62), n(5760, 67)])])
    copied = nearest_bar_copy(score, 0, 2, 2)
    assert [(x.start, x.pitch) for x in copied] == [(3840, 62)]  # bar 1 and bar 3 tie: the earlier wins


def test_cases_are_seeded_and_have_notes():
    score = Score(length=8 * 1920, tracks=[Track(notes=[n(b * 1920, 60) for b in range(8)])])
    first = pick_cases([("a", score), ("b", score)], seed=3, limit=5)
    assert first == pick_cases([("a", score), ("b", score)], seed=3, limit=5)
    assert all(last - start < 4 for _, _, _, start, last in first)


def test_cases_run_through_the_model_and_the_baseline():
    from scorehost.plugins.mmm.evaluate import run_cases
    from scorehost.plugins.mmm.model import MMMOptions

    from .conftest import CHORALE, corpus_score, tiny_model

    cases = pick_cases([("chorale", corpus_score(CHORALE))], seed=1, limit=1)
    report = run_cases(tiny_model(), cases, MMMOptions(seed=2, temperature=0.9))
    assert report["valid_outputs"] == 1.0 and report["cases"] == 1 and report["refused"] == []
    assert report["range_held"] == report["pitch_classes_held"] == report["polyphony_held"] == 1.0
    assert 0 <= report["model_groove_similarity"] <= 1 and 0 <= report["baseline_pitch_class_similarity"] <= 1
    assert report["difference_groove_similarity"] == round(
        report["model_groove_similarity"] - report["baseline_groove_similarity"], 4
    )
    assert report["by_source"] == {"chorale": report["by_source"]["chorale"]}


def test_paired_differences_have_a_mean_and_an_interval():
    figures = paired_differences(
        {"model_groove_similarity": [0.9, 0.8, 0.7], "baseline_groove_similarity": [0.8, 0.8, 0.5]}
    )
    assert figures["difference_groove_similarity"] == 0.1
    low, high = figures["difference_groove_similarity_95"]
    assert low < 0.1 < high and round(high - 0.1, 4) == round(0.1 - low, 4)
    assert "difference_density_error" not in figures


def test_accompanied_pieces_are_one_source():
    assert source_of("bach/bwv66.6--Swing") == "mma"
    assert source_of("bach/bwv66.6") == "bach"
    assert source_of("essenFolksong/han1/3") == "essenFolksong"
