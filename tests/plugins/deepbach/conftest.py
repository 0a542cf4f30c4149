"""Fixtures of the deepbach tests: corpus chorales, the vocabulary, a tiny random network, a job context."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from music21 import corpus

from scorehost.core.model import LocalJob
from scorehost.core.scoreio import read_score
from scorehost.plugins.deepbach.encoding import Vocab
from scorehost.plugins.deepbach.network import CellTransformer, NetConfig

VOCAB = Vocab(36, 81, ((60, 81), (53, 74), (48, 69), (36, 64)))


def read_chorale(name: str = "bach/bwv66.6"):
    return read_score(Path(corpus.getWork(name)))


def make_tiny_net(seed: int = 0, window: int = 16) -> CellTransformer:
    torch.manual_seed(seed)
    config = NetConfig(vocab_size=VOCAB.size, window=window, dim=16, layers=1, heads=2, ff=32, dropout=0.0)
    return CellTransformer(config).eval()


@pytest.fixture
def vocab() -> Vocab:
    return VOCAB


@pytest.fixture(scope="session")
def chorale():
    return read_chorale


@pytest.fixture
def tiny_net():
    return make_tiny_net


@pytest.fixture
def job() -> LocalJob:
    return LocalJob()
