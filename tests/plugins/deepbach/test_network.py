"""The network's forward for the sampler's hidden cells alone gives, bit for bit, the logits the
whole forward gives those cells: so a seed draws what it drew before the leaner path."""

from __future__ import annotations

import pytest
import torch

from scorehost.plugins.deepbach.encoding import META_SIZES
from scorehost.plugins.deepbach.weights import load_network

from .conftest import make_tiny_net


def _inputs(net, batch: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    width = net.config.window
    tokens = torch.randint(0, net.config.vocab_size, (batch, 4, width), generator=gen)
    meta = torch.stack([torch.randint(0, size, (batch, width), generator=gen) for size in META_SIZES], 1)
    return tokens, meta


@pytest.mark.parametrize("which", ["tiny", "shipped"])
@pytest.mark.parametrize("hidden", [1, 3, 15, 16, 40, 200])
def test_the_hidden_cells_logits_are_the_whole_forwards(which, hidden):
    net = make_tiny_net() if which == "tiny" else load_network("cpu")[0].eval()
    gen = torch.Generator().manual_seed(hidden)
    for batch in (1, 5):
        tokens, meta = _inputs(net, batch, gen)
        cells = torch.zeros(batch * 4 * net.config.window, dtype=torch.bool)
        cells[torch.randperm(cells.numel(), generator=gen)[: min(hidden, cells.numel())]] = True
        cells = cells.view(batch, 4, -1)
        with torch.inference_mode():
            whole = net(tokens, meta)[cells]
            lean = net(tokens, meta, cells)
        assert lean.shape == whole.shape
        assert torch.equal(lean, whole)


def test_training_takes_the_whole_forward():
    net = make_tiny_net().train()
    tokens, meta = _inputs(net, 2, torch.Generator().manual_seed(0))
    cells = torch.ones(2, 4, net.config.window, dtype=torch.bool)
    out = net(tokens, meta, cells)
    assert out.requires_grad and out.shape == (cells.sum(), net.config.vocab_size)
