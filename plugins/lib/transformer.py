"""A small decoder-only transformer with a KV cache, for batched autoregressive decoding.

Rows of a batch may have different prompt lengths: prompts are left-padded, a key-padding
mask hides the padding, and positions count real tokens only, so a padded row computes the
same as it would alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    context: int = 1024
    dim: int = 256
    layers: int = 4
    heads: int = 4
    dropout: float = 0.1

    def to_json(self) -> dict:
        return asdict(self)


class KVCache:
    """Keys and values of every layer for the tokens seen so far, plus the padding mask."""

    def __init__(self, layers: int) -> None:
        self.keys: list[torch.Tensor | None] = [None] * layers
        self.values: list[torch.Tensor | None] = [None] * layers
        self.valid: torch.Tensor | None = None  # (B, T) True where a real token sits

    @property
    def length(self) -> int:
        return 0 if self.valid is None else self.valid.shape[1]


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.heads = config.heads
        self.norm1 = nn.LayerNorm(config.dim)
        self.qkv = nn.Linear(config.dim, 3 * config.dim)
        self.proj = nn.Linear(config.dim, config.dim)
        self.norm2 = nn.LayerNorm(config.dim)
        self.mlp = nn.Sequential(
            nn.Linear(config.dim, 4 * config.dim), nn.GELU(), nn.Linear(4 * config.dim, config.dim)
        )
        self.drop = nn.Dropout(config.dropout)

    def forward(self, x, mask, cache: KVCache | None = None, layer: int = 0):
        x = x + self.drop(self.self_attention(self.norm1(x), mask, cache, layer))
        return x + self.drop(self.mlp(self.norm2(x)))

    def self_attention(self, h, mask, cache: KVCache | None, layer: int) -> torch.Tensor:
        """Attention of the normed input h over itself and the cached keys (projected)."""
        b, t, d = h.shape
        q, k, v = (heads(z, self.heads) for z in self.qkv(h).split(d, dim=2))
        if cache is not None:
            if cache.keys[layer] is not None:
                k = torch.cat([cache.keys[layer], k], dim=2)
                v = torch.cat([cache.values[layer], v], dim=2)
            cache.keys[layer], cache.values[layer] = k, v
        # No attention dropout: with it the CPU falls back from the fused kernel to a (T, T) matrix.
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        return self.proj(merge_heads(y))


def heads(z: torch.Tensor, count: int) -> torch.Tensor:
    """(B, T, D) -> (B, heads, T, D / heads)."""
    b, t, d = z.shape
    return z.view(b, t, count, d // count).transpose(1, 2)


def merge_heads(y: torch.Tensor) -> torch.Tensor:
    """(B, heads, T, D / heads) -> (B, T, D)."""
    b, h, t, e = y.shape
    return y.transpose(1, 2).reshape(b, t, h * e)


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.token = nn.Embedding(config.vocab_size, config.dim)
        self.position = nn.Embedding(config.context, config.dim)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.vocab_size, bias=False)
        self.head.weight = self.token.weight  # tied: fewer parameters to ship and to train
        self.apply(init_weights)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Training / scoring: tokens (B, T), right-padded -> logits (B, T, V).

        With padding only after the real tokens, plain causal attention never lets a real
        token see padding, so the fused causal kernel serves (no (T, T) mask in memory)."""
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        if tokens.shape[1] > self.config.context:
            raise ValueError(f"sequence longer than the model's context ({self.config.context} tokens)")
        x = self.token(tokens) + self.position(positions)[None]
        for block in self.blocks:
            x = block(x, None)
        return self.head(self.norm(x))

    def step(self, tokens: torch.Tensor, valid: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Decoding: feed new tokens (B, T) to the cache; logits of the last one (B, V)."""
        return self._run(tokens, valid, cache)[:, -1]

    def _run(self, tokens, valid, cache: KVCache | None) -> torch.Tensor:
        every, positions, mask = step_masks(cache, valid, self.config.context)
        x = self.token(tokens) + self.position(positions)
        for i, block in enumerate(self.blocks):
            x = block(x, mask[:, None], cache, i)
        if cache is not None:
            cache.valid = every
        return self.head(self.norm(x))


def step_masks(cache: KVCache | None, valid: torch.Tensor, context: int):
    """For tokens fed to a cache, left-padded (valid: (B, T)): every key's validity so far
    (B, S), the new tokens' positions (counting real tokens only) and their attention mask
    (B, T, S)."""
    past = cache.valid if cache is not None and cache.valid is not None else valid[:, :0]
    every = torch.cat([past, valid], dim=1)  # (B, S) all keys so far
    positions = (every.long().cumsum(1) - 1).clamp(min=0)[:, past.shape[1] :]
    if positions.max() >= context:
        raise ValueError(f"sequence longer than the model's context ({context} tokens)")
    t, s = valid.shape[1], every.shape[1]
    causal = torch.ones(t, s, dtype=torch.bool, device=valid.device).tril(s - t)
    mask = causal[None] & every[:, None, :]
    mask = mask | ~valid[:, :, None]  # a padding query attends everywhere (its output is unused)
    return every, positions, mask


def init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear | nn.Embedding):
        nn.init.normal_(module.weight, std=0.02)  # GPT-2's init: logits start near uniform
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
