"""Training theme and its prompt baseline, in one run on the same batches for the same time.

    scorehost train theme --minutes 90                (music21's folk tunes, chorales, quartets)
    scorehost train theme --data ~/scores --minutes 60

Each step draws a batch of examples (examples.py) and trains both networks on it: the theme
network reads the theme through its encoder, the baseline (lib's GPT, the same decoder shape)
as a prefix of its sequence. Every --eval-every steps both are scored on held-out examples
(NLL per fill token); each network's best weights are exported as safetensors + JSON, and a
resumable checkpoint of both is written to --out.
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
    export_weights,
    launch,
    load_checkpoint,
    load_weights,
    read_config,
    save_checkpoint,
    timed,
    train_steps,
)
from scorehost.plugins.lib.transformer import GPT, parameter_count
from scorehost.plugins.lib.vocab import Vocab

from .data import Piece
from .dataset import build_dataset
from .examples import Example, sample_example
from .network import Markers, ThemeConfig, ThemeNet, theme_positions
from .sequence import theme_prefix
from .weights import BASELINE_STEM, STEM

HELD_OUT_EXAMPLES = 256


class Nets(torch.nn.Module):
    """The two networks trained side by side (one state dict, one optimizer, one checkpoint)."""

    def __init__(self, config: ThemeConfig) -> None:
        super().__init__()
        self.theme = ThemeNet(config)
        self.prompt = GPT(config.block())

    def both(self) -> dict[str, torch.nn.Module]:
        return {"theme": self.theme, "prompt": self.prompt}

    def forward(self, examples: list[Example], vocab: Vocab, device: str) -> torch.Tensor:
        """The training loss: both networks' NLL per fill token on the same examples, summed."""
        losses = [
            theme_losses(self.theme, examples, vocab, device),
            baseline_losses(self.prompt, examples, vocab, device),
        ]
        return sum(s[0] / s[1].clamp(min=1) for s in losses)


def pad(sequences: list[list[int]], value: int) -> torch.Tensor:
    out = torch.full((len(sequences), max(len(s) for s in sequences)), value, dtype=torch.long)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = torch.tensor(s)
    return out


def fill_mask(tokens: torch.Tensor, starts: list[int], vocab: Vocab) -> torch.Tensor:
    """(B, T-1): the targets after each row's first FillBar_Start (at index starts[i]), the
    structure tokens aside (padding, EOS, FillBar_Start: the sampler feeds them)."""
    targets = tokens[:, 1:]
    index = torch.arange(targets.shape[1])[None]
    begin = torch.tensor(starts)[:, None]
    scored = (
        (targets != vocab["PAD_None"]) & (targets != vocab["EOS_None"]) & (targets != vocab["FillBar_Start"])
    )
    return (index >= begin) & scored


def nll_sums(logits: torch.Tensor, tokens: torch.Tensor, scored: torch.Tensor) -> torch.Tensor:
    """(sum of the scored targets' NLL, their count)."""
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), tokens[:, 1:], reduction="none")
    return torch.stack([(nll * scored).sum(), scored.sum()])


def theme_losses(net: ThemeNet, examples: list[Example], vocab: Vocab, device: str) -> torch.Tensor:
    tokens = pad([e.tokens for e in examples], vocab["PAD_None"])
    gate, aligned, _ = theme_positions(tokens.numpy(), Markers.of(vocab), net.config.theme_context)
    theme = pad([e.theme for e in examples], vocab["PAD_None"])
    theme_valid = torch.zeros_like(theme, dtype=torch.bool)
    for i, e in enumerate(examples):
        theme_valid[i, : len(e.theme)] = True
    logits = net(
        tokens[:, :-1].to(device),
        torch.from_numpy(gate[:, :-1]).float().to(device),
        torch.from_numpy(aligned[:, :-1]).to(device),
        theme.to(device),
        theme_valid.to(device),
    )
    return nll_sums(
        logits, tokens.to(device), fill_mask(tokens, [e.fill_from for e in examples], vocab).to(device)
    )


def baseline_losses(net: GPT, examples: list[Example], vocab: Vocab, device: str) -> torch.Tensor:
    sequences = [baseline_tokens(e, vocab) for e in examples]
    tokens = pad(sequences, vocab["PAD_None"])
    starts = [len(s) - len(e.tokens) + e.fill_from for s, e in zip(sequences, examples, strict=True)]
    logits = net(tokens[:, :-1].to(device))
    return nll_sums(logits, tokens.to(device), fill_mask(tokens, starts, vocab).to(device))


def baseline_tokens(example: Example, vocab: Vocab) -> list[int]:
    """The baseline's sequence: the theme as a prefix, then the window."""
    return [vocab["BOS_None"], *theme_prefix(example.theme, vocab), *example.tokens[1:]]


def fixed_examples(
    pieces: list[Piece], vocab: Vocab, config: ThemeConfig, count: int, seed: int
) -> list[Example]:
    """Held-out examples drawn once with a fixed seed, so every evaluation scores the same."""
    if not pieces:
        return []
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(pieces), size=count)
    return [sample_example(pieces[i], vocab, rng, config.context, config.theme_context, False) for i in picks]


@torch.no_grad()
def held_out_nll(nets: dict[str, torch.nn.Module], examples: list[Example], vocab: Vocab, device: str,
                 batch: int = 16) -> dict[str, float]:  # fmt: skip
    """Nats per fill token of each network ("theme", "prompt"); leaves them in their mode."""
    losses = {"theme": theme_losses, "prompt": baseline_losses}
    out = {}
    for kind, net in nets.items():
        was_training = net.training
        net.eval()
        total = torch.zeros(2)
        for i in range(0, len(examples), batch):
            total += losses[kind](net, examples[i : i + batch], vocab, device).cpu()
        net.train(was_training)
        out[kind] = float(total[0] / total[1].clamp(min=1))
    return out


def train(out: Path, weights: Path, data: Path | None, minutes: float, batch: int, config: dict,
          lr: float, eval_every: int, threads: int, device: str, init: Path | None = None,
          ranks: Ranks | None = None) -> dict:  # fmt: skip
    """One process's part of a run (all of it unless ranks says otherwise: see lib's launch)."""
    ranks = ranks or Ranks(device=device)
    torch.set_num_threads(threads)
    budget = Budget(minutes * 60)
    with ranks.main_first():  # rank 0 builds the data cache, the others read it
        vocab, splits = build_dataset(out / "data", data)
    nets, config = _networks(init, vocab, config, ranks)
    nets = nets.to(device)
    opt = torch.optim.AdamW(nets.parameters(), lr=lr, weight_decay=0.01)
    state = {"step": 0, "elapsed": 0.0, "best": {"theme": float("inf"), "prompt": float("inf")}, "log": []}
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():
        state = load_checkpoint(ckpt, nets, opt, device)
        budget.add(state["elapsed"])
        ranks.echo(f"resumed at step {state['step']} ({state['elapsed'] / 60:.1f} min)")
    pieces = splits["train"]
    if not pieces:
        raise click.ClickException("no training piece has a theme that retrieval can find")
    ranks.echo(f"{parameter_count(nets.theme):,} + {parameter_count(nets.prompt):,} parameters, "
               f"{len(pieces)} training pieces, {ranks.where()}")  # fmt: skip
    held_out = {}
    if ranks.main:  # rank 0 evaluates
        held_out = {
            s: fixed_examples(splits[s], vocab, config, HELD_OUT_EXAMPLES, seed=7) for s in ("valid", "test")
        }
    rng = np.random.default_rng(ranks.seed(state["step"]))
    if ranks.main:
        sample = held_out["valid"][: max(1, len(held_out["valid"]) // 8)]
        budget.expect(16 * timed(lambda: held_out_nll(nets.both(), sample, vocab, device)))
    share = ranks.share(batch)
    trained = ranks.parallel(nets)
    trained.train()

    def forward() -> torch.Tensor:
        examples = [
            sample_example(pieces[int(i)], vocab, rng, config.context, config.theme_context, True)
            for i in rng.integers(0, len(pieces), share)
        ]
        return trained(examples, vocab, device)

    def checkpoint() -> None:
        _evaluate_and_save(nets, opt, state, held_out, vocab, config, device, ckpt, weights, data)

    train_steps(budget, state, opt, forward, checkpoint, lr=lr, eval_every=eval_every, desc="theme",
                ranks=ranks, shown=lambda loss: loss.item() / 2)  # fmt: skip
    return state


def _networks(init: Path | None, vocab: Vocab, shape: dict, ranks: Ranks) -> tuple[Nets, ThemeConfig]:
    """New networks of the given shape, or (--init) exported weights of both to go on from."""
    if init is None:
        config = ThemeConfig(vocab_size=len(vocab), **shape)
        return Nets(config), config
    saved = read_config(init, STEM)
    if saved["vocab"]["tokens"] != vocab.tokens:
        raise click.ClickException(f"the weights in {init} have another token list than this vocabulary")
    config = ThemeConfig(**saved["network"])
    nets = Nets(config)
    load_weights(nets.theme, init, STEM)
    load_weights(nets.prompt, init, BASELINE_STEM)
    ranks.echo(f"starting from the weights in {init} (step {saved['training'].get('step')})")
    return nets.float(), config


def _evaluate_and_save(nets, opt, state, held_out, vocab, config, device, ckpt, weights, data) -> None:
    valid = held_out_nll(nets.both(), held_out["valid"], vocab, device)
    entry = {"step": state["step"], "minutes": round(state["elapsed"] / 60, 2)}
    entry |= {f"valid_nll_{k}": round(v, 4) for k, v in valid.items()}
    state["log"].append(entry)
    tqdm.write(
        f"step {state['step']}: valid NLL theme {valid['theme']:.4f}, prompt {valid['prompt']:.4f} nats/token"
    )
    improved = [k for k in valid if valid[k] < state["best"][k]]
    test = held_out_nll(nets.both(), held_out["test"], vocab, device) if improved else {}
    for kind in improved:
        state["best"][kind] = valid[kind]
        stats = entry | {"test_nll": round(test[kind], 4), "data": str(data) if data else "corpus"}
        net, stem = (nets.theme, STEM) if kind == "theme" else (nets.prompt, BASELINE_STEM)
        network = config.to_json() if kind == "theme" else config.block().to_json()
        saved = {
            "network": network,
            "theme_context": config.theme_context,
            "vocab": vocab.to_json(),
            "training": stats,
        }
        export_weights(weights, stem, net, saved)
        tqdm.write(f"  {kind}: best so far; test NLL {test[kind]:.4f}; exported to {weights}")
    save_checkpoint(ckpt, nets, opt, state)
    (ckpt.parent / "log.json").write_text(json.dumps(state["log"], indent=1))


def main(out, weights, data, init, minutes, batch, context, theme_context, dim, layers, encoder_layers,
         heads, lr, eval_every, threads, device, nproc=None) -> None:  # fmt: skip
    """`scorehost train theme` (its options are in commands.py), on --nproc processes."""
    device = choose_device(device)
    shape = {"context": context, "theme_context": theme_context, "dim": dim, "layers": layers,
             "encoder_layers": encoder_layers, "heads": heads}  # fmt: skip
    given = dict(out=out, weights=weights, data=data, minutes=minutes, batch=batch, config=shape, lr=lr,
                 eval_every=eval_every, threads=threads, init=init)  # fmt: skip
    launch(_process, nproc, device, batch, **given)


def _process(ranks: Ranks, **given) -> None:
    state = train(**given, device=ranks.device, ranks=ranks)
    if ranks.main:
        best = state["best"]
        click.echo(
            f"done: {state['step']} steps, best valid NLL theme {best['theme']:.4f}, prompt {best['prompt']:.4f}"
        )
