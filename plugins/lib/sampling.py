"""Batched, grammar-masked sampling with a KV cache.

Each row of the batch is one sequence (a variation of a request, or another request for the
same model): its prompt, then one filled bar per placeholder, each drawn under the mask of
its BarGrammar. Rows advance in lockstep, one forward pass per step for the whole batch; a
row that starts its next bar feeds two tokens (FillBar_End, FillBar_Start) while the others
feed one, so new tokens are left-padded within the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .grammar import BarGrammar, BarSpec
from .transformer import GPT, KVCache
from .vocab import Vocab


@dataclass
class Row:
    prompt: list[int]
    bars: list[BarSpec]
    seed: int
    grammars: list[BarGrammar] = field(default_factory=list)
    log_prob: float = 0.0  # of the drawn tokens, under the network's unmasked distribution
    drawn: int = 0  # tokens drawn (log_prob / drawn ranks candidates)
    length: int = 0  # tokens in the sequence so far
    truncated: bool = False  # ran out of context: the remaining bars were left empty

    @property
    def finished(self) -> bool:
        return len(self.grammars) == len(self.bars) and (not self.grammars or self.grammars[-1].done)


@dataclass(frozen=True)
class Sampling:
    temperature: float = 1.0
    top_p: float = 0.95


@torch.no_grad()
def sample_rows(
    net: GPT,
    vocab: Vocab,
    rows: list[Row],
    sampling: Sampling,
    progress: Callable[[float], bool | None] | None = None,
    expected_tokens: int = 200,
    cache: KVCache | None = None,
) -> None:
    """Fill every row's bars in place (row.grammars hold the notes). progress() is called
    every few steps; when it returns False, sampling stops where it is.

    cache: the network's own cache for these rows (one that carries more than keys and
    values, such as the theme network's encoded themes); a new KVCache by default. It must
    hold the rows with bars, in order."""
    rows = [r for r in rows if r.bars]
    if not rows:
        return
    device = next(net.parameters()).device
    pad, start = vocab["PAD_None"], vocab["FillBar_Start"]
    generators = [torch.Generator().manual_seed(r.seed) for r in rows]
    for row in rows:
        row.grammars = [BarGrammar(row.bars[0], vocab)]
        row.length = len(row.prompt) + 1
    cache = KVCache(len(net.blocks)) if cache is None else cache
    feeds = [r.prompt + [start] for r in rows]
    steps = 0
    limit = net.config.context - 2
    while feeds is not None:
        tokens, valid = _left_padded(feeds, pad, device)
        logits = net.step(tokens, valid, cache).float().cpu()
        feeds = _draw(rows, logits, generators, vocab, sampling, limit)
        steps += 1
        if (
            progress is not None
            and steps % 8 == 0
            and progress(min(0.99, steps / max(expected_tokens, 1))) is False
        ):
            return  # every job of the batch was cancelled or ran out of time


def job_reporter(jobs: list, k: int, rounds: int) -> Callable[[float], bool]:
    """progress() for sample_rows in pass k of `rounds`, reporting to every job of the batch
    (each with .job, its JobContext, and .stopped, the error that stopped it or None): a job
    cancelled or out of time is marked stopped; False once all of them have stopped."""

    def report(fraction: float) -> bool:
        from scorehost.core.errors import ScorehostError

        for j in jobs:
            if j.stopped:
                continue
            try:
                j.job.progress((k + fraction) / rounds)
            except ScorehostError as exc:
                j.stopped = exc
        return not all(j.stopped for j in jobs)

    return report


def _draw(rows, logits, generators, vocab: Vocab, sampling: Sampling, limit: int) -> list[list[int]] | None:
    feeds: list[list[int]] = []
    kinds = torch.from_numpy(vocab.kind_ids)
    for row, row_logits, gen in zip(rows, logits, generators, strict=True):
        if row.finished:
            feeds.append([])
            continue
        grammar = row.grammars[-1]
        mask = torch.from_numpy(grammar.allowed())
        if row.length >= limit:  # no room left: close this bar, leave the rest empty
            mask[:] = False
            mask[vocab["FillBar_End"]] = True
            row.truncated = True
        copy = (*grammar.copy.suggestion(), kinds) if grammar.copy else None
        token = _sample(row_logits, mask, gen, sampling, copy)
        row.log_prob += float(torch.log_softmax(row_logits, -1)[token])
        row.drawn += 1
        grammar.advance(token)
        feed = [token]
        if grammar.done:
            if row.truncated:
                row.grammars += [_closed(b, vocab) for b in row.bars[len(row.grammars) :]]
            elif len(row.grammars) < len(row.bars):
                row.grammars.append(BarGrammar(row.bars[len(row.grammars)], vocab))
                feed.append(vocab["FillBar_Start"])
        feeds.append([] if row.finished else feed)
        row.length += len(feed)
    return feeds if any(feeds) else None


def _sample(
    logits: torch.Tensor,
    mask: torch.Tensor,
    gen: torch.Generator,
    sampling: Sampling,
    copy: tuple[int, float, float, torch.Tensor] | None = None,
) -> int:
    """One token among the allowed ones. copy: (token, weight, exact, kind ids) from the bar's
    Copy: the network's nucleus and the copy's distribution mixed, weight the copy's share."""
    allowed = torch.nonzero(mask).flatten()
    if len(allowed) == 1:
        return int(allowed[0])
    scaled = logits[allowed] / max(sampling.temperature, 1e-4)
    probs = torch.softmax(scaled, -1)
    if sampling.top_p < 1.0:
        ordered, order = probs.sort(descending=True)
        keep = ordered.cumsum(0) - ordered < sampling.top_p  # the smallest set reaching top_p
        probs = torch.zeros_like(probs).scatter(0, order[keep], ordered[keep])
    if copy is not None and copy[1] > 0:
        probs = _with_copy(probs / probs.sum(), allowed, *copy)
    return int(allowed[torch.multinomial(probs, 1, generator=gen)])


def _with_copy(
    probs: torch.Tensor, allowed: torch.Tensor, token: int, weight: float, exact: float, kinds: torch.Tensor
) -> torch.Tensor:
    """(1 - weight) * the network + weight * the copy, where the copy puts `exact` on the
    source's token and the rest on the network's own choice among tokens of its kind: all of
    it when the grammar forbids the token itself (a chord's next pitch below the one drawn),
    so the event (one more note here) is still repeated. The network alone if neither is allowed."""
    where = torch.nonzero(allowed == token).flatten()
    same = kinds[allowed] == kinds[token]
    within = probs[same].sum()
    if not len(where):
        exact = 0.0
    if within <= 0 and not len(where):
        return probs
    copy = torch.zeros_like(probs)
    if exact < 1 and within > 0:
        copy[same] = (1 - exact) * probs[same] / within
    else:
        exact = 1.0
    if len(where):
        copy[where] += exact
    return (1 - weight) * probs + weight * copy


def _closed(spec: BarSpec, vocab: Vocab) -> BarGrammar:
    grammar = BarGrammar(spec, vocab)
    grammar.phase = "end"
    return grammar


def _left_padded(feeds: list[list[int]], pad: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(1, max(len(f) for f in feeds))
    tokens = np.full((len(feeds), width), pad, dtype=np.int64)
    valid = np.zeros((len(feeds), width), dtype=bool)
    for i, feed in enumerate(feeds):
        if feed:
            tokens[i, width - len(feed) :] = feed
            valid[i, width - len(feed) :] = True
    return torch.from_numpy(tokens).to(device), torch.from_numpy(valid).to(device)
