"""Weights of theme and its prompt baseline: safetensors (no pickle) plus a JSON each, with the
network config, the vocabulary and the training figures.

Nothing ships yet: WEIGHTS_DIR holds weights only once a run of `scorehost train theme` has
produced them and a model card with held-out figures stands beside them (SHIPPED).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scorehost.plugins.lib.training import read_config

if TYPE_CHECKING:
    from torch import nn

    from scorehost.plugins.lib.vocab import Vocab

WEIGHTS_DIR = Path(__file__).with_name("weights")
MODEL_CARD = Path(__file__).with_name("MODEL_CARD.md")
STEM = "theme"
BASELINE_STEM = "theme-prompt"
THEME_CONTEXT = 256  # encoder tokens, unless a network's config says otherwise (no torch to know it)


def shipped(folder: Path = WEIGHTS_DIR) -> bool:
    """Whether trained weights of the theme network ship, with their model card."""
    return (
        (folder / f"{STEM}.safetensors").exists()
        and (folder / f"{STEM}.json").exists()
        and MODEL_CARD.exists()
    )


def load_vocab(folder: Path = WEIGHTS_DIR, stem: str = STEM) -> Vocab:
    from scorehost.plugins.lib.vocab import Vocab

    return Vocab.from_json(read_config(folder, stem)["vocab"])


def load_network(device: str, folder: Path = WEIGHTS_DIR, stem: str = STEM) -> tuple[nn.Module, Vocab]:
    """The theme network (stem theme) or the prompt baseline (theme-prompt), and its vocabulary."""
    from scorehost.plugins.lib.training import load_weights
    from scorehost.plugins.lib.transformer import GPT, GPTConfig
    from scorehost.plugins.lib.vocab import Vocab

    from .network import ThemeConfig, ThemeNet

    config = read_config(folder, stem)
    net = ThemeNet(ThemeConfig(**config["network"])) if stem == STEM else GPT(GPTConfig(**config["network"]))
    load_weights(net, folder, stem)
    return net.float().to(device).eval(), Vocab.from_json(config["vocab"])
