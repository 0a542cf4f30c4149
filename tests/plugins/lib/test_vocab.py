"""The token vocabulary: miditok's MMM tokens plus infill and control tokens, saved and read back."""

from __future__ import annotations

from scorehost.plugins.lib.vocab import DENSITY_LEVELS, INFILL_TOKENS, Vocab, build_tokens


def test_vocabulary_has_miditok_tokens_then_controls():
    tokens = build_tokens()
    assert tokens[0] == "PAD_None"
    for name in (
        "Bar_None",
        "Position_0",
        "Pitch_60",
        "PitchDrum_36",
        "Program_-1",
        "TimeSig_7/8",
        "TimeSig_5/4",
    ):
        assert name in tokens
    assert all(t in tokens for t in INFILL_TOKENS)
    assert tokens[-1] == "Poly_6" and f"Density_{DENSITY_LEVELS - 1}" in tokens
    assert len(set(tokens)) == len(tokens)


def test_saved_vocabulary_reads_back_unchanged():
    vocab = Vocab(build_tokens(), {"all": [1.0] * 9}, {"all": 2})
    again = Vocab.from_json(vocab.to_json())
    assert again.tokens == vocab.tokens and again.density_bins == vocab.density_bins
    assert again.default_poly("strings") == 2


def test_density_levels_follow_the_bins():
    vocab = Vocab(build_tokens(), {"4": [float(i) for i in range(1, 10)]})
    assert vocab.density_level("4", 0.5) == 0
    assert vocab.density_level("4", 4.5) == 4
    assert vocab.density_level("4", 100) == 9


def test_pitch_tables_cover_their_ranges():
    vocab = Vocab(build_tokens())
    assert (vocab.pitch_ids >= 0).all()
    assert vocab.drum_ids[36] >= 0 and vocab.drum_ids[20] < 0
    assert vocab.tokens[vocab.duration_token(1.0)] == "Duration_1.0.4"
