"""A small masked transformer modelling p(cell | every other cell) of a 4 x T window.

Every cell of the window is one sequence element: token + voice + time-in-window + step
metadata embeddings, summed. Cells to predict carry the MASK token; the network returns
logits over the vocabulary for every cell (orderless NADE / Coconet training).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
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


# The last layer's rows go through matrix products at least this many at a time: with fewer,
# MKL takes another path and the results differ in the last bits from the whole layer's.
MIN_ROWS = 16


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

    def forward(
        self, tokens: torch.Tensor, meta: torch.Tensor, cells: torch.Tensor | None = None
    ) -> torch.Tensor:
        """tokens (B, 4, W), meta (B, META, W) -> logits (B, 4, W, vocab); with cells (B, 4, W)
        bool, only those cells' logits (n, vocab), in their order (what the sampler draws)."""
        batch, voices, width = tokens.shape
        step = sum(self.meta[i](meta[:, i]) for i in range(META))  # (B, W, d)
        step = step + self.time(torch.arange(width, device=tokens.device))
        x = self.token(tokens) + self.voice.weight[None, :, None, :] + step[:, None]
        x = x.reshape(batch, voices * width, -1)
        if cells is None:
            return self.head(self.norm(self.encoder(x))).reshape(batch, voices, width, -1)
        if self.training or x.device.type != "cpu":
            return self.head(self.norm(self.encoder(x)))[cells.reshape(batch, -1)]
        *first, last = self.encoder.layers
        for layer in first:
            x = layer(x)
        rows = cells.reshape(-1)
        few = MIN_ROWS - int(rows.sum())
        if few > 0:  # a few rows more: MKL multiplies a matrix of 1-3 rows another way
            rows = rows.clone()
            rows[torch.nonzero(~rows)[:few, 0]] = True
        logits = self.head(self.norm(_last_layer(last, x, rows.view(batch, -1))))
        return logits if few <= 0 else logits[cells.reshape(-1)[rows]]


def _last_layer(layer: nn.TransformerEncoderLayer, x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """The last encoder layer's output (n, d) for the rows (B, L) of x (B, L, d) alone: every
    row's keys and values, but the attention, projection and feed-forward of those rows only.

    The layer's inference fast path (torch._transformer_encoder_layer_fwd) for rows asked for,
    op for op as it computes them on the CPU (aten's native_multi_head_attention_cpu: the
    projection without its bias, then q = (q + bias) / sqrt(head dim), k and v plus theirs,
    softmax(q k^T) v, the output projection; the norm-first residual feed-forward), so the
    logits are bit for bit those of the whole layer (tests/plugins/deepbach/test_network.py
    checks it): a seed draws what it drew."""
    attention = layer.self_attn
    batch, length, dim = x.shape
    heads = attention.num_heads
    per_head = dim // heads
    h = F.layer_norm(x, (dim,), layer.norm1.weight, layer.norm1.bias, layer.norm1.eps)
    q, k, v = torch.matmul(h, attention.in_proj_weight.t()).chunk(3, -1)
    q_bias, k_bias, v_bias = attention.in_proj_bias.chunk(3)
    scale = torch.tensor(1.0 / float(torch.tensor(float(per_head)).sqrt()), dtype=x.dtype)

    def split(t: torch.Tensor) -> torch.Tensor:
        return t.view(batch, length, heads, per_head).transpose(1, 2)

    weights = torch.softmax(
        torch.matmul(split((q + q_bias) * scale), split(k + k_bias).transpose(-1, -2)), -1
    )
    context = torch.matmul(weights, split(v + v_bias)).transpose(1, 2)[rows].reshape(-1, dim)
    x = F.linear(context, attention.out_proj.weight, attention.out_proj.bias) + x[rows]
    h = F.layer_norm(x, (dim,), layer.norm2.weight, layer.norm2.bias, layer.norm2.eps)
    return layer.linear2(layer.activation(layer.linear1(h))) + x


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
