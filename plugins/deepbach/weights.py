"""Shipped weights: safetensors (no pickle) plus a JSON with the network config and vocabulary.

torch, safetensors and numpy are imported with the network only: the folder and the config
(with the vocabulary that checking a request needs) load without them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .encoding import Vocab
    from .network import CellTransformer

WEIGHTS_DIR = Path(__file__).with_name("weights")
WEIGHTS_NAME = "deepbach.safetensors"
CONFIG_NAME = "deepbach.json"


def save_weights(net: CellTransformer, vocab: Vocab, stats: dict, folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    save_file(tensors, str(folder / WEIGHTS_NAME))
    config = {"network": net.config.to_json(), "vocab": vocab.to_json(), "training": stats}
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2) + "\n")


def load_config(folder: Path = WEIGHTS_DIR) -> dict:
    return json.loads((folder / CONFIG_NAME).read_text())


def load_network(device: str, folder: Path = WEIGHTS_DIR) -> tuple[CellTransformer, Vocab]:
    from safetensors.torch import load_file

    from .encoding import Vocab
    from .network import CellTransformer, NetConfig

    config = load_config(folder)
    vocab = Vocab.from_json(config["vocab"])
    net = CellTransformer(NetConfig(**config["network"]))
    net.load_state_dict(load_file(str(folder / WEIGHTS_NAME)))
    return net.to(device).eval(), vocab
