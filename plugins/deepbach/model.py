"""The deepbach Model: SATB chorale inpainting by annealed pseudo-Gibbs sampling."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from scorehost.core.model import Capabilities, JobContext, Model
from scorehost.core.regions import merge_result
from scorehost.core.requests import EditRequest, Options, Variation

from .problem import build_problem, to_score
from .sampler import Schedule, gibbs
from .transpose import melody_shift, transpose_request, transpose_score
from .weights import WEIGHTS_DIR, load_network


class DeepBachOptions(Options):
    iterations: int = Field(default=48, ge=1, le=2000, description="Gibbs sweeps (blocked updates).")
    temperature_start: float = Field(
        default=1.0, gt=0, le=10, description="Sampling temperature at the first sweep."
    )
    temperature_end: float = Field(
        default=0.5, gt=0, le=10, description="Temperature at the last sweep (annealed geometrically)."
    )

    rest_penalty: float = Field(
        default=2.0,
        ge=0,
        le=20,
        description="Subtracted from the rest logit while sampling: silence is self-reinforcing under Gibbs "
        "sampling (a silent passage explains itself), and rare in chorales.",
    )

    def schedule(self) -> Schedule:
        return Schedule(
            self.iterations, self.temperature_start, self.temperature_end, rest_bias=-self.rest_penalty
        )


class DeepBach(Model):
    model_id = "deepbach"
    description = "Four-part (SATB) chorale inpainting: harmonize a melody or rewrite any cells of a chorale."
    capabilities = Capabilities(
        constraints=frozenset({"pinned_notes", "pitch_range", "pitch_classes", "keep_rhythm"}),
        new_tracks=True,
        max_tracks=None,
        roles=("soprano", "alto", "tenor", "bass"),
        tags=("harmonize", "infill", "chorale"),
    )
    Options = DeepBachOptions
    uses_accelerator = True

    def __init__(self, weights: Path = WEIGHTS_DIR, net=None, vocab=None) -> None:
        super().__init__()
        self.weights = weights
        self.net, self.vocab = net, vocab

    def load(self, device: str) -> None:
        if self.net is None:
            self.net, self.vocab = load_network(device, self.weights)
        else:
            self.net = self.net.to(device).eval()
        self.device = device

    def inpaint(self, request: EditRequest, options: DeepBachOptions, job: JobContext) -> list[Variation]:
        if self.net is None:
            self.load(getattr(job, "device", None) or "cpu")
        shift = melody_shift(request, self.vocab)
        if shift:
            job.warn(
                f"the melody was transposed {shift:+d} semitones into the soprano range for sampling, and back"
            )
        shifted = transpose_request(request, shift) if shift else request
        problem = build_problem(shifted, self.vocab)
        seeds = options.seeds()
        grids, log_probs = gibbs(self.net, problem, seeds, options.schedule(), job.progress)
        return [
            Variation(
                score=self._result(problem, grid, shifted, request, shift), log_prob=float(lp), seed=seed
            )
            for grid, lp, seed in zip(grids, log_probs, seeds, strict=True)
        ]

    def _result(self, problem, grid, shifted: EditRequest, request: EditRequest, shift: int):
        score = to_score(problem, grid, self.vocab, shifted)
        if not shift:
            return score
        return merge_result(request.score, transpose_score(score, -shift), request.regions)
