"""Bars as tokens: the same tokens miditok's MMM tokenizer writes, and back to notes."""

from __future__ import annotations

from functools import cache

from music21 import corpus

from scorehost.core.musicxml import read_musicxml
from scorehost.core.score import Bar, Note, Score, TimeSignature, Track
from scorehost.plugins.lib.bartokens import bar_notes, bar_tokens
from scorehost.plugins.lib.symusic_io import to_symusic
from scorehost.plugins.lib.vocab import Vocab, build_tokens, miditok_config


@cache
def vocab() -> Vocab:
    return Vocab(build_tokens())


def miditok_bars(score: Score, track: int) -> list[list[str]]:
    """miditok's own tokens of one track, cut at its Bar tokens, without TimeSig tokens."""
    from miditok import MMM

    one = score.model_copy(update={"tracks": [score.tracks[track]]})
    tokens = MMM(miditok_config()).encode(to_symusic(one)).tokens
    bars: list[list[str]] = []
    for token in tokens:
        if token == "Bar_None":
            bars.append([])
        elif bars and not token.startswith(("TimeSig", "Track")):
            bars[-1].append(token)
    return bars


def test_bars_match_miditok_on_a_chorale_without_pickup():
    score = read_musicxml(corpus.getWork("bach/bwv10.7"))
    assert not score.bars()[0].is_partial
    for track in range(len(score.tracks)):
        ours = [
            [vocab().tokens[i] for i in bar_tokens(score.tracks[track].notes, bar, False, vocab())]
            for bar in score.bars()
        ]
        theirs = miditok_bars(score, track)
        assert ours[: len(theirs)] == theirs


def test_notes_sharing_a_position_are_written_low_to_high():
    # a strummed chord: the top note first, each a few ticks later (mma's grooves do this)
    bar = Bar(0, 1, 0, 1920, TimeSignature(tick=0, numerator=4))
    notes = [Note(start=480 + 5 * i, duration=400, pitch=p) for i, p in enumerate((72, 67, 64, 60))]
    names = [vocab().tokens[i] for i in bar_tokens(notes, bar, False, vocab())]
    assert [n for n in names if n.startswith("Pitch")] == ["Pitch_60", "Pitch_64", "Pitch_67", "Pitch_72"]
    assert names.count("Position_4") == 1


def test_onsets_go_to_the_nearest_position_inside_the_bar():
    # mma's random timing: a chord due on beat 2 (tick 480) played 12 and 5 ticks early
    bar = Bar(0, 1, 0, 1920, TimeSignature(tick=0, numerator=4))
    notes = [Note(start=468, duration=200, pitch=55), Note(start=475, duration=200, pitch=59),
             Note(start=487, duration=200, pitch=62), Note(start=1915, duration=5, pitch=64)]  # fmt: skip
    names = [vocab().tokens[i] for i in bar_tokens(notes, bar, False, vocab())]
    assert [n for n in names if n.startswith("Position")] == [
        "Position_4",
        "Position_15",
    ]  # the last stays in its bar


def test_tokens_decode_to_the_notes_on_the_grid():
    bar = Bar(0, 1, 1920, 3840, TimeSignature(tick=0, numerator=4))
    notes = [Note(start=1920, duration=480, pitch=60, velocity=79), Note(start=1920, duration=240, pitch=64, velocity=111),
             Note(start=2640, duration=1200, pitch=67, velocity=47)]  # fmt: skip
    back = bar_notes(bar_tokens(notes, bar, False, vocab()), bar, vocab())
    assert [(n.start, n.duration, n.pitch, n.velocity) for n in back] == [
        (n.start, n.duration, n.pitch, n.velocity) for n in notes
    ]


def test_six_eight_positions_count_in_eighths():
    bar = Bar(0, 1, 0, 1440, TimeSignature(tick=0, numerator=6, denominator=8))
    tokens = bar_tokens([Note(start=720, duration=480, pitch=60)], bar, False, vocab())
    assert [vocab().tokens[i] for i in tokens] == ["Position_12", "Pitch_60", "Velocity_79", "Duration_2.0.4"]


def test_drum_notes_use_drum_tokens_and_skip_keys_outside_the_kit():
    bar = Bar(0, 1, 0, 1920, TimeSignature(tick=0, numerator=4))
    notes = [Note(start=0, duration=120, pitch=36), Note(start=0, duration=120, pitch=10)]
    names = [vocab().tokens[i] for i in bar_tokens(notes, bar, True, vocab())]
    assert names == ["Position_0", "PitchDrum_36", "Velocity_79", "Duration_0.1.4"]
    assert Track(is_drum=True).is_drum
