"""An example third-party scorehost plugin: a rule-based voice that doubles another track a
diatonic third below (or any number of scale steps), within the key in force at each note.

It shows the whole plugin contract in one file: a Model subclass with its Options, the
constraints it honours, and the register_models hook, found through the 'scorehost'
entry-point group declared in pyproject.toml.
"""

from __future__ import annotations

from pydantic import Field

from scorehost.core import (
    Capabilities,
    EditRequest,
    Model,
    Options,
    PitchClasses,
    PitchRange,
    RequestError,
    Score,
    Variation,
    hookimpl,
    merge_result,
)


class ThirdsOptions(Options):
    source: int | str | None = Field(
        default=None,
        description="Track to follow (number, name or role); None: the track above the region's.",
    )
    steps: int = Field(
        default=2,
        ge=1,
        le=14,
        description="Scale steps below the source: 2 is a third, 5 a sixth, 7 an octave.",
    )


class ThirdsBelow(Model):
    model_id = "thirds-below"
    description = (
        "Rule-based: writes the notes of another track a diatonic third (or N scale steps) below, in the key."
    )
    capabilities = Capabilities(
        constraints=frozenset({"pitch_range", "pitch_classes"}), new_tracks=True, tags=("double",)
    )
    Options = ThirdsOptions

    def check(self, request: EditRequest, options: ThirdsOptions) -> None:
        super().check(request, options)
        for region in request.regions:
            source = _source_track(request.score, region.track, options.source)
            if source == region.track:
                raise RequestError(
                    f"track {region.track} cannot follow itself; set the source option", "options.source"
                )
            if request.score.tracks[source].is_drum:  # (drum tracks to write are refused by super())
                raise RequestError("a drum track has no key to move in", "options.source")

    def inpaint(self, request: EditRequest, options: ThirdsOptions, job) -> list[Variation]:
        score = request.score
        draft = [track.model_copy(update={"notes": []}) for track in score.tracks]
        for number, region in enumerate(request.regions):
            job.progress(number / len(request.regions))
            source = score.tracks[_source_track(score, region.track, options.source)]
            low, high, allowed = _limits(request, region.track)
            for note in source.notes:
                if region.start <= note.start < region.end:
                    scale = allowed or score.key_at(note.start).pitch_classes
                    pitch = _fit(_steps_below(note.pitch, options.steps, scale), low, high)
                    draft[region.track].notes.append(note.model_copy(update={"pitch": pitch}))
        # merge_result keeps every note outside the regions as it was, takes the regions' notes
        # from the draft and cuts any that would sound past the end of their region.
        result = merge_result(score, score.model_copy(update={"tracks": draft}), request.regions)
        # A deterministic rule: every variation is the same, with probability one.
        return [Variation(score=result, log_prob=0.0, seed=seed) for seed in options.seeds()]


def _source_track(score: Score, target: int, ref: int | str | None) -> int:
    if ref is None:
        return max(0, target - 1)
    try:
        return score.track_index(ref)
    except KeyError as exc:
        raise RequestError(str(exc.args[0]), "options.source") from None


def _limits(request: EditRequest, track: int) -> tuple[int, int, frozenset[int] | None]:
    low, high, allowed = 0, 127, None
    for constraint in request.constraints:
        if isinstance(constraint, PitchRange) and constraint.track == track:
            low, high = constraint.low, constraint.high
        if isinstance(constraint, PitchClasses) and (constraint.tracks is None or track in constraint.tracks):
            allowed = frozenset(constraint.pitch_classes)
    if allowed is not None and not any(p % 12 in allowed for p in range(low, high + 1)):
        raise RequestError(f"no pitch in {low}..{high} is among the allowed pitch classes", "constraints")
    return low, high, allowed


def _steps_below(pitch: int, steps: int, scale: frozenset[int]) -> int:
    """Walk down the scale: the Nth scale tone below pitch (a chromatic note counts as the
    scale tone just below it, so a third below C# in C major is A)."""
    candidate = pitch
    while candidate % 12 not in scale:
        candidate -= 1
    for _ in range(steps):
        candidate -= 1
        while candidate % 12 not in scale:
            candidate -= 1
    return candidate


def _fit(pitch: int, low: int, high: int) -> int:
    """Move by octaves into [low, high]; if the range is under an octave, the nearest scale-keeping pitch."""
    while pitch < low:
        pitch += 12
    while pitch > high:
        pitch -= 12
    if pitch < low:  # the range is narrower than an octave and misses this pitch class
        raise RequestError(f"pitch class of {pitch} does not fit in {low}..{high}", "constraints")
    return pitch


@hookimpl
def register_models(register):
    register(ThirdsBelow())
