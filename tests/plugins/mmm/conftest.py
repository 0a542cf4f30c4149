"""Fixtures of the mmm tests: corpus pieces, the vocabulary, and mmm models on a tiny random
network (the grammar's guarantees hold whatever the weights) or on the shipped weights."""

from __future__ import annotations

from functools import cache

import pytest
import torch

from scorehost.core.model import LocalJob
from scorehost.core.musicxml import read_musicxml
from scorehost.plugins.lib.transformer import GPT, GPTConfig
from scorehost.plugins.lib.vocab import Vocab, build_tokens
from scorehost.plugins.mmm.model import MMM

QUARTET = "haydn/opus74no1/movement3"
CHORALE = "bach/bwv66.6"


@cache
def vocabulary() -> Vocab:
    vocab = Vocab(build_tokens())
    vocab.density_bins = {"all": [1, 2, 3, 4, 5, 6, 8, 10, 12]}
    vocab.poly_defaults = {"all": 1, "drums": 3}
    return vocab


@cache
def corpus_score(name: str):
    from music21 import corpus

    return read_musicxml(corpus.getWork(name))


def tiny_model(seed: int = 0) -> MMM:
    torch.manual_seed(seed)
    vocab = vocabulary()
    net = GPT(GPTConfig(vocab_size=len(vocab), context=1024, dim=32, layers=1, heads=2, dropout=0.0))
    model = MMM(net=net, vocab=vocab)
    model.load("cpu")
    return model


@pytest.fixture(scope="session")
def tiny() -> MMM:
    return tiny_model()


@pytest.fixture(scope="session")
def shipped() -> MMM:
    model = MMM()
    model.load("cpu")
    return model


@pytest.fixture
def job() -> LocalJob:
    return LocalJob()
