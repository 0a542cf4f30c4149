"""The deepbach Model: SATB chorale inpainting by annealed pseudo-Gibbs sampling.

Registering and listing the model import neither numpy nor torch: the encoding (numpy) is
imported when a request is checked, the sampler and the network (torch) when it is sampled.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import Field

from scorehost.core.errors import ScorehostError
from scorehost.core.model import Capabilities, JobContext, Model
from scorehost.core.regions import merge_result
from scorehost.core.requests import EditRequest, Options, Variation

from .weights import WEIGHTS_DIR, load_config, load_network

if TYPE_CHECKING:
    from .critic import Weights
    from .encoding import Vocab
    from .problem import Problem
    from .sampler import Chain, Schedule


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

    parallel_penalty: float = Field(
        default=5.0,
        ge=0,
        le=50,
        description="Subtracted from a note's logit for each parallel fifth or octave (similar or contrary "
        "motion) it would make with the other voices: a soft voice-leading rule, since the network alone "
        "writes many more parallels than Bach. 0 samples the network as trained.",
    )
    harmony_penalty: float = Field(
        default=1.5,
        ge=0,
        le=50,
        description="Per beat where a note would make the sounding notes neither a triad nor a seventh chord "
        "(nor an incomplete one). 0: the network alone.",
    )
    cadence_penalty: float = Field(
        default=3.0,
        ge=0,
        le=50,
        description="Per fault of a cadence: under a fermata and in the final chord, a root-position major or "
        "minor chord, on the tonic at the end, reached from a root-position chord a fifth above or below "
        "(V-I, IV-I). 0: the network alone.",
    )
    leading_tone_penalty: float = Field(
        default=1.0,
        ge=0,
        le=50,
        description="When the key's leading tone just before a cadence chord does not rise to the tonic. "
        "0: the network alone.",
    )
    cross_relation_penalty: float = Field(
        default=2.0,
        ge=0,
        le=50,
        description="Per voice sounding the same letter with another accidental (B against B flat) in the "
        "chord or the chords on either side. 0: the network alone.",
    )
    melodic_penalty: float = Field(
        default=2.0,
        ge=0,
        le=50,
        description="Per augmented melodic interval or leap over an octave into or out of a note. "
        "0: the network alone.",
    )
    spacing_penalty: float = Field(
        default=0.5,
        ge=0,
        le=50,
        description="Per voice crossing, or more than an octave between soprano and alto or alto and tenor. "
        "0: the network alone.",
    )

    rhythm_penalty: float = Field(
        default=2.0,
        ge=0,
        le=50,
        description="Per alto, tenor or bass note struck off the eighth-note grid and held on, or rest of one "
        "sixteenth between notes. 0: the network alone.",
    )

    final_tonic_bass: bool = Field(
        default=True,
        description="A hard rule: when a melody's ending is harmonized and the bass is written under it (not "
        "pinned), the bass of the final chord (from the beat of the melody's last note) sounds the tonic the melody "
        "ends in (critic.ending_tonic: the key's, or the melody's last note after a modal ending). "
        "False leaves it to cadence_penalty.",
    )

    def critic(self) -> Weights:
        from .critic import Weights

        return Weights(
            parallel=self.parallel_penalty,
            harmony=self.harmony_penalty,
            cadence=self.cadence_penalty,
            leading_tone=self.leading_tone_penalty,
            cross_relation=self.cross_relation_penalty,
            melodic=self.melodic_penalty,
            spacing=self.spacing_penalty,
            rhythm=self.rhythm_penalty,
        )

    def schedule(self) -> Schedule:
        from .sampler import Schedule

        return Schedule(
            self.iterations,
            self.temperature_start,
            self.temperature_end,
            rest_bias=-self.rest_penalty,
            critic=self.critic(),
        )


@dataclass
class _Item:
    """One request of a batch, ready to sample."""

    request: EditRequest
    shifted: EditRequest
    shift: int
    problem: Problem
    seeds: list[int]
    job: JobContext
    chains: list[Chain]
    stopped: ScorehostError | None = None  # cancelled or timed out


class DeepBach(Model):
    model_id = "deepbach"
    description = "Four-part (SATB) chorale inpainting: harmonize a melody or rewrite any cells of a chorale."
    capabilities = Capabilities(
        constraints=frozenset({"pinned_notes", "pitch_range", "pitch_classes", "keep_rhythm"}),
        new_tracks=True,
        roles=("soprano", "alto", "tenor", "bass"),
        tags=("harmonize", "infill", "chorale"),
    )
    Options = DeepBachOptions
    uses_accelerator = True
    max_batch = 16
    concurrent = True  # chains and their generators are per request; the network is only read

    def __init__(self, weights: Path = WEIGHTS_DIR, net=None, vocab: Vocab | None = None) -> None:
        super().__init__()
        self.weights = weights
        self.net, self.vocab = net, vocab

    def load(self, device: str) -> None:
        if self.net is None:
            self.net, self.vocab = load_network(device, self.weights)
        else:
            self.net = self.net.to(device).eval()
        self.device = device

    def _vocabulary(self) -> Vocab:
        from .encoding import Vocab

        if self.vocab is None:  # cheap: the JSON beside the weights, not the weights
            self.vocab = Vocab.from_json(load_config(self.weights)["vocab"])
        return self.vocab

    def check(self, request: EditRequest, options: Options) -> None:
        """Refuse bad requests before they are queued: every problem build_problem can find."""
        from .problem import build_problem
        from .transpose import melody_shift, transpose_request

        super().check(request, options)
        shift = melody_shift(request, self._vocabulary())
        shifted = transpose_request(request, shift) if shift else request
        build_problem(shifted, self._vocabulary(), shift, options.final_tonic_bass)

    def inpaint(self, request: EditRequest, options: DeepBachOptions, job: JobContext) -> list[Variation]:
        return self.inpaint_batch([(request, options, job)])[0]

    def inpaint_batch(self, items: list[tuple[EditRequest, Options, JobContext]]) -> list[list[Variation]]:
        """Requests with the same schedule share every forward pass; a cancelled one drops out."""
        from .sampler import run_chains

        if self.net is None:
            self.load(getattr(items[0][2], "device", None) or "cpu")
        prepared = [self._prepare(request, options, job) for request, options, job in items]
        groups: dict[Schedule, list[_Item]] = {}
        for item, (_, options, _) in zip(prepared, items, strict=True):
            groups.setdefault(options.schedule(), []).append(item)
        for schedule, group in groups.items():
            run_chains(self.net, [c for item in group for c in item.chains], schedule, _reporter(group))
        if all(item.stopped for item in prepared):
            raise prepared[0].stopped
        return [self._variations(item) for item in prepared]

    def _prepare(self, request: EditRequest, options: DeepBachOptions, job: JobContext) -> _Item:
        from .problem import build_problem, compound_warning
        from .sampler import Chain
        from .transpose import melody_shift, silent_melody, transpose_request

        for warning in (silent_melody(request), compound_warning(request)):
            if warning is not None:
                job.warn(warning)
        shift = melody_shift(request, self.vocab)
        if shift:
            job.warn(
                f"the melody was transposed {shift:+d} semitones into the soprano range for sampling, and back; "
                "the voices written under it were kept inside their ranges at the melody's own pitch"
            )
        shifted = transpose_request(request, shift) if shift else request
        problem = build_problem(shifted, self.vocab, shift, options.final_tonic_bass)
        seeds = options.seeds()
        return _Item(request, shifted, shift, problem, seeds, job, [Chain(problem, seed) for seed in seeds])

    def _variations(self, item: _Item) -> list[Variation]:
        from .problem import to_score
        from .transpose import transpose_score

        if item.stopped:
            return []  # the engine reports why when it checks the job
        out = []
        for chain, seed in zip(item.chains, item.seeds, strict=True):
            score = to_score(item.problem, chain.state.numpy(), self.vocab, item.shifted)
            if item.shift:
                score = merge_result(
                    item.request.score, transpose_score(score, -item.shift), item.request.regions
                )
            out.append(Variation(score=score, log_prob=chain.log_prob(), seed=seed))
        return out


def _reporter(group: list[_Item]):
    """progress() for run_chains: report to every job; drop the chains of jobs that stopped."""

    def report(fraction: float) -> list[Chain]:
        for item in group:
            if not item.stopped:
                try:
                    item.job.progress(fraction)
                except ScorehostError as exc:
                    item.stopped = exc
        return [c for item in group if not item.stopped for c in item.chains]

    return report
