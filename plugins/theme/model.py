"""The theme Model: develops a theme in the regions by grammar-masked decoding of theme windows
(sequence.py), the theme read by the network's encoder, or as a prefix by the prompt baseline.

A request's written bars are filled in passes of up to FILL_BARS bars, left to right, each
reading up to `context_bars` bars before it (final by then) and after it (where no later pass
writes), as in training (a window holds at most 8 bars). Bars of the context where the theme
recurs are marked as occurrences; in the fills the network writes the markers itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from scorehost.core.errors import ScorehostError
from scorehost.core.model import Capabilities, JobContext, Model
from scorehost.core.requests import EditRequest, Options, Variation

from .weights import STEM, THEME_CONTEXT, WEIGHTS_DIR, load_network, load_vocab

if TYPE_CHECKING:
    from .rules import ThemeChoice, TrackRules

FILL_BARS = 4
WINDOW_BARS = 8  # as in training: a window never holds more bars than the network learned on


class ThemeOptions(Options):
    temperature: float = Field(default=1.0, gt=0, le=3, description="Sampling temperature.")
    top_p: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="Nucleus sampling: draw from the smallest set of tokens this likely.",
    )
    context_bars: int = Field(
        default=4,
        ge=0,
        le=6,
        description="Bars of context read on each side of the bars being filled, at most.",
    )


@dataclass(frozen=True)
class Pass:
    fill: tuple[int, ...]  # bar indices written in this pass
    before: tuple[int, ...]
    after: tuple[int, ...]


@dataclass
class Working:
    """One variation being written: notes per track (the regions emptied, then refilled)."""

    seed: int
    tracks: list[list]
    sounding: dict
    done: set[tuple[int, int]] = field(default_factory=set)  # (track, bar) written
    log_prob: float = 0.0


@dataclass
class _Job:
    request: EditRequest
    options: ThemeOptions
    job: JobContext
    theme: ThemeChoice
    theme_tokens: list[int]
    rules: dict[int, TrackRules]
    passes: list[Pass]
    marks: dict[int, tuple[bool, bool]]  # context bar -> (opens, closes) an occurrence
    variations: list[Working] = field(default_factory=list)
    stopped: ScorehostError | None = None


class ThemeModel(Model):
    model_id = "theme"
    description = (
        "Theme development (after Theme Transformer): writes the selected bars so that a theme "
        "(a span of the score, or the one retrieval finds before the region) comes back, varied."
    )
    capabilities = Capabilities(
        constraints=frozenset({"theme", "pitch_range", "pitch_classes", "instrument", "pinned_notes"}),
        new_tracks=True,
        tags=("develop", "theme", "infill"),
    )
    Options = ThemeOptions
    uses_accelerator = True
    max_batch = 16

    def __init__(self, weights: Path = WEIGHTS_DIR, net=None, vocab=None, stem: str = STEM) -> None:
        super().__init__()
        self.weights, self.net, self.vocab, self.stem = weights, net, vocab, stem

    @property
    def prompt_baseline(self) -> bool:
        """The baseline network reads the theme as a prefix (it has no encoder)."""
        return not hasattr(self.net, "encode") if self.net is not None else self.stem != STEM

    def load(self, device: str) -> None:
        if self.net is None:
            self.net, self.vocab = load_network(device, self.weights, self.stem)
        else:
            self.net = self.net.to(device).eval()
        self.device = device

    def _vocabulary(self):
        if self.vocab is None:
            self.vocab = load_vocab(self.weights, self.stem)
        return self.vocab

    def _theme_context(self) -> int:
        """The longest theme the network reads, in tokens (the baseline's is saved beside its
        network, whose config has none). Read from the saved config before the network loads:
        checking a request imports no torch (a server's first check would wait for it, and
        MuseScore gives up on a request after 30 s)."""
        if self.net is not None:
            return getattr(self.net.config, "theme_context", THEME_CONTEXT)
        from scorehost.plugins.lib.training import read_config

        saved = read_config(self.weights, self.stem)
        return saved["network"].get("theme_context", saved.get("theme_context", THEME_CONTEXT))

    def check(self, request: EditRequest, options: Options) -> None:
        from .rules import choose_theme, rules_for

        super().check(request, options)
        choose_theme(request, self._vocabulary(), self._theme_context())
        rules_for(request, self._vocabulary())

    def inpaint(self, request: EditRequest, options: ThemeOptions, job: JobContext) -> list[Variation]:
        result = self.inpaint_batch([(request, options, job)])[0]
        if isinstance(result, ScorehostError):
            raise result
        return result

    def inpaint_batch(self, items) -> list[list[Variation] | ScorehostError]:
        if self.net is None:
            self.load(getattr(items[0][2], "device", None) or "cpu")
        jobs: list[_Job | ScorehostError] = []
        for item in items:
            try:
                jobs.append(self._prepare(*item))
            except ScorehostError as exc:
                jobs.append(exc)
        live = [j for j in jobs if isinstance(j, _Job)]
        self._decode(live)
        return [j if isinstance(j, ScorehostError) else j.stopped or _variations(j) for j in jobs]

    def _prepare(self, request: EditRequest, options: ThemeOptions, job: JobContext) -> _Job:
        from .rules import choose_theme, rules_for, theme_tokens

        vocab = self._vocabulary()
        theme = choose_theme(request, vocab, self._theme_context())
        if theme.retrieved:
            job.warn(theme.describe(request.score))
        rules = rules_for(request, vocab)
        passes = plan_passes(request, rules, options.context_bars)
        prepared = _Job(request, options, job, theme, theme_tokens(request.score, theme, vocab), rules, passes,
                        context_marks(request, theme, rules))  # fmt: skip
        prepared.variations = [_start(request, rules, seed) for seed in options.seeds()]
        return prepared

    def _decode(self, jobs: list[_Job]) -> None:
        """Pass k of every variation of every job in one batch per sampling setting."""
        from scorehost.plugins.lib.sampling import Sampling, job_reporter, sample_rows

        from .window import build_row, take_notes

        rounds = max((len(j.passes) for j in jobs), default=0)
        for k in range(rounds):
            live = [(j, w) for j in jobs if k < len(j.passes) and not j.stopped for w in j.variations]
            built = [
                build_row(j, w, j.passes[k], self.vocab, self.net.config.context, self.prompt_baseline)
                for j, w in live
            ]
            groups: dict[Sampling, list[int]] = {}
            for i, (j, _) in enumerate(live):
                groups.setdefault(Sampling(j.options.temperature, j.options.top_p), []).append(i)
            for sampling, indices in groups.items():
                rows = [built[i][0] for i in indices]
                cache = None if self.prompt_baseline else self._cache([live[i][0] for i in indices])
                report = job_reporter([live[i][0] for i in indices], k, rounds)
                sample_rows(self.net, self.vocab, rows, sampling, report, cache=cache)
            for (j, w), (row, specs) in zip(live, built, strict=True):
                if not j.stopped:
                    take_notes(w, row, specs, j.rules)
                    if row.truncated:
                        j.job.warn("a fill ran out of the model's context; some bars were left empty")

    def _cache(self, jobs: list[_Job]):
        """The network's decoding cache for these rows: each row's theme, encoded once."""
        import torch

        themes = [j.theme_tokens for j in jobs]
        width = max(len(t) for t in themes)
        tokens = torch.full((len(themes), width), self.vocab["PAD_None"], dtype=torch.long)
        valid = torch.zeros((len(themes), width), dtype=torch.bool)
        for i, t in enumerate(themes):
            tokens[i, : len(t)], valid[i, : len(t)] = torch.tensor(t), True
        device = next(self.net.parameters()).device
        with torch.no_grad():
            return self.net.start(tokens.to(device), valid.to(device), self.vocab)


def _start(request: EditRequest, rules: dict[int, TrackRules], seed: int) -> Working:
    from scorehost.plugins.lib.grammar import Sounding

    tracks = [
        [n for n in track.notes if t not in rules or not any(s <= n.start < e for s, e in rules[t].spans)]
        for t, track in enumerate(request.score.tracks)
    ]
    return Working(seed, tracks, {t: Sounding() for t in rules})


def _variations(j: _Job) -> list[Variation]:
    from scorehost.core.score import Note

    score = j.request.score
    out = []
    for w in j.variations:
        tracks = [
            track.model_copy(update={"notes": sorted(w.tracks[t], key=Note.key)} | ({"program": j.rules[t].program} if t in j.rules else {}))
            for t, track in enumerate(score.tracks)
        ]  # fmt: skip
        out.append(
            Variation(score=score.model_copy(update={"tracks": tracks}), log_prob=w.log_prob, seed=w.seed)
        )
    return out


def plan_passes(request: EditRequest, rules: dict[int, TrackRules], context_bars: int) -> list[Pass]:
    """Runs of written bars cut into passes of FILL_BARS, each with the context it reads."""
    written = sorted({b for r in rules.values() for b in r.bars})
    runs: list[list[int]] = []
    for b in written:
        if runs and b == runs[-1][-1] + 1:
            runs[-1].append(b)
        else:
            runs.append([b])
    chunks = [run[i : i + FILL_BARS] for run in runs for i in range(0, len(run), FILL_BARS)]
    count = len(request.score.bars())
    out = []
    for n, chunk in enumerate(chunks):
        later = {b for c in chunks[n + 1 :] for b in c}
        room = WINDOW_BARS - len(chunk)
        after = []
        for b in range(chunk[-1] + 1, min(count, chunk[-1] + 1 + min(context_bars, room // 2))):
            if b in later:
                break
            after.append(b)
        before = tuple(range(max(0, chunk[0] - min(context_bars, room - len(after))), chunk[0]))
        out.append(Pass(tuple(chunk), before, tuple(after)))
    return out


def context_marks(
    request: EditRequest, theme: ThemeChoice, rules: dict[int, TrackRules]
) -> dict[int, tuple[bool, bool]]:
    """Bars of the context inside an occurrence of the theme (the theme's own bars, and where
    its line comes back outside the regions), as (opens, closes)."""
    from .retrieval import occurrences_of

    bars = request.score.bars()
    inside = [b.index for b in bars if b.start < theme.end and theme.start < b.end]
    written = {b for r in rules.values() for b in r.bars}
    firsts = [inside[0]] + occurrences_of(request.score, theme.tracks[0], inside[0], len(inside), written)
    marks: dict[int, tuple[bool, bool]] = {}
    for first in firsts:
        for b in range(first, min(first + len(inside), len(bars))):
            marks[b] = (b == first, b == first + len(inside) - 1)
    return marks
