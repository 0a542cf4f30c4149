"""The theme network: cached decoding computes what a full forward pass does, padded rows what
they compute alone, and the gate keeps the theme out of tokens outside its occurrences."""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from scorehost.plugins.lib.vocab import Vocab, build_theme_tokens
from scorehost.plugins.theme.network import Markers, ThemeConfig, ThemeNet, theme_positions


@cache
def vocab() -> Vocab:
    return Vocab(build_theme_tokens())


def tiny(seed: int = 0, **changes) -> ThemeNet:
    torch.manual_seed(seed)
    config = ThemeConfig(
        **(
            dict(vocab_size=len(vocab()), context=128, theme_context=32, dim=32, layers=2)
            | dict(encoder_layers=1, heads=2, dropout=0.0)
            | changes
        )
    )
    return ThemeNet(config).eval()


def sequence(rng: np.random.Generator, length: int) -> list[int]:
    """Random note tokens with one theme occurrence in the middle."""
    v = vocab()
    body = [int(t) for t in rng.integers(10, 200, length)]
    body[length // 3] = v["Theme_Start"]
    body[2 * length // 3] = v["Theme_End"]
    return body


def full(net: ThemeNet, seq: list[int], theme: list[int]) -> torch.Tensor:
    gate, aligned, _ = theme_positions(np.array([seq]), Markers.of(vocab()), net.config.theme_context)
    return net(
        torch.tensor([seq]),
        torch.from_numpy(gate).float(),
        torch.from_numpy(aligned),
        torch.tensor([theme]),
        torch.ones(1, len(theme), dtype=torch.bool),
    )[0]


@torch.no_grad()
def test_cached_steps_match_the_full_forward_pass_in_padded_batches():
    net, rng = tiny(), np.random.default_rng(1)
    seqs = [sequence(rng, 40), sequence(rng, 25)]
    themes = [[int(t) for t in rng.integers(10, 200, n)] for n in (12, 7)]
    padded = torch.zeros(2, 12, dtype=torch.long)
    valid = torch.zeros(2, 12, dtype=torch.bool)
    for i, t in enumerate(themes):
        padded[i, : len(t)], valid[i, : len(t)] = torch.tensor(t), True
    state = net.start(padded, valid, vocab())
    # feed 10 tokens of prompt (left-padded), then one token per step
    prompts = [s[:10] for s in seqs]
    tokens = torch.tensor(prompts)
    logits = [net.step(tokens, torch.ones_like(tokens, dtype=torch.bool), state)]
    for k in range(10, 25):
        step = torch.tensor([[s[k]] for s in seqs])
        logits.append(net.step(step, torch.ones_like(step, dtype=torch.bool), state))
    for row in range(2):
        expected = full(net, seqs[row][:25], themes[row])
        got = torch.stack([logits[0][row]] + [lg[row] for lg in logits[1:]])
        assert torch.allclose(got, expected[9:25], atol=1e-4)


@torch.no_grad()
def test_outside_occurrences_the_gated_layers_ignore_the_theme():
    net, rng = tiny(ungated_layers=0), np.random.default_rng(2)
    seq = sequence(rng, 30)
    a, b = [int(t) for t in rng.integers(10, 200, 9)], [int(t) for t in rng.integers(10, 200, 9)]
    first, second = full(net, seq, a), full(net, seq, b)
    inside = 30 // 3
    assert torch.allclose(first[:inside], second[:inside], atol=1e-5)  # before Theme_Start
    assert not torch.allclose(first[inside:], second[inside:], atol=1e-3)  # it reads the theme


def test_aligned_positions_count_from_theme_start():
    v = vocab()
    markers = Markers.of(v)
    p = [v[f"Pitch_{60 + i}"] for i in range(5)]
    tokens = np.array([[p[0], v["Theme_Start"], p[1], p[2], v["Theme_End"], p[3], v["Theme_Start"], p[4]]])
    gate, aligned, state = theme_positions(tokens, markers, 32)
    assert gate.tolist() == [[False, True, True, True, True, False, True, True]]
    assert aligned.tolist() == [[0, 0, 1, 2, 3, 0, 0, 1]]
    assert state == [1]
    _, _, closed = theme_positions(np.array([[v["Track_End"]]]), markers, 32, state)
    assert closed == [-1]  # a track's end closes an open occurrence
    # fed in two parts, the second goes on from the first's state
    g1, a1, s1 = theme_positions(tokens[:, :3], markers, 32)
    g2, a2, _ = theme_positions(tokens[:, 3:], markers, 32, s1)
    assert np.concatenate([a1, a2], 1).tolist() == aligned.tolist()
