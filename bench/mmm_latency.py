"""mmm latency and throughput, through the real engine (as every bridge calls it).

- fill 4 bars (bars 3-6) of the alto in an 8-bar, 4-track context (BWV 66.6), default options;
- 16 variations of that fill in one request (decoded as one batch), and 16 separate requests
  submitted at once (the engine batches them);
- raw decoding speed of the network, tokens per second, with and without the KV cache.

    python bench/mmm_latency.py [--runs 9] [--device cpu|cuda] [--option KEY=VALUE ...]
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

from scorehost.core.cliparse import parse_option
from scorehost.core.engine import Engine
from scorehost.core.host import Host
from scorehost.core.requests import EditRequest, Region
from scorehost.core.scoreio import read_score
from scorehost.plugins.lib.transformer import KVCache
from scorehost.plugins.mmm.model import MMM


@torch.no_grad()
def decode_rate(model: MMM, prompt_tokens: int, new_tokens: int, cached: bool) -> float:
    """Tokens per second drawing new_tokens after a prompt, greedy, one row."""
    net = model.net
    tokens = torch.randint(10, 400, (1, prompt_tokens), device=model.device)
    started = time.perf_counter()
    if cached:
        cache = KVCache(len(net.blocks))
        logits = net.step(tokens, torch.ones_like(tokens, dtype=torch.bool), cache)
        for _ in range(new_tokens):
            nxt = logits.argmax(-1, keepdim=True)
            logits = net.step(nxt, torch.ones_like(nxt, dtype=torch.bool), cache)
    else:
        for _ in range(new_tokens):
            nxt = net(tokens)[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], 1)
    return new_tokens / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--device", default=None)
    parser.add_argument("--option", action="append", default=[], help="model option KEY=VALUE")
    args = parser.parse_args()
    options = dict(parse_option(pair) for pair in args.option)
    engine = Engine(
        Host(env={"SCOREHOST_PLUGINS": ""}), device=args.device, queue_size=256, default_timeout=600
    )
    chorale = read_score(Path(corpus.getWork("bach/bwv66.6")))
    bars = chorale.bars()
    end = bars[8].end
    context = chorale.model_copy(
        update={
            "length": end,
            "tracks": [
                t.model_copy(update={"notes": [n for n in t.notes if n.end <= end]}) for t in chorale.tracks
            ],
            "fermatas": [f for f in chorale.fermatas if f.tick < end],
        }
    )
    fill = EditRequest(
        model="mmm",
        score=context,
        regions=[Region(track=1, start=bars[3].start, end=bars[6].end)],
        options=options,
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, device {engine.device}, options {options}")
    model = engine.host.model("mmm")
    report(engine, fill, "4-bar fill, 1 track of 4, 8 bars", args.runs, 16, "fills/s",
           lambda cached: decode_rate(model, 400, 128, cached))  # fmt: skip
    engine.shutdown()


if __name__ == "__main__":
    main()
