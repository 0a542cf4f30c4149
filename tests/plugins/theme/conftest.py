"""Fixtures of the theme tests: corpus tunes, and theme models on tiny random networks (the
grammar's and the contract's guarantees hold whatever the weights)."""

from __future__ import annotations

from functools import cache

import torch
from music21 import corpus

from scorehost.core.musicxml import score_from_music21
from scorehost.core.score import Score
from scorehost.plugins.lib.transformer import GPT
from scorehost.plugins.lib.vocab import Vocab, build_theme_tokens
from scorehost.plugins.theme.model import ThemeModel
from scorehost.plugins.theme.network import ThemeConfig, ThemeNet

DANIEL_OCONNELL = 43  # O'Neill's: "She's A Daughter of Daniel O'Connell", A B A C D E, 34 bars
CHORALE = "bach/bwv66.6"


@cache
def vocabulary() -> Vocab:
    return Vocab(build_theme_tokens())


@cache
def tune(index: int = DANIEL_OCONNELL) -> Score:
    return score_from_music21(corpus.parse("oneills1850").scores[index])


@cache
def chorale() -> Score:
    from scorehost.core.musicxml import read_musicxml

    return read_musicxml(corpus.getWork(CHORALE))


def tiny_config() -> ThemeConfig:
    return ThemeConfig(vocab_size=len(vocabulary()), context=1024, theme_context=256, dim=32, layers=2,
                       encoder_layers=1, heads=2, dropout=0.0)  # fmt: skip


def tiny_model(seed: int = 0, baseline: bool = False) -> ThemeModel:
    torch.manual_seed(seed)
    config = tiny_config()
    net = GPT(config.block()) if baseline else ThemeNet(config)
    model = ThemeModel(net=net, vocab=vocabulary())
    model.load("cpu")
    return model
