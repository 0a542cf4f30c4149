"""theme latency and throughput, through the real engine (as every bridge calls it).

- 16 bars developed from a 4-bar theme: bars 9-24 of the melody of O'Neill's "She's A Daughter
  of Daniel O'Connell" from its bars 1-4 (theme:1-4), warm, default options;
- 8 variations of it in one request (decoded as one batch), and 8 separate requests submitted
  at once (the engine batches them);
- raw decoding speed of the theme network, tokens per second, with and without the KV cache
  (the theme encoded once per row either way).

    python bench/theme_latency.py [--weights DIR] [--runs 9] [--device cpu|cuda] [--option KEY=VALUE ...]

--weights defaults to the shipped weights (plugins/theme/weights); until they ship, point it at
a training run's export (`--weights runs/theme/best`). The load average is printed: figures
from a busy machine are not the model's.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch
from engine_timing import report  # bench/ is on the path when a script runs from it
from music21 import corpus

from scorehost.core.cliparse import build_request, parse_option
from scorehost.core.engine import Engine
from scorehost.core.musicxml import score_from_music21
from scorehost.core.testing import plugin_host
from scorehost.plugins.theme import OnWeights
from scorehost.plugins.theme.model import ThemeModel
from scorehost.plugins.theme.network import ThemeNet, theme_positions
from scorehost.plugins.theme.weights import WEIGHTS_DIR

TUNE = 43  # O'Neill's 1850: "She's A Daughter of Daniel O'Connell"


@torch.no_grad()
def decode_rate(model: ThemeModel, prompt_tokens: int, new_tokens: int, cached: bool) -> float:
    """Tokens per second drawing new_tokens after a prompt, greedy, one row, a 60-token theme."""
    net: ThemeNet = model.net
    device = next(net.parameters()).device
    tokens = torch.randint(10, 400, (1, prompt_tokens), device=device)
    theme = torch.randint(10, 400, (1, 60), device=device)
    theme_valid = torch.ones_like(theme, dtype=torch.bool)
    started = time.perf_counter()
    if cached:
        cache = net.start(theme, theme_valid, model.vocab)
        logits = net.step(tokens, torch.ones_like(tokens, dtype=torch.bool), cache)
        for _ in range(new_tokens):
            nxt = logits.argmax(-1, keepdim=True)
            logits = net.step(nxt, torch.ones_like(nxt, dtype=torch.bool), cache)
    else:
        from scorehost.plugins.theme.network import Markers

        markers = Markers.of(model.vocab)
        for _ in range(new_tokens):
            gate, aligned, _ = theme_positions(tokens.cpu().numpy(), markers, net.config.theme_context)
            logits = net(tokens, torch.from_numpy(gate).float().to(device), torch.from_numpy(aligned).to(device),
                         theme, theme_valid)  # fmt: skip
            tokens = torch.cat([tokens, logits[:, -1].argmax(-1, keepdim=True)], 1)
    return new_tokens / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--device", default=None)
    parser.add_argument("--option", action="append", default=[], help="model option KEY=VALUE")
    args = parser.parse_args()
    options = dict(parse_option(pair) for pair in args.option)
    engine = Engine(
        plugin_host(OnWeights(args.weights)), device=args.device, queue_size=256, default_timeout=600
    )
    tune = score_from_music21(corpus.parse("oneills1850").scores[TUNE])
    develop = build_request("theme", tune, ["0:9-24"], ["theme:1-4"], options)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, "
          f"load average {load}, device {engine.device}, weights {args.weights}, options {options}")  # fmt: skip
    model = engine.host.model("theme")
    report(engine, develop, "16 bars from a 4-bar theme", args.runs, 8, "developments/s",
           lambda cached: decode_rate(model, 400, 128, cached))  # fmt: skip
    engine.shutdown()


if __name__ == "__main__":
    main()
