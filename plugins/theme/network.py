"""The theme network (after Theme Transformer): an encoder over the theme, and a decoder whose
layers run self-attention and cross-attention to the encoded theme in parallel.

- Cross-attention in the gated layers (all but the first, as in the paper) adds to a token
  only inside a theme occurrence, between Theme_Start and Theme_End: elsewhere the decoder is
  a plain language model, and inside an occurrence it reads the theme.
- Its queries carry a theme-aligned position: the token's distance from the occurrence's
  Theme_Start, on the scale of the encoder's positions, so the k-th token of an occurrence
  looks near the k-th token of the theme.
- Decoding keeps a KV cache of the self-attention, the cross-attention's keys and values of
  every row's theme (computed once), and each row's place in an occurrence, so batched
  variations and requests go through lib's grammar-masked sampler unchanged.

The prompt baseline is lib's GPT with the same decoder shape, reading the theme as a prefix.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from scorehost.plugins.lib.transformer import (
    Block,
    GPTConfig,
    KVCache,
    heads,
    init_weights,
    merge_heads,
    step_masks,
)
from scorehost.plugins.lib.vocab import Vocab

from .weights import THEME_CONTEXT


@dataclass(frozen=True)
class ThemeConfig:
    vocab_size: int
    context: int = 1024  # decoder tokens
    theme_context: int = THEME_CONTEXT  # encoder tokens (a theme of 2-4 bars, its accompaniment included)
    dim: int = 256
    layers: int = 4  # decoder layers
    encoder_layers: int = 2
    heads: int = 4
    dropout: float = 0.1
    ungated_layers: int = 1  # the first layers' cross-attention reads the theme everywhere

    def to_json(self) -> dict:
        return asdict(self)

    def block(self) -> GPTConfig:
        return GPTConfig(self.vocab_size, self.context, self.dim, self.layers, self.heads, self.dropout)


@dataclass
class Markers:
    """Where each row stands in a theme occurrence, carried across decoding steps."""

    start: int
    end: int
    reset: tuple[int, ...]  # tokens that close any open occurrence (a track's end, BOS)

    @classmethod
    def of(cls, vocab: Vocab) -> Markers:
        return cls(vocab["Theme_Start"], vocab["Theme_End"], (vocab["Track_End"], vocab["BOS_None"]))


def theme_positions(
    tokens: np.ndarray, markers: Markers, limit: int, state: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(gate, aligned position) of each token of (B, T) tokens, and the state to go on from.

    A token is gated in from its occurrence's Theme_Start to its Theme_End, both included; its
    aligned position counts the tokens since that Theme_Start (capped at limit - 1). state: per
    row the aligned position of the last token fed, or -1 outside an occurrence; padding
    (negative tokens) leaves it as it is.
    """
    rows, width = tokens.shape
    gate = np.zeros((rows, width), dtype=bool)
    aligned = np.zeros((rows, width), dtype=np.int64)
    state = [-1] * rows if state is None else list(state)
    for r in range(rows):
        at = state[r]
        for i, token in enumerate(tokens[r]):
            if token < 0:
                continue
            if token == markers.start:
                at = 0
            elif at >= 0:
                at += 1
            if at >= 0:
                gate[r, i], aligned[r, i] = True, min(at, limit - 1)
            if token == markers.end or token in markers.reset:
                at = -1
        state[r] = at
    return gate, aligned, state


class ThemeCache(KVCache):
    """lib's KVCache plus each row's encoded theme (cross-attention keys and values per layer)
    and its place in an occurrence."""

    def __init__(self, layers: int, memory: list[tuple[torch.Tensor, torch.Tensor]], memory_valid, markers):
        super().__init__(layers)
        self.memory, self.memory_valid, self.markers = memory, memory_valid, markers
        self.state: list[int] | None = None


class DecoderBlock(Block):
    """lib's block with cross-attention beside its self-attention, both on the same normed input."""

    def __init__(self, config: ThemeConfig, gated: bool) -> None:
        super().__init__(config.block())
        self.gated = gated
        self.q_cross = nn.Linear(config.dim, config.dim)
        self.kv_cross = nn.Linear(config.dim, 2 * config.dim)
        self.proj_cross = nn.Linear(config.dim, config.dim)

    def memory(self, encoded: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv_cross(encoded).split(encoded.shape[-1], dim=2)
        return heads(k, self.heads), heads(v, self.heads)

    def forward(self, x, mask, cache=None, layer=0, memory=None, memory_mask=None, gate=None, aligned=None):
        h = self.norm1(x)
        k, v = memory
        q = heads(self.q_cross(h + aligned), self.heads)
        cross = self.proj_cross(merge_heads(F.scaled_dot_product_attention(q, k, v, attn_mask=memory_mask)))
        if self.gated:
            cross = cross * gate[..., None]
        x = x + self.drop(self.self_attention(h, mask, cache, layer)) + self.drop(cross)
        return x + self.drop(self.mlp(self.norm2(x)))


class ThemeNet(nn.Module):
    def __init__(self, config: ThemeConfig) -> None:
        super().__init__()
        self.config = config
        self.token = nn.Embedding(config.vocab_size, config.dim)
        self.position = nn.Embedding(config.context, config.dim)
        self.theme_position = nn.Embedding(config.theme_context, config.dim)  # encoder and aligned queries
        self.encoder = nn.ModuleList(Block(config.block()) for _ in range(config.encoder_layers))
        self.encoder_norm = nn.LayerNorm(config.dim)
        self.blocks = nn.ModuleList(
            DecoderBlock(config, gated=i >= config.ungated_layers) for i in range(config.layers)
        )
        self.norm = nn.LayerNorm(config.dim)
        self.head = nn.Linear(config.dim, config.vocab_size, bias=False)
        self.head.weight = self.token.weight
        self.apply(init_weights)

    def encode(self, theme: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Theme tokens (B, S), right-padded, with their valid mask -> (B, S, D)."""
        if theme.shape[1] > self.config.theme_context:
            raise ValueError(
                f"theme longer than the model's theme context ({self.config.theme_context} tokens)"
            )
        positions = torch.arange(theme.shape[1], device=theme.device)
        x = self.token(theme) + self.theme_position(positions)[None]
        mask = valid[:, None, None, :] | ~valid[:, None, :, None]  # padding queries see all (unused)
        for block in self.encoder:
            x = block(x, mask)
        return self.encoder_norm(x)

    def forward(self, tokens, gate, aligned, theme, theme_valid) -> torch.Tensor:
        """Training / scoring: right-padded tokens (B, T) with their gate and aligned positions,
        and the themes -> logits (B, T, V)."""
        if tokens.shape[1] > self.config.context:
            raise ValueError(f"sequence longer than the model's context ({self.config.context} tokens)")
        encoded = self.encode(theme, theme_valid)
        memory_mask = theme_valid[:, None, None, :]
        x = self.token(tokens) + self.position(torch.arange(tokens.shape[1], device=tokens.device))[None]
        queries = self.theme_position(aligned)
        for block in self.blocks:
            x = block(x, None, None, 0, block.memory(encoded), memory_mask, gate.to(x.dtype), queries)
        return self.head(self.norm(x))

    # ---- decoding -------------------------------------------------------------------------

    def start(self, theme: torch.Tensor, theme_valid: torch.Tensor, vocab: Vocab) -> ThemeCache:
        """A cache for decoding rows with these themes (one per row)."""
        encoded = self.encode(theme, theme_valid)
        memory = [block.memory(encoded) for block in self.blocks]
        return ThemeCache(len(self.blocks), memory, theme_valid[:, None, None, :], Markers.of(vocab))

    def step(self, tokens: torch.Tensor, valid: torch.Tensor, cache: ThemeCache) -> torch.Tensor:
        """Feed new tokens (B, T), left-padded, to the cache; logits of the last one (B, V)."""
        every, positions, mask = step_masks(cache, valid, self.config.context)
        fed = np.where(valid.cpu().numpy(), tokens.cpu().numpy(), -1)
        gate, aligned, cache.state = theme_positions(
            fed, cache.markers, self.config.theme_context, cache.state
        )
        gate_t = torch.from_numpy(gate).to(tokens.device, torch.float32)
        queries = self.theme_position(torch.from_numpy(aligned).to(tokens.device))
        x = self.token(tokens) + self.position(positions)
        for i, block in enumerate(self.blocks):
            x = block(x, mask[:, None], cache, i, cache.memory[i], cache.memory_valid, gate_t, queries)
        cache.valid = every
        return self.head(self.norm(x[:, -1]))  # only the last token is drawn from
