"""The base class every model plugin subclasses, and the job context it reports through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from .errors import RequestError, ScorehostError, UnsupportedConstraint
from .requests import EditRequest, Options, Variation


class JobContext(Protocol):
    """What a model sees of the job it runs in."""

    device: str

    def progress(self, fraction: float) -> None:
        """Report progress in 0..1; raises JobCancelled when the job was cancelled or timed out.
        Sampling loops call it once per step, so cancellation takes effect quickly."""

    def check(self) -> None:
        """Raise JobCancelled if the job should stop, without reporting progress."""

    def warn(self, message: str) -> None:
        """Add a warning to the result (e.g. 'melody transposed down an octave')."""


class LocalJob:
    """A JobContext for running a model outside the engine (evaluation, tests, scripts):
    it records progress and warnings and never cancels."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.fractions: list[float] = []
        self.warnings: list[str] = []

    def progress(self, fraction: float) -> None:
        self.fractions.append(fraction)

    def check(self) -> None:
        pass

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass(frozen=True)
class Capabilities:
    """What a model can be asked: the engine refuses anything else with a clear error."""

    constraints: frozenset[str] = frozenset()
    multi_track_regions: bool = True  # regions on several tracks in one request
    new_tracks: bool = False  # may write a track that is empty in the input
    drums: bool = False  # may write drum tracks
    max_tracks: int | None = None  # None: any number
    roles: tuple[str, ...] = ()  # track roles it needs to recognise (e.g. SATB), if any
    tags: tuple[str, ...] = field(default=())  # free words for listings: "harmonize", "infill"

    def as_dict(self) -> dict[str, Any]:
        return {
            "constraints": sorted(self.constraints),
            "multi_track_regions": self.multi_track_regions,
            "new_tracks": self.new_tracks,
            "drums": self.drums,
            "max_tracks": self.max_tracks,
            "roles": list(self.roles),
            "tags": list(self.tags),
        }


class Model:
    """A model: cheap to construct; load() brings weights onto a device on first use.

    Subclasses set model_id, description, capabilities and Options, and implement
    inpaint(). Models that can serve several requests in one forward pass set max_batch
    and override inpaint_batch(); models whose inpaint may run in several threads at once
    set concurrent, and the engine's CPU workers then serve them side by side.
    """

    model_id: ClassVar[str] = ""
    description: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    Options: ClassVar[type[Options]] = Options
    uses_accelerator: ClassVar[bool] = False  # True: runs on the engine's CUDA device when present
    max_batch: ClassVar[int] = 1
    # True: several of the engine's CPU workers may run it at once (its inpaint changes no
    # state that another call reads, as a network's forward pass under no_grad does not)
    concurrent: ClassVar[bool] = False

    def __init__(self) -> None:
        self.device: str | None = None

    # ---- loading --------------------------------------------------------------------------

    def load(self, device: str) -> None:
        """Load weights onto device. Called once, in the engine's worker, before first use."""
        self.device = device

    @property
    def loaded(self) -> bool:
        return self.device is not None

    # ---- checking -------------------------------------------------------------------------

    def check(self, request: EditRequest, options: Options) -> None:
        """Refuse, with a RequestError, what this model cannot do; called before queueing.
        Subclasses that override it call super().check() first."""
        self._check_capabilities(request)
        for i, constraint in enumerate(request.constraints):
            if constraint.type not in self.capabilities.constraints:
                honoured = ", ".join(sorted(self.capabilities.constraints)) or "none"
                raise UnsupportedConstraint(
                    f"model {self.model_id} does not honour {constraint.type} constraints "
                    f"(it honours: {honoured})",
                    f"constraints[{i}]",
                )

    def _check_capabilities(self, request: EditRequest) -> None:
        """The regions against what capabilities declare: track count, several tracks, drum
        tracks, tracks empty in the input."""
        caps, score = self.capabilities, request.score
        if caps.max_tracks is not None and len(score.tracks) > caps.max_tracks:
            raise RequestError(
                f"model {self.model_id} reads at most {caps.max_tracks} tracks; the score has {len(score.tracks)}",
                "score.tracks",
            )
        if not caps.multi_track_regions and len({r.track for r in request.regions}) > 1:
            raise RequestError(f"model {self.model_id} rewrites one track per request", "regions")
        for i, region in enumerate(request.regions):
            track = score.tracks[region.track]
            if track.is_drum and not caps.drums:
                raise RequestError(
                    f"model {self.model_id} does not write drum tracks ({track.name or f'track {region.track}'})",
                    f"regions[{i}]",
                )
            if not track.notes and not caps.new_tracks:
                raise RequestError(
                    f"model {self.model_id} rewrites notes and cannot fill a track that is empty "
                    f"({track.name or f'track {region.track}'}); use a model that writes new tracks",
                    f"regions[{i}]",
                )

    # ---- running --------------------------------------------------------------------------

    def inpaint(self, request: EditRequest, options: Options, job: JobContext) -> list[Variation]:
        """Rewrite the regions of request.score; return options.variations variations.

        Notes outside the regions are restored by the engine whatever the model returns,
        but a model should leave them be, and should not write notes past a region's end.
        """
        raise NotImplementedError

    def inpaint_batch(
        self, items: list[tuple[EditRequest, Options, JobContext]]
    ) -> list[list[Variation] | ScorehostError]:
        """Serve several requests at once; the default serves them one after the other.

        An item may be a ScorehostError in place of its variations: that job fails alone
        (cancelled, timed out, or refused) and the others complete.
        """
        results: list[list[Variation] | ScorehostError] = []
        for request, options, job in items:
            try:
                results.append(self.inpaint(request, options, job))
            except ScorehostError as exc:
                results.append(exc)
        return results

    # ---- describing -----------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return {
            "id": self.model_id,
            "description": self.description,
            "capabilities": self.capabilities.as_dict(),
            "options_schema": self.Options.model_json_schema(),
            "uses_accelerator": self.uses_accelerator,
            "device": self.device,
        }
