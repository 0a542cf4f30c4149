"""The bar grammar: only valid bars can be drawn, whatever the network prefers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorehost.core.score import Bar, TimeSignature
from scorehost.plugins.lib.grammar import BarGrammar, BarSpec, Sounding, onset_spans
from scorehost.plugins.lib.vocab import Vocab, build_theme_tokens, build_tokens

VOCAB = Vocab(build_tokens())
BAR = Bar(1, 1, 1920, 3840, TimeSignature(tick=0, numerator=4))


def spec(**changes) -> BarSpec:
    ok = np.zeros(128, dtype=bool)
    ok[48:72] = True
    base = {"bar": BAR, "is_drum": False, "span_ends": onset_spans(BAR, [(1920, 3840)]), "pitch_ok": ok}
    return BarSpec(**(base | changes))


def walk(grammar: BarGrammar, choices: list[int], limit: int = 400) -> None:
    """Draw tokens by index into the allowed set, as a sampler would."""
    for i in range(limit):
        if grammar.done:
            return
        allowed = np.flatnonzero(grammar.allowed())
        grammar.advance(int(allowed[choices[i % len(choices)] % len(allowed)]))


@settings(max_examples=150, deadline=None)
@given(choices=st.lists(st.integers(0, 10**6), min_size=1, max_size=60), limit=st.integers(1, 3))
def test_any_walk_keeps_range_grid_span_and_polyphony(choices, limit):
    sounding = Sounding(limit=limit)
    grammar = BarGrammar(spec(sounding=sounding, must_write=True), VOCAB)
    walk(grammar, choices)
    assert grammar.done and grammar.notes
    for note in grammar.notes:
        start = 1920 + note.position * 120
        assert 48 <= note.pitch < 72 and start + note.ticks <= 3840
    ticks = sorted({1920 + n.position * 120 for n in grammar.notes})
    assert max(sum(1 for s, e in sounding.spans if s <= t < e) for t in ticks) <= limit


@settings(max_examples=100, deadline=None)
@given(choices=st.lists(st.integers(0, 10**6), min_size=1, max_size=60))
def test_pins_are_always_written(choices):
    grammar = BarGrammar(
        spec(pins={4: [60, 64], 9: [50]}, pin_lengths={(9, 50): 240}, sounding=Sounding(limit=2)), VOCAB
    )
    walk(grammar, choices)
    written = {(n.position, n.pitch, n.ticks) for n in grammar.notes}
    assert {(4, 60), (4, 64), (9, 50)} <= {(p, q) for p, q, _ in written}
    assert (9, 50, 240) in written


@settings(max_examples=100, deadline=None)
@given(choices=st.lists(st.integers(0, 10**6), min_size=1, max_size=60))
def test_keep_rhythm_forces_onsets_and_lengths(choices):
    rhythm = [(0, 480), (0, 480), (4, 240), (12, 480)]
    grammar = BarGrammar(spec(rhythm=rhythm), VOCAB)
    walk(grammar, choices)
    assert [(n.position, n.ticks) for n in grammar.notes] == rhythm


def test_drum_bars_draw_drum_tokens_only():
    ok = np.zeros(128, dtype=bool)
    ok[27:88] = True
    grammar = BarGrammar(spec(is_drum=True, pitch_ok=ok), VOCAB)
    grammar.advance(int(VOCAB.positions[0]))
    kinds = {VOCAB.token_kind[i] for i in np.flatnonzero(grammar.allowed())}
    assert kinds == {"PitchDrum"}


def test_onsets_stay_inside_a_part_of_the_bar():
    ends = onset_spans(BAR, [(2400, 2880)])
    assert sorted(ends) == [4, 5, 6, 7] and set(ends.values()) == {2880}


THEME_VOCAB = Vocab(build_theme_tokens())


@settings(max_examples=150, deadline=None)
@given(choices=st.lists(st.integers(0, 10**6), min_size=1, max_size=60))
def test_theme_markers_open_and_close_a_bar_once(choices):
    grammar = BarGrammar(spec(markers=True, must_write=True), THEME_VOCAB)
    drawn: list[int] = []
    for i in range(400):
        if grammar.done:
            break
        allowed = np.flatnonzero(grammar.allowed())
        drawn.append(int(allowed[choices[i % len(choices)] % len(allowed)]))
        grammar.advance(drawn[-1])
    names = [THEME_VOCAB.tokens[t] for t in drawn]
    assert grammar.done and grammar.notes and names[-1] == "FillBar_End"
    assert names.count("Theme_Start") <= 1 and names.count("Theme_End") <= 1
    if "Theme_Start" in names:
        assert names.index("Theme_Start") == 0
    if "Theme_End" in names:
        assert names.index("Theme_End") == len(names) - 2
    for note in grammar.notes:
        assert 48 <= note.pitch < 72 and 1920 + note.position * 120 + note.ticks <= 3840


def test_no_markers_without_the_theme_vocabulary_or_the_spec():
    theme_ids = {THEME_VOCAB["Theme_Start"], THEME_VOCAB["Theme_End"]}
    plain = BarGrammar(spec(), THEME_VOCAB)
    assert not theme_ids & set(np.flatnonzero(plain.allowed()))
    assert build_theme_tokens()[: len(build_tokens())] == build_tokens()  # mmm's ids unchanged


def _notes_tokens(*notes: tuple[int, int, int]) -> list[int]:
    """Tokens of (position, pitch, duration index) notes, as bar_tokens writes them."""
    out, last = [], -1
    for position, pitch, duration in notes:
        if position != last:
            out.append(int(VOCAB.positions[position]))
            last = position
        out += [int(VOCAB.pitch_ids[pitch]), VOCAB.velocities[3][1], VOCAB.durations[duration][1]]
    return out


def test_the_copy_suggests_the_source_bar_token_by_token_then_its_end():
    source = _notes_tokens((0, 60, 3), (0, 64, 3), (8, 62, 1))
    grammar = BarGrammar(spec(copy=source, copy_weight=(0.7, 0.4)), VOCAB)
    for token in source:
        suggested, weight, exact = grammar.copy.suggestion()
        assert suggested == token
        assert weight == 0.7  # the copy repeats each event with the onsets' weight
        assert exact == pytest.approx(0.4 / 0.7 if VOCAB.token_kind[token] == "Pitch" else 1.0)
        assert grammar.allowed()[token]
        grammar.advance(token)
    assert grammar.copy.suggestion()[0] == VOCAB["FillBar_End"]


def test_the_copy_finds_its_place_again_after_the_bar_departs_from_it():
    source = _notes_tokens((0, 60, 3), (4, 62, 3), (8, 64, 3))
    grammar = BarGrammar(spec(copy=source, copy_weight=(0.5, 0.5)), VOCAB)
    drawn = _notes_tokens((0, 67, 2))  # another pitch and length: the source's velocity comes next
    grammar.advance(drawn[0])
    grammar.advance(drawn[1])
    assert grammar.copy.suggestion()[0] == source[2]
    grammar.advance(drawn[2])
    grammar.advance(drawn[3])
    assert grammar.copy.suggestion()[0] == source[4]  # the source's next onset, position 4
    grammar.advance(int(VOCAB.positions[6]))  # an onset the source lacks: its next one comes after
    grammar.advance(int(VOCAB.pitch_ids[65]))
    grammar.advance(VOCAB.velocities[3][1])
    grammar.advance(VOCAB.durations[1][1])
    assert grammar.copy.suggestion()[0] == int(VOCAB.positions[8])
    grammar.advance(int(VOCAB.positions[8]))
    assert grammar.copy.suggestion()[0] == int(VOCAB.pitch_ids[64])  # at 8 the source's notes again
