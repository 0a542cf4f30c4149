"""The decoder: cached decoding computes what a full forward pass computes, padding or not."""

from __future__ import annotations

import pytest
import torch

from scorehost.plugins.lib.transformer import GPT, GPTConfig, KVCache


@pytest.fixture
def net() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=40, context=64, dim=32, layers=2, heads=2, dropout=0.0)).eval()


def ones(rows: int, width: int) -> torch.Tensor:
    return torch.ones(rows, width, dtype=torch.bool)


def test_cached_steps_equal_the_full_pass(net):
    tokens = torch.randint(0, 40, (2, 12))
    full = net(tokens)
    cache = KVCache(2)
    steps = [net.step(tokens[:, :5], ones(2, 5), cache)]
    steps += [net.step(tokens[:, i : i + 1], ones(2, 1), cache) for i in range(5, 12)]
    assert torch.allclose(torch.stack(steps, 1), full[:, 4:], atol=1e-5)


def test_left_padding_changes_nothing(net):
    tokens = torch.randint(1, 40, (1, 6))
    alone = net.step(tokens, ones(1, 6), KVCache(2))
    padded = torch.cat([torch.zeros(1, 3, dtype=torch.long), tokens], 1)
    valid = torch.cat([torch.zeros(1, 3, dtype=torch.bool), ones(1, 6)], 1)
    cache = KVCache(2)
    assert torch.allclose(net.step(padded, valid, cache), alone, atol=1e-5)
    nxt = torch.tensor([[7]])
    reference = net(torch.cat([tokens, nxt], 1))[:, -1]
    assert torch.allclose(net.step(nxt, ones(1, 1), cache), reference, atol=1e-5)


def test_a_sequence_past_the_context_is_refused(net):
    with pytest.raises(ValueError, match="context"):
        net(torch.zeros(1, 65, dtype=torch.long))
