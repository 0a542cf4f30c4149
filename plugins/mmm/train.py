"""Training mmm: random windows of bars and tracks, with bars or whole tracks to fill.

    scorehost train mmm --minutes 90                  (music21's corpus + mma accompaniment)
    scorehost train mmm --data ~/midi --minutes 60    (a folder of your own MIDI/MusicXML)

Each example is a window of 1-8 bars of up to 8 tracks in shuffled order, transposed by up
to a fourth, with one of three masks: a span of bars of one or two tracks, a whole track
(track infill), or random cells. Every --eval-every steps the held-out infill NLL per token
is logged; the best weights are exported as safetensors + JSON, and a resumable checkpoint
is written to --out.
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
from scorehost.plugins.lib.transformer import GPT, GPTConfig, parameter_count
from scorehost.plugins.lib.vocab import Vocab

from .data import Piece
from .dataset import build_dataset
from .sequence import TrackRow, Window, density_level, full_sequence, poly_level

MAX_WINDOW_BARS = 8
MAX_WINDOW_TRACKS = 8
TRANSPOSE = (-5, 6)


def sample_example(
    piece: Piece,
    vocab: Vocab,
    rng: np.random.Generator,
    context: int,
    augment: bool,
    tracks_first: bool = False,
) -> list[int]:
    """One training sequence from a random window of the piece, at most `context` tokens.

    A window too long for the context loses half its bars, or with tracks_first half its
    tracks, until it fits. Bars first keeps every track of a dense piece (mma's four) in one
    or two bars; tracks first keeps a track's neighbouring bars, which is what a fill of a
    repeating part (a groove, a bass line) is copied from."""
    bars = len(piece.timesigs)
    length = int(rng.integers(1, min(MAX_WINDOW_BARS, bars) + 1))
    order = rng.permutation(len(piece.tracks))[: int(rng.integers(1, MAX_WINDOW_TRACKS + 1))]
    shift = int(rng.integers(TRANSPOSE[0], TRANSPOSE[1] + 1)) if augment else 0
    while True:
        start = int(rng.integers(0, bars - length + 1))
        window, answers = _masked_window(piece, vocab, rng, order, start, length, shift)
        tokens = full_sequence(window, answers, vocab)
        if len(tokens) <= context:
            return tokens
        if len(order) > 1 and (tracks_first or length == 1):
            order = order[: len(order) // 2]
        elif length > 1:
            length = max(1, length // 2)
        else:
            return tokens[: context - 1] + [vocab["EOS_None"]]


def _masked_window(piece, vocab, rng, order, start, length, shift) -> tuple[Window, list[list[int]]]:
    rows = []
    for t in (piece.tracks[i] for i in order):
        cells = [_transpose(c, shift, vocab) if not t.is_drum else c for c in t.cells[start : start + length]]
        density = density_level(t.program, t.is_drum, t.counts[start : start + length], vocab)
        poly = poly_level(max(t.polys[start : start + length]))
        rows.append(TrackRow(t.program, t.is_drum, density, poly, cells))
    mask = _mask(rng, len(rows), length)
    answers = []
    for r, row in enumerate(rows):
        for b in range(length):
            if mask[r, b]:
                answers.append(row.cells[b])
                row.cells[b] = None
    timesigs = piece.timesigs[start : start + length]
    return Window(list(timesigs), rows), answers


def _mask(rng: np.random.Generator, tracks: int, bars: int) -> np.ndarray:
    """Which cells to fill: bars of one or two tracks, a whole track, or random cells."""
    mask = np.zeros((tracks, bars), dtype=bool)
    kind = rng.random()
    if kind < 0.45:
        for r in rng.permutation(tracks)[: int(rng.integers(1, 3))]:
            a = int(rng.integers(0, bars))
            b = int(rng.integers(a, bars)) + 1
            mask[r, a:b] = True
    elif kind < 0.75:
        mask[int(rng.integers(0, tracks))] = True
    else:
        mask = rng.random((tracks, bars)) < rng.uniform(0.1, 0.5)
        mask[int(rng.integers(0, tracks)), int(rng.integers(0, bars))] = True
    return mask


def _transpose(cell: list[int], shift: int, vocab: Vocab) -> list[int]:
    if not shift:
        return cell
    low, high = int(vocab.pitch_ids[0]), int(vocab.pitch_ids[127])
    return [t + shift if low <= t <= high and low <= t + shift <= high else t for t in cell]


def _bucketed(
    pieces, weights, vocab, rng, context: int, batch: int, buckets: int = 4
) -> list[list[list[int]]]:
    """Batches of similar lengths (less padding), from buckets x batch random examples."""
    picks = rng.choice(len(pieces), size=batch * buckets, p=weights)
    seqs = sorted(
        (
            sample_example(pieces[i], vocab, rng, context, True, tracks_first=rng.random() < 0.5)
            for i in picks
        ),
        key=len,
    )
    batches = [seqs[i : i + batch] for i in range(0, len(seqs), batch)]
    return [batches[i] for i in rng.permutation(len(batches))]


def batch_tensors(sequences: list[list[int]], pad: int) -> torch.Tensor:
    width = max(len(s) for s in sequences)
    out = torch.full((len(sequences), width), pad, dtype=torch.long)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = torch.tensor(s)
    return out


def losses(net: GPT, tokens: torch.Tensor, vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean NLL over every real token, per-token NLL of the fill section as a (sum, count) pair)."""
    pad, fill_start = vocab["PAD_None"], vocab["FillBar_Start"]
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = net(inputs)  # right-padded: padding is never attended to
    nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
    real = targets != pad
    in_fill = (inputs == fill_start).long().cumsum(1) > 0
    scored = real & in_fill & (targets != fill_start) & (targets != vocab["EOS_None"])
    mean = (nll * real).sum() / real.sum()
    return mean, torch.stack([(nll * scored).sum(), scored.sum()])


def fixed_examples(pieces: list[Piece], vocab: Vocab, context: int, count: int, seed: int) -> list[list[int]]:
    """Held-out examples drawn once with a fixed seed, so every evaluation scores the same."""
    rng = np.random.default_rng(seed)
    weights = np.array([len(p.timesigs) for p in pieces], dtype=float)
    picks = rng.choice(len(pieces), size=count, p=weights / weights.sum())
    return [sample_example(pieces[i], vocab, rng, context, augment=False) for i in picks]


@torch.no_grad()
def infill_nll(net: GPT, examples: list[list[int]], vocab: Vocab, device: str, batch: int = 16) -> float:
    """Nats per fill token; leaves the network in the mode it was in."""
    was_training = net.training
    net.eval()
    total = torch.zeros(2)
    for i in range(0, len(examples), batch):
        tokens = batch_tensors(examples[i : i + batch], vocab["PAD_None"]).to(device)
        total += losses(net, tokens, vocab)[1].cpu()
    net.train(was_training)
    return float(total[0] / total[1].clamp(min=1))


def sampling_weights(pieces: list[Piece], accompaniment_weight: float = 1.0) -> np.ndarray:
    """How often each training piece is drawn: by the square root of its bars (a long piece
    gives more windows, but not so many that it crowds out the rest), times
    accompaniment_weight for an mma-accompanied piece (its name holds "--"), the only drums,
    bass and chords in a popular idiom."""
    weights = np.array([len(p.timesigs) for p in pieces], dtype=float) ** 0.5
    weights *= np.where(["--" in p.name for p in pieces], accompaniment_weight, 1.0)
    return weights / weights.sum()


def train(out: Path, weights: Path, data: Path | None, minutes: float, batch: int, net_config: dict,
          lr: float, eval_every: int, threads: int, device: str, init: Path | None = None,
          accompaniment_weight: float = 1.0, ranks: Ranks | None = None) -> dict:  # fmt: skip
    """One process's part of a run (all of it unless ranks says otherwise: see lib's launch)."""
    ranks = ranks or Ranks(device=device)
    torch.set_num_threads(threads)
    budget = Budget(minutes * 60)  # data, training and checkpoints: the run ends on time
    with ranks.main_first():  # rank 0 builds the data cache, the others read it
        vocab, splits = build_dataset(out / "data", data)
    ckpt = out / "checkpoint.pt"
    if init is not None and not ckpt.exists():
        net, vocab = _initial_network(init, vocab)
        ranks.echo(
            f"starting from the weights in {init} (step {read_config(init, 'mmm')['training'].get('step')})"
        )
        config = net.config
    else:
        config = GPTConfig(vocab_size=len(vocab), **net_config)
        net = GPT(config)
    net = net.to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    state = {"step": 0, "elapsed": 0.0, "best_valid": float("inf"), "log": []}
    if ckpt.exists():
        state = load_checkpoint(ckpt, net, opt, device)
        budget.add(state["elapsed"])
        ranks.echo(f"resumed at step {state['step']} ({state['elapsed'] / 60:.1f} min)")
    train_pieces = splits["train"]
    ranks.echo(f"{parameter_count(net):,} parameters, {len(train_pieces)} training pieces, {ranks.where()}")
    held_out = {}
    if ranks.main:  # rank 0 evaluates
        held_out = {
            s: fixed_examples(splits[s], vocab, config.context, 256, seed=7) for s in ("valid", "test")
        }
        # A checkpoint scores the valid examples and, when best, the test ones: 16 times 1/8 of valid.
        sample = held_out["valid"][: max(1, len(held_out["valid"]) // 8)]
        budget.expect(16 * timed(lambda: infill_nll(net, sample, vocab, device)))
    rng = np.random.default_rng(ranks.seed(state["step"]))
    weights_by_bars = sampling_weights(train_pieces, accompaniment_weight)
    share = ranks.share(batch)
    trained = ranks.parallel(net)
    trained.train()
    queue: list[list[list[int]]] = []

    def forward() -> torch.Tensor:
        if not queue:
            queue.extend(_bucketed(train_pieces, weights_by_bars, vocab, rng, config.context, share))
        return losses(trained, batch_tensors(queue.pop(), vocab["PAD_None"]).to(device), vocab)[0]

    def checkpoint() -> None:
        _evaluate_and_save(net, opt, state, held_out, vocab, config, device, ckpt, weights, data)

    train_steps(
        budget, state, opt, forward, checkpoint, lr=lr, eval_every=eval_every, desc="mmm", ranks=ranks
    )
    return state


def _initial_network(init: Path, vocab: Vocab) -> tuple[GPT, Vocab]:
    """Shipped (or exported) weights to train on from, with their own vocabulary, which must
    name the same tokens as the one built from the data (density levels come with the weights,
    so the controls keep meaning what the network learned)."""
    config = read_config(init, "mmm")
    saved = Vocab.from_json(config["vocab"])
    if saved.tokens != vocab.tokens:
        raise click.ClickException(
            f"the weights in {init} have another token list than this data's vocabulary"
        )
    net = GPT(GPTConfig(**config["network"]))
    load_weights(net, init, "mmm")
    return net.float(), saved


def _evaluate_and_save(net, opt, state, held_out, vocab, config, device, ckpt, weights, data) -> None:
    valid = infill_nll(net, held_out["valid"], vocab, device)
    entry = {"step": state["step"], "minutes": round(state["elapsed"] / 60, 2), "valid_infill_nll": valid}
    state["log"].append(entry)
    tqdm.write(f"step {state['step']}: valid infill NLL {valid:.4f} nats/token")
    if valid < state["best_valid"]:
        state["best_valid"] = valid
        stats = entry | {"test_infill_nll": infill_nll(net, held_out["test"], vocab, device)}
        stats["data"] = str(data) if data else "corpus+mma"
        export_weights(
            weights, "mmm", net, {"network": config.to_json(), "vocab": vocab.to_json(), "training": stats}
        )
        tqdm.write(f"  best so far; test infill NLL {stats['test_infill_nll']:.4f}; exported to {weights}")
    save_checkpoint(ckpt, net, opt, state)
    (ckpt.parent / "log.json").write_text(json.dumps(state["log"], indent=1))


def main(out, weights, data, init, minutes, batch, context, dim, layers, heads, lr, eval_every, threads,
         device, accompaniment_weight=1.0, nproc=None) -> None:  # fmt: skip
    """`scorehost train mmm` (its options are in commands.py), on --nproc processes."""
    device = choose_device(device)
    net_config = {"context": context, "dim": dim, "layers": layers, "heads": heads}
    given = dict(out=out, weights=weights, data=data, minutes=minutes, batch=batch, net_config=net_config,
                 lr=lr, eval_every=eval_every, threads=threads, init=init,
                 accompaniment_weight=accompaniment_weight)  # fmt: skip
    launch(_process, nproc, device, batch, **given)


def _process(ranks: Ranks, **given) -> None:
    state = train(**given, device=ranks.device, ranks=ranks)
    if ranks.main:
        click.echo(f"done: {state['step']} steps, best valid infill NLL {state['best_valid']:.4f}")
