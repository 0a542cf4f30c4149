"""Annealed blocked pseudo-Gibbs sampling over the writable cells of a Problem.

Each iteration hides a random block of writable cells (all of them at first, then a
shrinking fraction, as in Coconet), asks the network for every hidden cell given all the
others, and samples each from its distribution at the current temperature, restricted to
the tokens its constraints allow. Long scores are cut into windows the network was trained
on, tiled with a random offset each iteration; every window of every variation goes
through the network in one batch. Each variation draws from its own seeded generator.
With critic weights, each hidden cell's tokens are charged for the faults they would make with
the other voices as they stand at the start of the sweep (critic.py: parallels, chords on the
beats, cadences, cross-relations, melodic intervals, spacing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .critic import Context, Weights, costs
from .encoding import FIRST_PITCH, HOLD, MASK, META_PAD, PAD, REST
from .network import CellTransformer
from .problem import Problem


@dataclass(frozen=True)
class Schedule:
    iterations: int = 48
    temperature_start: float = 1.0
    temperature_end: float = 0.5
    mask_max: float = 1.0
    mask_min: float = 0.05
    mask_decay: float = 0.75  # the mask fraction reaches mask_min after this share of iterations
    rest_bias: float = 0.0  # added to the REST logit when sampling (negative: fewer rests)
    critic: Weights = Weights()  # subtracted from a token's logit per fault it would make
    polish: int = 4  # with a critic: last sweeps that redraw only the notes still at fault

    def mask_fraction(self, n: int) -> float:
        span = max(1.0, self.mask_decay * self.iterations)
        return max(self.mask_min, self.mask_max - n * (self.mask_max - self.mask_min) / span)

    def temperature(self, n: int) -> float:
        if self.iterations <= 1:
            return self.temperature_end
        ratio = self.temperature_end / self.temperature_start
        return self.temperature_start * ratio ** (n / (self.iterations - 1))


@dataclass(frozen=True)
class Windows:
    """One chain's windows for a sweep's forward pass, and where its hidden cells are in them."""

    tokens: torch.Tensor  # (tiles, 4, width): the state, MASK where hidden, PAD off the score
    metas: torch.Tensor  # (tiles, META, width)
    hidden: torch.Tensor  # (tiles, 4, width) bool
    voices: torch.Tensor  # (cells,): the hidden cells, tile by tile, voice by voice, step by step
    steps: torch.Tensor  # (cells,)
    counts: list[int]  # hidden cells per tile


class Chain:
    """One variation of one problem: its state, generator and running log-probabilities."""

    def __init__(self, problem: Problem, seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.state = torch.from_numpy(problem.grid.copy())
        self.logp = torch.zeros(problem.grid.shape)
        self.writable = torch.from_numpy(problem.writable)
        self.allowed = torch.from_numpy(problem.allowed)
        self.meta = torch.from_numpy(problem.meta)
        self.vocab = problem.vocab
        self.context = Context.of(problem)
        columns = np.flatnonzero(problem.writable.any(axis=0))
        self.first, self.last = int(columns[0]), int(columns[-1]) + 1
        self.mask = self.before = torch.empty(0)
        # per cell and token; only the cells hidden in a sweep are read, and each sweep writes them
        self.probs = torch.zeros(self.allowed.shape)  # what each hidden cell was drawn from
        self.cost = torch.zeros(self.allowed.shape)  # what the critic charges each hidden cell's tokens
        self.charged = False

    def begin_sweep(self, fraction: float, critic: Weights | None = None) -> None:
        self._begin(_choose(self.writable, fraction, self.gen))
        if critic:
            voices, steps = np.nonzero(self.mask.numpy())
            self._charge(voices, steps, self._costs(voices, steps, critic))
        elif self.charged:  # a sweep without the critic after one with it
            self.cost.zero_()
            self.charged = False

    def _costs(self, voices: np.ndarray, steps: np.ndarray, critic: Weights) -> np.ndarray:
        return costs(self.state.numpy(), voices, steps, self.context, self.vocab, critic)

    def begin_polish(self, critic: Weights, spacing: int) -> None:
        """Mask the written cells whose values the critic still charges, the dearest first, at
        most one per `spacing` steps: a blocked sweep charges each cell against the others' old values, so two
        voices redrawn together can still fall into faults; cells this far apart cannot."""
        state = self.state.numpy()
        voices, steps = np.nonzero(self.writable.numpy())
        counts = self._costs(voices, steps, critic)
        charged = counts[np.arange(len(steps)), state[voices, steps]]
        faulty = np.flatnonzero(charged > 0)
        chosen: list[int] = []
        for i in faulty[np.argsort(-charged[faulty], kind="stable")]:  # the dearest first
            if all(abs(steps[i] - steps[j]) >= spacing for j in chosen):
                chosen.append(i)
        mask = torch.zeros(self.writable.shape, dtype=torch.bool)
        mask[voices[chosen], steps[chosen]] = True
        self._begin(mask)
        self._charge(voices[chosen], steps[chosen], counts[chosen])

    def _begin(self, mask: torch.Tensor) -> None:
        self.mask = mask
        self.before = self.state.clone()

    def _charge(self, voices: np.ndarray, steps: np.ndarray, charges: np.ndarray) -> None:
        """Charge the tokens of cells (voices[i], steps[i]) what the critic charges them."""
        self.cost[voices, steps] = torch.from_numpy(charges).float()
        self.charged = True

    def windows(self, width: int) -> Windows:
        """This sweep's windows: tiles of `width` steps over the written columns, with a
        random offset, those without a hidden cell left out."""
        starts = torch.tensor(_tiles(self.first, self.last, width, self.gen))
        columns = starts[:, None] + torch.arange(width)  # (tiles, width)
        inside = (columns >= 0) & (columns < self.state.shape[1])
        at = columns.clamp(0, self.state.shape[1] - 1)
        hidden = (self.mask[:, at] & inside).transpose(0, 1)  # (tiles, 4, width)
        kept = hidden.flatten(1).any(1)
        hidden, at, inside = hidden[kept], at[kept], inside[kept]
        tokens = torch.where(inside, torch.where(self.mask, MASK, self.state)[:, at], PAD)
        pad = torch.tensor(META_PAD, dtype=self.meta.dtype)[:, None, None]
        metas = torch.where(inside, self.meta[:, at], pad)
        tile, voices, column = torch.nonzero(hidden, as_tuple=True)  # tile by tile, voice by voice
        return Windows(
            tokens.transpose(0, 1),
            metas.transpose(0, 1),
            hidden,
            voices,
            at[tile, column],
            hidden.sum((1, 2)).tolist(),
        )

    def end_sweep(self) -> None:
        _repair(self.state, self.before, self.probs, self.mask, self.writable, self.allowed, self.gen)

    def log_prob(self) -> float:
        return float(self.logp[self.writable].sum())


@torch.no_grad()
def run_chains(
    net: CellTransformer,
    chains: list[Chain],
    schedule: Schedule,
    progress: Callable[[float], list[Chain]] | None = None,
) -> None:
    """Sweep every chain schedule.iterations times (then the polish sweeps, with a critic), all
    windows of all chains in one batch per sweep.

    progress(fraction) returns the chains still wanted (a cancelled job's chains drop out)."""
    device = next(net.parameters()).device
    width = net.config.window
    total = schedule.iterations + (schedule.polish if schedule.critic else 0)
    for n in range(total):
        chains = progress(n / total) if progress else chains
        if not chains:
            return
        for chain in chains:
            if n < schedule.iterations:
                chain.begin_sweep(schedule.mask_fraction(n), schedule.critic)
            else:
                chain.begin_polish(schedule.critic, spacing=width // 2)
        windows = [chain.windows(width) for chain in chains]
        if not any(w.counts for w in windows):  # nothing left to polish
            break
        tokens = torch.cat([w.tokens for w in windows])
        metas = torch.cat([w.metas for w in windows])
        hidden = torch.cat([w.hidden for w in windows])
        logits = net(tokens.to(device), metas.to(device), hidden.to(device)).float().cpu()
        _sample(chains, windows, logits, schedule, min(n, schedule.iterations - 1))
        for chain in chains:
            chain.end_sweep()
    if progress:
        progress(1.0)


def gibbs(
    net: CellTransformer,
    problem: Problem,
    seeds: list[int],
    schedule: Schedule,
    progress: Callable[[float], None] = lambda _: None,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample len(seeds) grids; return them (B, 4, T) and each one's log-probability of its written cells."""
    chains = [Chain(problem, seed) for seed in seeds]

    def report(fraction: float) -> list[Chain]:
        progress(fraction)
        return chains

    run_chains(net, chains, schedule, report)
    return np.stack([c.state.numpy() for c in chains]), np.array([c.log_prob() for c in chains])


def _choose(writable: torch.Tensor, fraction: float, gen: torch.Generator) -> torch.Tensor:
    mask = writable & (torch.rand(writable.shape, generator=gen) < fraction)
    if not mask.any():  # always resample at least one cell
        cells = torch.nonzero(writable)
        mask[tuple(cells[int(torch.randint(len(cells), (1,), generator=gen))])] = True
    return mask


def _tiles(first: int, last: int, width: int, gen: torch.Generator) -> list[int]:
    """Window starts covering steps [first, last), with a random offset."""
    start = first - int(torch.randint(width, (1,), generator=gen)) if last - first > width else first
    return list(range(start, last, width))


def _sample(
    chains: list[Chain], windows: list[Windows], cell_logits: torch.Tensor, schedule: Schedule, n: int
) -> None:
    """Sample the hidden cells of every chain from their logits (cells, V), window after window:
    all cells at once, but each tile's cells drawn from its chain's generator in one draw, tile
    after tile, as when a tile was sampled at a time (so a seed gives what it gave)."""
    pairs = list(zip(chains, windows, strict=True))
    allowed = torch.cat([c.allowed[w.voices, w.steps] for c, w in pairs])
    cell_logits = cell_logits.masked_fill(~allowed, -torch.inf)
    biased = cell_logits - torch.cat([c.cost[w.voices, w.steps] for c, w in pairs])
    biased[:, REST] += schedule.rest_bias
    probs = torch.softmax(biased / schedule.temperature(n), dim=-1)
    log_probs = torch.log_softmax(cell_logits, -1)
    done = 0
    for chain, w in pairs:
        cells = sum(w.counts)
        if not cells:
            continue
        chain_probs = probs[done : done + cells]
        chosen = torch.cat(
            [torch.multinomial(tile, 1, generator=chain.gen) for tile in torch.split(chain_probs, w.counts)]
        )
        chain.state[w.voices, w.steps] = chosen.squeeze(1)
        chain.probs[w.voices, w.steps] = chain_probs
        chain.logp[w.voices, w.steps] = log_probs[done : done + cells].gather(1, chosen).squeeze(1)
        done += cells


def _repair(state, before, probs, mask, writable, allowed, gen) -> None:
    """A written HOLD right after a REST would continue silence. A cell sampled this sweep is
    drawn again without HOLD; one that was not re-strikes the pitch it was holding."""
    bad = writable[:, 1:] & (state[:, 1:] == HOLD) & (state[:, :-1] == REST)
    for voice, step in (torch.nonzero(bad) + torch.tensor([0, 1])).tolist():
        if state[voice, step - 1] != REST:  # an earlier repair already fixed it
            continue
        weights = probs[voice, step].clone()
        weights[HOLD] = 0
        if mask[voice, step] and weights.sum() > 0:
            state[voice, step] = int(torch.multinomial(weights, 1, generator=gen))
        else:
            state[voice, step] = _struck(before[voice], step, allowed[voice, step])


def _struck(row: torch.Tensor, step: int, allowed: torch.Tensor) -> int:
    """The pitch token a HOLD at step was holding in row, if it may be written there; else REST."""
    while step > 0 and row[step] == HOLD:
        step -= 1
    token = int(row[step])
    return token if token >= FIRST_PITCH and allowed[token] else REST
