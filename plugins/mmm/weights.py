"""Shipped weights: safetensors (no pickle) plus a JSON with the network config and vocabulary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from scorehost.plugins.lib.training import read_config

if TYPE_CHECKING:
    from scorehost.plugins.lib.transformer import GPT
    from scorehost.plugins.lib.vocab import Vocab

WEIGHTS_DIR = Path(__file__).with_name("weights")
STEM = "mmm"


def load_vocab(folder: Path = WEIGHTS_DIR) -> Vocab:
    from scorehost.plugins.lib.vocab import Vocab  # numpy: only once a request is checked

    return Vocab.from_json(read_config(folder, STEM)["vocab"])


def load_network(device: str, folder: Path = WEIGHTS_DIR) -> tuple[GPT, Vocab]:
    from scorehost.plugins.lib.training import load_weights  # torch: only when weights load
    from scorehost.plugins.lib.transformer import GPT, GPTConfig
    from scorehost.plugins.lib.vocab import Vocab

    config = read_config(folder, STEM)
    net = GPT(GPTConfig(**config["network"]))
    load_weights(net, folder, STEM)
    return net.to(device).eval(), Vocab.from_json(config["vocab"])
