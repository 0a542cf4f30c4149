"""The mmm Model: bar and track infilling for multi-track material, by grammar-masked
autoregressive decoding of MMM sequences (see sequence.py and plan.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scorehost.core.errors import ScorehostError
from scorehost.core.model import Capabilities, JobContext, Model
from scorehost.core.requests import EditRequest, Options, Variation

from .options import MMMOptions
from .weights import WEIGHTS_DIR, load_network, load_vocab

if TYPE_CHECKING:  # numpy and torch load once a request is checked or served, not for listings
    from .constraints import TrackRules
    from .plan import Pass
    from .window import Working


@dataclass
class _Job:
    """One request of a batch, with one working score per variation."""

    request: EditRequest
    options: MMMOptions
    job: JobContext
    passes: list[Pass]
    rules: dict[int, TrackRules]
    variations: list[Working] = field(default_factory=list)
    candidates: list[list[Working]] = field(default_factory=list)  # per variation, itself first
    stopped: ScorehostError | None = None


class MMM(Model):
    model_id = "mmm"
    description = (
        "Multi-track bar and track infilling (MMM): fill bars of any tracks or write a new track "
        "(drums included), steered by density, polyphony, range, pitch classes and instrument."
    )
    capabilities = Capabilities(
        constraints=frozenset(
            {
                "pitch_range",
                "pitch_classes",
                "note_density",
                "polyphony",
                "instrument",
                "pinned_notes",
                "keep_rhythm",
            }
        ),
        new_tracks=True,
        drums=True,
        tags=("infill", "add-track", "multi-track"),
    )
    Options = MMMOptions
    uses_accelerator = True
    max_batch = 16

    def __init__(self, weights: Path = WEIGHTS_DIR, net=None, vocab=None) -> None:
        super().__init__()
        self.weights, self.net, self.vocab = weights, net, vocab

    def load(self, device: str) -> None:
        if self.net is None:
            self.net, self.vocab = load_network(device, self.weights)
        else:
            self.net = self.net.to(device).eval()
        self.device = device

    def _vocabulary(self):
        if self.vocab is None:  # cheap: the JSON beside the weights
            self.vocab = load_vocab(self.weights)
        return self.vocab

    def check(self, request: EditRequest, options: Options) -> None:
        from .constraints import rules_for
        from .window import check_meters

        super().check(request, options)
        check_meters(request, self._vocabulary())
        rules_for(request, self._vocabulary())

    def inpaint(self, request: EditRequest, options: MMMOptions, job: JobContext) -> list[Variation]:
        result = self.inpaint_batch([(request, options, job)])[0]
        if isinstance(result, ScorehostError):
            raise result
        return result

    def inpaint_batch(self, items) -> list[list[Variation] | ScorehostError]:
        if self.net is None:
            self.load(getattr(items[0][2], "device", None) or "cpu")
        from .window import Working

        jobs = [self._prepare(*item) for item in items]
        self._decode(jobs, [(j, w) for j in jobs for group in j.candidates for w in group])
        for j in jobs:
            j.variations = [max(group, key=Working.mean_log_prob) for group in j.candidates]
        self._redraw_duplicates(jobs)
        return [job.stopped or [w.variation() for w in job.variations] for job in jobs]

    def _prepare(self, request: EditRequest, options: MMMOptions, job: JobContext) -> _Job:
        from .constraints import rules_for
        from .plan import plan_passes
        from .window import Working

        vocab = self._vocabulary()
        rules = rules_for(request, vocab)
        passes = plan_passes(request.score, request.regions, options.context_bars)
        prepared = _Job(request, options, job, passes, rules)
        for seed in options.seeds():  # random seeds when none is given: draw them once
            group = [
                Working.start(request, rules, options, candidate_seed(seed, c))
                for c in range(options.candidates)
            ]
            for w in group:
                w.reported_seed = seed
            prepared.candidates.append(group)
        return prepared

    def _decode(self, jobs: list[_Job], rows: list[tuple[_Job, Working]]) -> None:
        """Run pass k of every variation of every job together, for k = 0, 1, ..."""
        from scorehost.plugins.lib.sampling import Sampling, job_reporter, sample_rows

        from .window import build_rows, take_notes

        rounds = max((len(j.passes) for j in jobs), default=0)
        for k in range(rounds):
            live = [(j, w) for j, w in rows if k < len(j.passes) and not j.stopped]
            if not live:
                break
            built = [
                build_rows(w, j.passes[k], j.rules, self.vocab, self.net.config.context) for j, w in live
            ]
            groups: dict[Sampling, list[int]] = {}
            for i, (j, _) in enumerate(live):
                groups.setdefault(Sampling(j.options.temperature, j.options.top_p), []).append(i)
            for sampling, indices in groups.items():
                batch_rows = [built[i][0] for i in indices]
                sample_rows(
                    self.net,
                    self.vocab,
                    batch_rows,
                    sampling,
                    job_reporter([live[i][0] for i in indices], k, rounds),
                )
            for (j, w), (row, specs) in zip(live, built, strict=True):
                if j.stopped:  # cancelled or out of time: its rows may be half drawn
                    continue
                take_notes(w, row, specs, j.passes[k], j.rules)
                if row.truncated:
                    j.job.warn("a fill ran out of the model's context; some bars were left empty")

    def _redraw_duplicates(self, jobs: list[_Job], attempts: int = 3) -> None:
        """Variations of one request must differ: redraw a repeat with a new seed."""
        for attempt in range(1, attempts + 1):
            repeats = []
            for j in jobs:
                seen: set = set()
                for w in j.variations:
                    key = w.written_key()
                    if key in seen:
                        w.reset(w.seed + 7919 * attempt)
                        repeats.append((j, w))
                    seen.add(key)
            if not repeats:
                return
            self._decode(jobs, repeats)
        for j in jobs:
            if len({w.written_key() for w in j.variations}) < len(j.variations):
                j.job.warn("the regions leave too little freedom for every variation to differ")


def candidate_seed(seed: int, candidate: int) -> int:
    """Candidate 0 is the variation's own seed, so candidates=1 draws what it always drew."""
    return (seed + candidate * 1_000_003) % 2**32
