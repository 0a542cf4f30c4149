"""A small masked transformer modelling p(cell | every other cell) of a 4 x T window.

Every cell of the window is one sequence element: token + voice + time-in-window + step
metadata embeddings, summed. Cells to predict carry the MASK token; the network returns
logits over the vocabulary for every cell (orderless NADE / Coconet training).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .encoding import META, META_SIZES


@dataclass(frozen=True)
class NetConfig:
    vocab_size: int
    window: int = 64
    dim: int = 128
    layers: int = 4
    heads: int = 4
    ff: int = 384
    dropout: float = 0.1

    def to_json(self) -> dict:
        return asdict(self)


class CellTransformer(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        d = config.dim
        self.token = nn.Embedding(config.vocab_size, d)
        self.voice = nn.Embedding(4, d)
        self.time = nn.Embedding(config.window, d)
        self.meta = nn.ModuleList(nn.Embedding(size, d) for size in META_SIZES)
        layer = nn.TransformerEncoderLayer(
            d, config.heads, config.ff, config.dropout, batch_first=True, norm_first=True, activation="gelu"
        )
        self.encoder = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, config.vocab_size)

    def forward(self, tokens: torch.Tensor, meta: torch.Tensor) -> torch.Tensor:
        """tokens (B, 4, W), meta (B, META, W) -> logits (B, 4, W, vocab)."""
        batch, voices, width = tokens.shape
        step = sum(self.meta[i](meta[:, i]) for i in range(META))  # (B, W, d)
        step = step + self.time(torch.arange(width, device=tokens.device))
        x = self.token(tokens) + self.voice.weight[None, :, None, :] + step[:, None]
        x = self.encoder(x.reshape(batch, voices * width, -1))
        return self.head(self.norm(x)).reshape(batch, voices, width, -1)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
