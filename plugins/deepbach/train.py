"""Training: orderless-NADE on random 4 x W windows of the training chorales.

    scorehost train deepbach --minutes 40 --weights plugins/deepbach/weights
    python -m scorehost.plugins.deepbach.train --minutes 40   (the same command)

Each batch masks cells in one of three ways (random cells at a random rate, whole voices,
a time block of some voices) and learns to predict the masked cells. Every --eval-every
steps the held-out (valid) per-cell NLL is logged; the best weights are exported as
safetensors + JSON, and a resumable checkpoint is written to --out.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import torch
from tqdm import tqdm

from scorehost.core.device import choose_device
from scorehost.plugins.lib.training import (
    Budget,
    Ranks,
    launch,
    load_checkpoint,
    save_checkpoint,
    timed,
    train_steps,
)

from .data import Encoded, build_dataset
from .encoding import FIRST_PITCH, MASK, META_PAD, PAD, Vocab
from .network import CellTransformer, NetConfig, parameter_count
from .weights import WEIGHTS_NAME, save_weights


def sample_windows(data: Encoded, batch: int, window: int, rng: np.random.Generator, augment: bool = True):
    """Random windows (tokens (B,4,W), meta (B,META,W)), padded past either end of a chorale."""
    lengths = np.diff(data.offsets)
    picks = rng.choice(len(lengths), size=batch, p=lengths / lengths.sum())
    tokens = np.full((batch, 4, window), PAD, dtype=np.int64)
    meta = np.tile(np.array(META_PAD, dtype=np.int64)[None, :, None], (batch, 1, window))
    for b, c in enumerate(picks):
        begin, length = data.offsets[c], lengths[c]
        start = int(rng.integers(-window // 4, max(1 - window // 4, length - 3 * window // 4) + 1))
        lo, hi = max(0, start), min(length, start + window)
        shift = int(rng.integers(data.shifts[c][0], data.shifts[c][1] + 1)) if augment else 0
        cells = data.grid[:, begin + lo : begin + hi].astype(np.int64)
        cells = np.where(cells >= FIRST_PITCH, cells + shift, cells)
        tokens[b, :, lo - start : hi - start] = cells
        m = data.meta[:, begin + lo : begin + hi].astype(np.int64)
        m[3] = (m[3] + shift) % 12  # the key's tonic moves with the notes
        meta[b, :, lo - start : hi - start] = m
    return torch.from_numpy(tokens), torch.from_numpy(meta)


def random_masks(tokens: torch.Tensor, gen: torch.Generator, structured: bool = True) -> torch.Tensor:
    """Which cells to hide: random cells at a random rate, whole voices, or a block of time."""
    batch, voices, width = tokens.shape
    rate = torch.rand(batch, 1, 1, generator=gen)
    mask = torch.rand(tokens.shape, generator=gen) < rate
    if structured:
        kind = torch.randint(0, 4, (batch,), generator=gen)
        some_voices = torch.rand(batch, voices, 1, generator=gen) < 0.5
        whole = some_voices.expand(-1, -1, width)
        a = torch.randint(0, width, (batch, 1, 1), generator=gen)
        b = torch.randint(0, width, (batch, 1, 1), generator=gen)
        t = torch.arange(width)[None, None]
        block = some_voices & (t >= torch.minimum(a, b)) & (t <= torch.maximum(a, b))
        mask = torch.where((kind == 1)[:, None, None], whole, mask)
        mask = torch.where((kind == 2)[:, None, None], block, mask)
    return mask & (tokens != PAD)


def masked_loss(net: CellTransformer, tokens, meta, mask) -> tuple[torch.Tensor, int]:
    """Mean NLL (nats) of the masked cells, and their count."""
    logits = net(torch.where(mask, MASK, tokens), meta)
    logits[..., : FIRST_PITCH - 2] = -torch.inf  # PAD and MASK are never predicted
    count = int(mask.sum())
    loss = torch.nn.functional.cross_entropy(logits[mask], tokens[mask]) if count else logits.sum() * 0
    return loss, count


@torch.no_grad()
def evaluate(net: CellTransformer, data: Encoded, device: str, batches: int = 48, batch: int = 32) -> float:
    """Per-cell NLL on held-out windows (no transposition, random-rate masks), fixed seed.
    Leaves the network in the mode it was in (a loaded model samples without dropout after)."""
    was_training = net.training
    net.eval()
    rng, gen = np.random.default_rng(1234), torch.Generator().manual_seed(1234)
    total, cells = 0.0, 0
    for _ in range(batches):
        tokens, meta = sample_windows(data, batch, net.config.window, rng, augment=False)
        mask = random_masks(tokens, gen, structured=False)
        loss, count = masked_loss(net, tokens.to(device), meta.to(device), mask.to(device))
        total, cells = total + loss.item() * count, cells + count
    net.train(was_training)
    return total / max(cells, 1)


def train(
    out: Path, weights: Path, minutes: float, batch: int, config: dict, lr: float, eval_every: int,
    threads: int, device: str, ranks: Ranks | None = None,
) -> dict:  # fmt: skip
    """One process's part of a run (all of it unless ranks says otherwise: see lib's launch)."""
    ranks = ranks or Ranks(device=device)
    torch.set_num_threads(threads)
    budget = Budget(minutes * 60)  # data, training and checkpoints: the run ends on time
    with ranks.main_first():  # rank 0 builds the data cache, the others read it
        vocab, splits = build_dataset(out / "data")
    net_config = NetConfig(vocab_size=vocab.size, **config)
    net = CellTransformer(net_config).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    state = {"step": 0, "elapsed": 0.0, "best_valid": float("inf"), "log": []}
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():
        state = load_checkpoint(ckpt, net, opt, device)
        budget.add(state["elapsed"])
        ranks.echo(f"resumed at step {state['step']} ({state['elapsed'] / 60:.1f} min)")
    ranks.echo(
        f"{parameter_count(net):,} parameters, {len(splits['train'].names)} training chorales, {ranks.where()}"
    )
    if ranks.main:  # rank 0 evaluates
        # A checkpoint evaluates 48 batches on valid and, when best, 48 on test: 24 times 4.
        budget.expect(24 * timed(lambda: evaluate(net, splits["valid"], device, batches=4)))
    rng = np.random.default_rng(ranks.seed(state["step"]))
    gen = torch.Generator().manual_seed(ranks.seed(state["step"]))
    share = ranks.share(batch)
    trained = ranks.parallel(net)

    def forward() -> torch.Tensor:
        tokens, meta = sample_windows(splits["train"], share, net_config.window, rng)
        mask = random_masks(tokens, gen)
        return masked_loss(trained, tokens.to(device), meta.to(device), mask.to(device))[0]

    def checkpoint() -> None:
        _checkpoint(net, opt, state, splits, vocab, device, ckpt, weights)

    train_steps(budget, state, opt, forward, checkpoint, lr=lr, eval_every=eval_every, desc="deepbach",
                ranks=ranks, warmup=300)  # fmt: skip
    return state


def _checkpoint(net, opt, state, splits, vocab: Vocab, device, ckpt: Path, weights: Path) -> None:
    valid = evaluate(net, splits["valid"], device)
    state["log"].append(
        {"step": state["step"], "minutes": round(state["elapsed"] / 60, 2), "valid_nll": valid}
    )
    tqdm.write(f"step {state['step']}: valid NLL {valid:.4f} nats/cell")
    if valid < state["best_valid"]:
        state["best_valid"] = valid
        test = evaluate(net, splits["test"], device)
        stats = {
            "step": state["step"],
            "minutes": round(state["elapsed"] / 60, 2),
            "valid_nll": valid,
            "test_nll": test,
        }
        save_weights(net, vocab, stats, weights)
        tqdm.write(f"  best so far; test NLL {test:.4f}; exported to {weights / WEIGHTS_NAME}")
    save_checkpoint(ckpt, net, opt, state)
    (ckpt.parent / "log.json").write_text(json.dumps(state["log"], indent=1))


def main(
    out: Path, weights: Path, minutes: float, batch: int, window: int, dim: int, layers: int, lr: float,
    eval_every: int, threads: int, device: str | None, nproc: int | None = None,
) -> None:  # fmt: skip
    """`scorehost train deepbach` (its options are in commands.py), on --nproc processes."""
    device = choose_device(device)
    config = {"window": window, "dim": dim, "layers": layers, "ff": 3 * dim}
    given = dict(out=out, weights=weights, minutes=minutes, batch=batch, config=config, lr=lr,
                 eval_every=eval_every, threads=threads)  # fmt: skip
    launch(_process, nproc, device, batch, **given)


def _process(ranks: Ranks, **given) -> None:
    state = train(**given, device=ranks.device, ranks=ranks)
    if ranks.main:
        click.echo(f"done: {state['step']} steps, best valid NLL {state['best_valid']:.4f}")


if __name__ == "__main__":
    from scorehost.plugins.deepbach.commands import train_command

    train_command()
